// Disk space from the command line, through the contract like every other client:
//   studio storage PROJECT          bytes of images, thumbnails, runs and exports (storage.project)
//   studio runs delete RUN          a finished run, its model and its exports' records (runs.delete)
//   studio runs describe RUN [--name TEXT] [--notes TEXT]   a run's name and notes (runs.describe)
//   studio exports delete ID        one export's record and, when in the data folder, its files (exports.delete)
// With --json the last line is the call's answer.
import type { Studio } from '../../core/studio.js';
import { UsageError } from '../cli-args.js';
import type { CommandArgs } from './export.js';
import { resolveProject } from './contract-client.js';

export const STORAGE_USAGE = `  storage PROJECT                     disk space of a project: images, thumbnails, runs, exports
  runs delete RUN                     delete a finished run: its model, predictions and exports made
                                      in the data folder (exports saved elsewhere stay where they are)
  runs describe RUN [--name TEXT] [--notes TEXT]
                                      name a run and keep notes on it ("" clears one)
  exports delete ID                   delete an export (its files when it is in the data folder)`;

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

function id(value: string | undefined, what: string, usage: string): number {
  if (value === undefined || !/^\d+$/.test(value) || Number(value) <= 0)
    throw new UsageError(`${what} must be a positive id. Usage: studio ${usage}`);
  return Number(value);
}

export async function storageCommand(studio: Studio, args: CommandArgs, write: (line: string) => void): Promise<number> {
  const [command, sub, ref, ...extra] = args.positionals;
  if (command === 'storage') {
    if (sub === undefined || ref !== undefined) throw new UsageError('Usage: studio storage PROJECT');
    const project = await resolveProject(studio, sub);
    const u = await studio.call('storage.project', { projectId: project.id });
    write(
      `"${project.name}": ${mb(u.total)} (images ${mb(u.images)}, thumbnails ${mb(u.thumbnails)}, runs ${mb(u.runs)}, exports ${mb(u.exports)})`,
    );
    write(`Shared: feature cache ${mb(u.shared.featureCache)}, models ${mb(u.shared.models)}, database ${mb(u.shared.database)}`);
    if (u.freeBytes !== null) write(`Free on this disk: ${mb(u.freeBytes)}`);
    if (args.json) write(JSON.stringify(u));
    return 0;
  }
  if (command === 'runs' && sub === 'describe') {
    if (extra.length > 0) throw new UsageError('Usage: studio runs describe RUN [--name TEXT] [--notes TEXT]');
    const runId = id(ref, 'RUN', 'runs describe RUN [--name TEXT] [--notes TEXT]');
    const name = args.flags.get('name');
    const notes = args.flags.get('notes');
    if (name === true || notes === true) throw new UsageError('--name and --notes take a text (use "" to clear one).');
    if (name === undefined && notes === undefined) throw new UsageError('Give --name TEXT, --notes TEXT or both.');
    await studio.call('runs.describe', { runId, ...(name !== undefined ? { name } : {}), ...(notes !== undefined ? { notes } : {}) });
    const run = await studio.call('runs.get', { runId });
    write(`Run ${runId}: ${run.name ?? '(no name)'}${run.notes ? ` — ${run.notes}` : ''}`);
    if (args.json) write(JSON.stringify({ runId, name: run.name, notes: run.notes }));
    return 0;
  }
  if (sub !== 'delete' || extra.length > 0) throw new UsageError(`Usage: studio ${command} delete ${command === 'runs' ? 'RUN' : 'ID'}`);
  if (command === 'runs') {
    const runId = id(ref, 'RUN', 'runs delete RUN');
    const r = await studio.call('runs.delete', { runId });
    write(`Deleted run ${runId} (${mb(r.freedBytes)} freed, ${r.exportsDeleted} export record${r.exportsDeleted === 1 ? '' : 's'}).`);
    for (const f of r.exportFoldersKept)
      write(`  kept your export folder "${f}" (outside the data folder; delete it yourself if you no longer need it)`);
    if (args.json) write(JSON.stringify(r));
    return 0;
  }
  const exportId = id(ref, 'ID', 'exports delete ID');
  const r = await studio.call('exports.delete', { exportId });
  write(`Deleted export ${exportId} (${mb(r.freedBytes)} freed).`);
  if (r.folderKept)
    write(`  kept your export folder "${r.folderKept}" (outside the data folder; delete it yourself if you no longer need it)`);
  if (args.json) write(JSON.stringify(r));
  return 0;
}
