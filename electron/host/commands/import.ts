// `studio import PROJECT PATH... [--csv FILE] [--no-folder-labels] [--json]`: registers the paths
// as an import source (the CLI is a trusted host) and runs `import.start` on its token, like the
// desktop app after a folder dialog. Progress goes to stderr; Ctrl+C cancels cleanly (what was
// imported stays). Exit 1 when cancelled or when nothing at all could be imported.
import fs from 'node:fs';
import path from 'node:path';
import type { Studio } from '../../core/studio.js';
import { StudioError } from '../../shared/contract.js';
import type { JobProgress } from '../../shared/schemas.js';
import { UsageError } from '../cli-args.js';
import { collectEvents, resolveProject, whileCancellable } from './contract-client.js';
import { DISK_FULL_REASON } from '../../shared/contract-storage.js';

export interface ImportArgs {
  positionals: string[];
  flags: Map<string, string | true>;
  json: boolean;
}

function describeProgress(p: JobProgress): string {
  const pct = p.total > 0 ? ` ${Math.floor((p.done / p.total) * 100)}%` : '';
  const eta = p.etaMs !== null && p.done < p.total ? `, about ${Math.ceil(p.etaMs / 1000)} s left` : '';
  return `${p.phase}: ${p.done}/${p.total}${pct}${eta}${p.message ? ` — ${p.message}` : ''}`;
}

export async function importCommand(
  studio: Studio,
  args: ImportArgs,
  write: (line: string) => void,
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<number> {
  const [, projectRef, ...inputs] = args.positionals;
  const csvFlag = args.flags.get('csv');
  if (!projectRef || (inputs.length === 0 && typeof csvFlag !== 'string')) {
    throw new UsageError('Usage: studio import PROJECT PATH... [--csv FILE] [--no-folder-labels]');
  }
  const paths = inputs.map((p) => path.resolve(p));
  const csv = typeof csvFlag === 'string' ? path.resolve(csvFlag) : undefined;
  for (const p of [...paths, ...(csv ? [csv] : [])]) {
    if (!fs.existsSync(p)) throw new StudioError('not_found', `No such file or folder: ${p}`);
  }
  const project = await resolveProject(studio, projectRef);
  const displayName = paths.length === 1 ? path.basename(paths[0]!) : csv ? path.basename(csv) : `${paths.length} paths`;
  const source = studio.sources.register({ paths, ...(csv ? { csv } : {}), displayName });

  let jobId: string | null = null;
  const finished = collectEvents(studio, 'import.finished');
  const off = studio.bus.subscribe((name, payload) => {
    const p = payload as JobProgress;
    if (name === 'job.progress' && p.jobId === jobId) log(describeProgress(p));
  });
  try {
    const report = await whileCancellable(
      () => void (jobId !== null && studio.call('import.cancel', { jobId }).catch(() => {})),
      async () => {
        jobId = (await studio.call('import.start', { projectId: project.id, source, folderLabels: !args.flags.has('no-folder-labels') }))
          .jobId;
        return (await finished.next((e) => e.report.jobId === jobId)).report;
      },
    );
    const s = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
    write(
      `Imported ${s(report.imported, 'image')} into "${project.name}" (${s(report.duplicates, 'duplicate')}, ${report.skipped.length} skipped${report.cancelled ? ', cancelled' : ''}).`,
    );
    for (const [label, n] of Object.entries(report.labels)) write(`  ${label}: ${n}`);
    for (const k of report.skipped.slice(0, 20)) log(`skipped ${k.path}: ${k.reason}`);
    if (report.skipped.length > 20) log(`… and ${report.skipped.length - 20} more skipped`);
    if (args.json)
      write(JSON.stringify({ imported: report.imported, duplicates: report.duplicates, skipped: report.skipped, labels: report.labels }));
    const nothing = report.imported === 0 && report.duplicates === 0 && report.skipped.length > 0;
    // A full disk stopped the import: the images above went in, the skipped ones did not.
    const full = report.skipped.filter((k) => k.reason === DISK_FULL_REASON).length;
    if (full > 0)
      log(
        `The disk is full: ${full} file${full === 1 ? ' was' : 's were'} not imported (listed as skipped). Free at least 100 MB (studio runs delete / studio exports delete help), then import again; what was imported is kept.`,
      );
    return report.cancelled || nothing || full > 0 ? 1 : 0;
  } finally {
    off();
    finished.stop();
  }
}
