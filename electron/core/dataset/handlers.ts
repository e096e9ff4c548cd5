// `dataset.*` calls: a dataset export runs as a job (progress with ETA on job.progress, cancel by
// id) and ends with `dataset.exportFinished`. Into a host's folder (the CLI's --out) or, without
// one, into the data folder with a .zip beside it for hosts without a folder dialog (the web host
// serves it at /dataset-exports/<key>.zip; the desktop shows it in the file manager).
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import type { Db } from '../db/connection.js';
import type { DataPaths } from '../paths.js';
import type { JobRegistry } from '../jobs.js';
import type { SourceRegistry } from '../sources.js';
import { getProject } from '../library/projects.js';
import { StudioError } from '../../shared/contract.js';
import type { datasetCalls, datasetEvents } from '../../shared/contract-dataset.js';
import { zipFolder } from '../export/zip.js';
import { exportDataset, prepareOutputFolder } from './export.js';
import { safeSegment } from './safe-names.js';
import { recordError } from '../diagnostics/recent-errors.js';
import { asDiskFull, isDiskFull } from '../storage/disk-full.js';

export interface DatasetCtx {
  db: Db;
  paths: DataPaths;
  jobs: JobRegistry;
  sources: Pick<SourceRegistry, 'takeOutputFolder'>;
  emit: (name: 'dataset.exportFinished', payload: z.output<(typeof datasetEvents)['dataset.exportFinished']>) => void;
  reveal?: (file: string) => void;
}

type Calls = typeof datasetCalls;
type DatasetHandlers = { [M in keyof Calls]: (ctx: DatasetCtx, args: z.output<Calls[M]['args']>) => z.output<Calls[M]['result']> };

const KEY = /^[a-f0-9]{16}$/;

/** The data-folder home of exports made without a destination. */
export function datasetExportsDir(paths: DataPaths): string {
  return path.join(paths.root, 'dataset-exports');
}

/** The zip of a finished export made without a destination, or null. The key is checked, never used raw. */
export function datasetZipPath(paths: DataPaths, key: string): string | null {
  if (!KEY.test(key)) return null;
  const dir = path.join(datasetExportsDir(paths), key);
  try {
    const zip = fs.readdirSync(dir).find((f) => f.endsWith('.zip'));
    return zip ? path.join(dir, zip) : null;
  } catch {
    return null;
  }
}

export const datasetHandlers: DatasetHandlers = {
  'dataset.export': (ctx, { projectId, format, includeUnlabeled, includeExcluded, destination }) => {
    const project = getProject(ctx.db, projectId);
    // Checked before a job id is handed out, so a full folder is a clear error on the call itself.
    let outDir: string;
    let key: string | null = null;
    if (destination !== undefined) {
      outDir = path.resolve(ctx.sources.takeOutputFolder(destination).dir);
      prepareOutputFolder(outDir);
    } else {
      key = randomBytes(8).toString('hex');
      outDir = path.join(datasetExportsDir(ctx.paths), key, `${safeSegment(project.name, 'project')}-dataset`);
      fs.mkdirSync(outDir, { recursive: true });
    }
    const { jobId, done } = ctx.jobs.start('dataset-export', projectId, (job) =>
      exportDataset(ctx.db, ctx.paths, outDir, {
        projectId,
        format,
        includeUnlabeled,
        includeExcluded,
        signal: job.signal,
        progress: (phase, d, t) => job.progress(phase, d, t),
      }).then((summary) => {
        if (key !== null) zipFolder(outDir, `${outDir}.zip`);
        return summary;
      }),
    );
    const base = { jobId, projectId, format, folderName: path.basename(outDir) };
    done
      .then((summary) => ctx.emit('dataset.exportFinished', { ...base, status: 'done', key, summary, message: null }))
      .catch((err: unknown) => {
        const cancelled = err instanceof StudioError && err.code === 'cancelled';
        if (!(err instanceof StudioError)) recordError('dataset.export', err);
        // What was copied into a folder the user chose stays (it is theirs to inspect); a data-folder export is removed whole.
        if (key !== null) fs.rmSync(path.dirname(outDir), { recursive: true, force: true });
        ctx.emit('dataset.exportFinished', {
          ...base,
          status: cancelled ? 'cancelled' : 'failed',
          key: null,
          summary: null,
          message: isDiskFull(err)
            ? (asDiskFull(err, 'The dataset export stopped.') as Error).message
            : err instanceof Error
              ? err.message
              : String(err),
        });
      });
    return { jobId };
  },
  'dataset.cancelExport': (ctx, { jobId }) => {
    ctx.jobs.cancel(jobId);
    return { ok: true as const };
  },
  'dataset.revealExport': (ctx, { key }) => {
    if (!ctx.reveal) throw new StudioError('unsupported', 'This window cannot open the file manager; download the .zip instead.');
    const zip = datasetZipPath(ctx.paths, key);
    if (!zip) throw new StudioError('not_found', 'That dataset export is gone.');
    ctx.reveal(zip.slice(0, -'.zip'.length));
    return { ok: true as const };
  },
};
