// `studio backup PROJECT --out FILE [--json]` and `studio restore FILE [--json]`: the CLI registers
// the file (it is a trusted host) and calls `backup.create` / `backup.restore` on its token like
// any client. A backup never writes over an existing file; a restore of a damaged or foreign file
// changes nothing. With --json the last line is {projectId, file, bytes, entries, images, labels,
// runs} (backup) or {projectId, name, bytes, images, labels, runs} (restore).
import path from 'node:path';
import type { Studio } from '../../core/studio.js';
import { UsageError } from '../cli-args.js';
import type { CommandArgs } from './export.js';
import { resolveProject } from './contract-client.js';

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export async function backupCommand(studio: Studio, args: CommandArgs, write: (line: string) => void): Promise<number> {
  const [, ref, ...extra] = args.positionals;
  if (!ref || extra.length) throw new UsageError('Usage: studio backup PROJECT --out FILE');
  const out = args.flags.get('out');
  if (typeof out !== 'string' || out === '') throw new UsageError('--out FILE is required: the backup file to write (a new file).');
  const file = path.resolve(out);
  const project = await resolveProject(studio, ref);
  const r = await studio.call('backup.create', { projectId: project.id, destination: studio.sources.registerOutputFile(file) });
  write(
    `Backed up "${project.name}" (${plural(r.images, 'image')}, ${plural(r.labels, 'label')}, ${plural(r.runs, 'run')}; ${mb(r.bytes)}) to ${file}.`,
  );
  if (args.json)
    write(
      JSON.stringify({ projectId: project.id, file, bytes: r.bytes, entries: r.entries, images: r.images, labels: r.labels, runs: r.runs }),
    );
  return 0;
}

export async function restoreCommand(studio: Studio, args: CommandArgs, write: (line: string) => void): Promise<number> {
  const [, file, ...extra] = args.positionals;
  if (!file || extra.length) throw new UsageError('Usage: studio restore FILE');
  const abs = path.resolve(file);
  const source = studio.sources.register({ paths: [abs], displayName: path.basename(abs) });
  const r = await studio.call('backup.restore', { source });
  write(
    `Restored "${r.project.name}" as project ${r.project.id} (${plural(r.images, 'image')}, ${plural(r.labels, 'label')}, ${plural(r.runs, 'run')}).`,
  );
  if (args.json)
    write(
      JSON.stringify({ projectId: r.project.id, name: r.project.name, bytes: r.bytes, images: r.images, labels: r.labels, runs: r.runs }),
    );
  return 0;
}
