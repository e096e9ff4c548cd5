// Local files and folders behind opaque tokens: a client names them by token and never sees (or
// invents) a path. Only hosts register them — from a native dialog, a browser upload staged on
// disk, or the command line (the CLI is a trusted host) — so nothing that arrives over the
// WebSocket or IPC can make the core read or write a path of its choosing.
import { randomBytes } from 'node:crypto';
import { StudioError } from '../shared/contract.js';

export interface ImportSource {
  /** Files and/or folders to import. */
  paths: string[];
  /** A CSV of path,label; relative paths resolve against the CSV's folder. */
  csv?: string;
  displayName: string;
  /** Called once the import that used it has finished (e.g. to delete a staged upload). */
  dispose?: () => void;
}

/** A batch of image files to classify (`runs.predictFiles`), in the order results come back. */
export interface FileBatch {
  files: string[];
}

/** A folder the host chose to write into (`exports.start` with `destination`). */
export interface OutputFolder {
  dir: string;
}

/** A new file the host chose to write (`backup.create` with `destination`). */
export interface OutputFile {
  file: string;
}

interface Kinds {
  import: ImportSource;
  files: FileBatch;
  output: OutputFolder;
  'output-file': OutputFile;
}
type Entry = { [K in keyof Kinds]: { kind: K; value: Kinds[K] } }[keyof Kinds];

const GONE: Record<keyof Kinds, string> = {
  import: 'That import source is no longer available; pick the folder or files again.',
  files: 'That batch of files is no longer available; choose the files again.',
  output: 'That output folder is no longer available; choose the folder again.',
  'output-file': 'That output file is no longer available; choose where to save again.',
};

export class SourceRegistry {
  private entries = new Map<string, Entry>();

  register(source: ImportSource): string {
    return this.add({ kind: 'import', value: source });
  }

  /** A token is good for one import. */
  take(token: string): ImportSource {
    return this.takeKind(token, 'import');
  }

  registerFiles(files: string[]): string {
    return this.add({ kind: 'files', value: { files: [...files] } });
  }

  /** A token is good for one prediction. */
  takeFiles(token: string): FileBatch {
    return this.takeKind(token, 'files');
  }

  registerOutputFolder(dir: string): string {
    return this.add({ kind: 'output', value: { dir } });
  }

  /** A token is good for one export. */
  takeOutputFolder(token: string): OutputFolder {
    return this.takeKind(token, 'output');
  }

  registerOutputFile(file: string): string {
    return this.add({ kind: 'output-file', value: { file } });
  }

  /** A token is good for one backup. */
  takeOutputFile(token: string): OutputFile {
    return this.takeKind(token, 'output-file');
  }

  private add(entry: Entry): string {
    const token = randomBytes(12).toString('base64url');
    this.entries.set(token, entry);
    return token;
  }

  // A token of another kind is refused like an unknown one: an upload's token cannot name an output folder.
  private takeKind<K extends keyof Kinds>(token: string, kind: K): Kinds[K] {
    const e = this.entries.get(token);
    if (!e || e.kind !== kind) throw new StudioError('not_found', GONE[kind]);
    this.entries.delete(token);
    return e.value as Kinds[K];
  }
}
