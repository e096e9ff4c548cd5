// `studio dataset export PROJECT --out DIR [--format folders|csv] [--include-unlabeled]
// [--include-excluded] [--json]`: registers DIR as an output folder (the CLI is a trusted host)
// and runs `dataset.export` on its token like any client. DIR must be new or empty: the export
// never writes over files. With --json the last line is {projectId, format, status, dir, images,
// bytes, labels, unlabeled, excluded}.
import path from 'node:path';
import type { Studio } from '../../core/studio.js';
import { StudioError } from '../../shared/contract.js';
import { UsageError } from '../cli-args.js';
import type { CommandArgs } from './export.js';
import { collectEvents, resolveProject, whileCancellable } from './contract-client.js';

const USAGE = 'Usage: studio dataset export PROJECT --out DIR [--format folders|csv] [--include-unlabeled] [--include-excluded]';

export function parseDatasetArgs(args: CommandArgs) {
  const [, sub, project, ...extra] = args.positionals;
  if (sub !== 'export' || !project || extra.length) throw new UsageError(USAGE);
  const format = args.flags.get('format') ?? 'folders';
  if (format !== 'folders' && format !== 'csv') throw new UsageError('--format must be folders or csv.');
  const out = args.flags.get('out');
  if (typeof out !== 'string' || out === '') throw new UsageError('--out DIR is required: the folder to export into (new or empty).');
  return {
    project,
    format: format as 'folders' | 'csv',
    out: path.resolve(out),
    includeUnlabeled: args.flags.get('include-unlabeled') === true,
    includeExcluded: args.flags.get('include-excluded') === true,
  };
}

export async function datasetCommand(
  studio: Studio,
  args: CommandArgs,
  write: (line: string) => void,
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<number> {
  const opts = parseDatasetArgs(args);
  const project = await resolveProject(studio, opts.project);
  const destination = studio.sources.registerOutputFolder(opts.out);
  let jobId: string | null = null;
  const finished = collectEvents(studio, 'dataset.exportFinished');
  let lastLogged = 0;
  const off = studio.bus.subscribe((name, payload) => {
    const p = payload as { jobId: string; done: number; total: number; etaMs: number | null };
    if (name !== 'job.progress' || p.jobId !== jobId) return;
    // One line a second at most: a big export would otherwise flood the terminal.
    if (Date.now() - lastLogged < 1000 && p.done !== p.total) return;
    lastLogged = Date.now();
    log(`copying ${p.done}/${p.total}${p.etaMs !== null && p.done < p.total ? `, about ${Math.ceil(p.etaMs / 1000)} s left` : ''}`);
  });
  try {
    const ev = await whileCancellable(
      () => void (jobId !== null && studio.call('dataset.cancelExport', { jobId }).catch(() => {})),
      async () => {
        jobId = (
          await studio.call('dataset.export', {
            projectId: project.id,
            format: opts.format,
            includeUnlabeled: opts.includeUnlabeled,
            includeExcluded: opts.includeExcluded,
            destination,
          })
        ).jobId;
        return finished.next((e) => e.jobId === jobId);
      },
    );
    if (ev.status !== 'done' || !ev.summary)
      throw new StudioError(ev.status === 'cancelled' ? 'cancelled' : 'internal', ev.message ?? `The dataset export ${ev.status}.`);
    const s = ev.summary;
    write(
      `Exported ${s.images} image${s.images === 1 ? '' : 's'} of "${project.name}" (${s.labels} label${s.labels === 1 ? '' : 's'}` +
        `${s.unlabeled ? `, ${s.unlabeled} unlabeled` : ''}${s.excluded ? `, ${s.excluded} excluded` : ''}, ${(s.bytes / 1e6).toFixed(2)} MB) to ${opts.out}.`,
    );
    if (args.json) write(JSON.stringify({ projectId: project.id, format: opts.format, status: ev.status, dir: opts.out, ...s }));
    return 0;
  } finally {
    off();
    finished.stop();
  }
}
