// What the user picked to import, behind an opaque token: the renderer names a source by its
// token and never sees (or invents) a path. Hosts register sources from a native dialog, a
// browser upload staged on disk, or command-line arguments.
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

export class SourceRegistry {
  private sources = new Map<string, ImportSource>();

  register(source: ImportSource): string {
    const token = randomBytes(12).toString('base64url');
    this.sources.set(token, source);
    return token;
  }

  /** A token is good for one import. */
  take(token: string): ImportSource {
    const s = this.sources.get(token);
    if (!s) throw new StudioError('not_found', 'That import source is no longer available; pick the folder or files again.');
    this.sources.delete(token);
    return s;
  }
}
