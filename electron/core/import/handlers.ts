// Handlers of the import calls (import.*, jobs.active), spread into Studio's table, and the direct
// import the CLI and tests use. Both run the import as a job and announce its end as `import.finished`.
import { StudioError, type Handlers } from '../../shared/contract.js';
import type { ImportReport } from '../../shared/schemas.js';
import type { Db } from '../db/connection.js';
import type { DataPaths } from '../paths.js';
import type { EventBus } from '../events.js';
import type { JobRegistry } from '../jobs.js';
import type { ImportSource, SourceRegistry } from '../sources.js';
import { getProject } from '../library/projects.js';
import { runImport } from './importer.js';

type ImportHandlers = Pick<Handlers, 'import.pickSource' | 'import.start' | 'import.cancel' | 'jobs.active'>;

export interface ImportCtx {
  db: Db;
  paths: DataPaths;
  jobs: JobRegistry;
  bus: EventBus;
  sources: SourceRegistry;
  /** The desktop host's native dialog; other hosts upload instead. */
  pickSource?: ((kind: 'folder' | 'files' | 'csv') => Promise<ImportSource | null>) | undefined;
}

function startImport(ctx: ImportCtx, projectId: number, source: ImportSource, folderLabels: boolean) {
  return ctx.jobs.start('import', projectId, (job) => runImport(ctx, { projectId, source, folderLabels }, job));
}

/** Imports paths directly and waits for the report (CLI and tests); the UI goes through import.start with a token. */
export async function importPaths(ctx: ImportCtx, projectId: number, source: ImportSource, folderLabels: boolean): Promise<ImportReport> {
  getProject(ctx.db, projectId);
  const { jobId, done } = startImport(ctx, projectId, source, folderLabels);
  const report = { jobId, ...(await done) };
  ctx.bus.emit('import.finished', { projectId, report });
  return report;
}

export function importHandlers(ctx: ImportCtx): ImportHandlers {
  return {
    'import.pickSource': async ({ kind }) => {
      if (!ctx.pickSource) throw new StudioError('unsupported', 'This window has no native file dialog; use the upload button.');
      const source = await ctx.pickSource(kind);
      return source ? { source: ctx.sources.register(source), displayName: source.displayName } : null;
    },
    'import.start': ({ projectId, source, folderLabels }) => {
      getProject(ctx.db, projectId);
      const picked = ctx.sources.take(source);
      const { jobId, done } = startImport(ctx, projectId, picked, folderLabels);
      // The call answers at once; the report (or why there is none) comes as an event.
      done
        .then((r) => ctx.bus.emit('import.finished', { projectId, report: { jobId, ...r } }))
        .catch((err: unknown) =>
          ctx.bus.emit('import.finished', {
            projectId,
            report: {
              jobId,
              imported: 0,
              duplicates: 0,
              skipped: [{ path: picked.displayName, reason: err instanceof Error ? err.message : String(err) }],
              labels: {},
              cancelled: err instanceof StudioError && err.code === 'cancelled',
              durationMs: 0,
            },
          }),
        )
        .finally(() => picked.dispose?.());
      return { jobId };
    },
    'import.cancel': ({ jobId }) => {
      ctx.jobs.cancel(jobId);
      return { ok: true as const };
    },
    'jobs.active': () => ctx.jobs.active(),
  };
}
