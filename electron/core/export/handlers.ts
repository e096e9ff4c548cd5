// Handlers for the export calls (electron/shared/contract-export.ts), as plain functions of
// (ctx, args). The lead wires them into Studio's handler table; `ExportHandlers` makes a
// missing or extra one a compile error here already.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import type { Db } from '../db/connection.js';
import type { DataPaths } from '../paths.js';
import type { SourceRegistry } from '../sources.js';
import { exportCalls, type ExportEventName, type ExportEventPayload } from '../../shared/contract-export.js';
import { StudioError } from '../../shared/contract.js';
import { exportRun, type ExportEnvironment } from './bundle.js';
import { exportFiles, exportSkipped, freeFolderName } from './files.js';
import { safeSegment } from '../dataset/safe-names.js';
import { quantizePreview } from './preview.js';
import { getExport, listExports, markExportsInterrupted, type ExportRow } from './store.js';

/** Export jobs in flight, by job id, so they can be cancelled. One per Studio. */
export class ExportJobs {
  private active = new Map<string, { runId: number; controller: AbortController; done: Promise<void> }>();

  start(runId: number, run: (signal: AbortSignal, jobId: string) => Promise<void>): string {
    const jobId = `export-${randomBytes(6).toString('hex')}`;
    const controller = new AbortController();
    const done = run(controller.signal, jobId).finally(() => this.active.delete(jobId));
    this.active.set(jobId, { runId, controller, done });
    return jobId;
  }

  cancel(jobId: string): void {
    const job = this.active.get(jobId);
    if (!job) throw new StudioError('not_found', 'That export has already finished.');
    job.controller.abort();
  }

  /** Waits for every job (tests, and Studio.close after cancelAll). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.active.values()].map((j) => j.done));
  }

  async cancelAll(): Promise<void> {
    for (const j of this.active.values()) j.controller.abort();
    await this.settled();
  }
}

export interface ExportCtx extends ExportEnvironment {
  db: Db;
  paths: DataPaths;
  jobs: ExportJobs;
  emit: <E extends ExportEventName>(event: E, payload: ExportEventPayload<E>) => void;
  /** Desktop only: shell.showItemInFolder. */
  reveal?: (file: string) => void;
  /** Output folders hosts registered; `exports.start`'s `destination` names one by token. */
  sources?: Pick<SourceRegistry, 'takeOutputFolder' | 'registerOutputFolder'>;
  /** Desktop only: the native folder dialog of "Save to folder…" (null when cancelled). */
  pickFolder?: () => Promise<string | null>;
}

/** Call once when the Studio opens: exports left running by a host that died are not running. */
export function createExportCtx(parts: Omit<ExportCtx, 'jobs'>): ExportCtx {
  markExportsInterrupted(parts.db);
  return { ...parts, jobs: new ExportJobs() };
}

type ExportCalls = typeof exportCalls;
export type ExportHandlers = {
  [M in keyof ExportCalls]: (
    ctx: ExportCtx,
    args: z.output<ExportCalls[M]['args']>,
  ) => Promise<z.output<ExportCalls[M]['result']>> | z.output<ExportCalls[M]['result']>;
};

export function toExportInfo(r: ExportRow): ExportEventPayload<'export.finished'>['export'] & object {
  return {
    id: r.id,
    runId: r.runId,
    format: r.format,
    parts: r.parts,
    quantized: r.quantized,
    status: r.status,
    folderName: r.dir ? path.basename(r.dir) : null,
    zipName: r.zipPath ? path.basename(r.zipPath) : null,
    hasZip: r.zipPath !== null,
    bytes: r.bytes,
    files: exportFiles(r.dir),
    skipped: exportSkipped(r.dir),
    maxAbsDiff: r.maxAbsDiff,
    agreement: r.agreement,
    imagesChecked: r.imagesChecked,
    accuracyDelta: r.accuracyDelta,
    parity: r.parity,
    error: r.error,
    createdAt: r.createdAt,
    finishedAt: r.finishedAt,
  };
}

function outputFolder(ctx: ExportCtx, token: string): string {
  if (!ctx.sources) throw new StudioError('unsupported', 'This host cannot export into a folder of your choice.');
  return ctx.sources.takeOutputFolder(token).dir;
}

export const exportHandlers: ExportHandlers = {
  'exports.start': (ctx, { runId, formats, quantize, destination }) => {
    // Fail fast on a run that cannot be exported, before handing out a job id (or using up the folder's token).
    const run = ctx.db.prepare('SELECT status FROM runs WHERE id = ?').get(runId) as { status: string } | undefined;
    if (!run) throw new StudioError('not_found', `There is no run ${runId}.`);
    if (run.status !== 'done') throw new StudioError('invalid', `Run ${runId} is ${run.status}; only a finished run can be exported.`);
    const outDir = destination === undefined ? undefined : outputFolder(ctx, destination);
    const jobId = ctx.jobs.start(runId, async (signal, id) => {
      let exportId: number | null = null;
      try {
        const result = await exportRun(ctx, {
          runId,
          parts: formats,
          quantize,
          ...(outDir !== undefined ? { outDir } : {}),
          signal,
          onCreated: (eid) => (exportId = eid),
          onProgress: (phase, done, total, tick) =>
            ctx.emit('export.progress', {
              jobId: id,
              runId,
              exportId,
              phase,
              done,
              total,
              ...(tick ? { fraction: tick.fraction, etaMs: tick.etaMs, detail: tick.detail } : {}),
            }),
        });
        const info = toExportInfo(result.row);
        ctx.emit('export.finished', {
          jobId: id,
          runId,
          exportId: result.row.id,
          status: result.row.status,
          export: info,
          // A finished export that left a part out says which and why.
          message:
            result.row.error ??
            (result.skipped.length ? result.skipped.map((s) => `${s.part} not included: ${s.reason}`).join('; ') : null),
          quantization: result.preview,
        });
      } catch (err) {
        const row = exportId !== null ? getExport(ctx.db, exportId) : null;
        const status = row?.status ?? (err instanceof StudioError && err.code === 'cancelled' ? 'cancelled' : 'failed');
        ctx.emit('export.finished', {
          jobId: id,
          runId,
          exportId,
          status,
          export: row ? toExportInfo(row) : null,
          message: err instanceof Error ? err.message : String(err),
        });
      }
    });
    return { jobId };
  },

  'exports.pickFolder': async (ctx, { runId }) => {
    const row = ctx.db.prepare('SELECT p.name FROM runs r JOIN projects p ON p.id = r.project_id WHERE r.id = ?').get(runId) as
      { name: string } | undefined;
    if (!row) throw new StudioError('not_found', `There is no run ${runId}.`);
    if (!ctx.pickFolder || !ctx.sources)
      throw new StudioError('unsupported', 'Saving to a folder of your choice works in the desktop app; download the .zip instead.');
    const chosen = await ctx.pickFolder();
    if (chosen === null) return null;
    if (!fs.existsSync(chosen) || !fs.statSync(chosen).isDirectory())
      throw new StudioError('not_found', `The folder ${path.basename(chosen)} is not there any more; choose another.`);
    // A new folder inside the chosen one: the user's files there are never in the way, nor overwritten.
    const folderName = freeFolderName(chosen, safeSegment(`${row.name} model run ${runId}`, `model run ${runId}`));
    const destination = ctx.sources.registerOutputFolder(path.join(chosen, folderName));
    return { destination, chosenName: path.basename(chosen) || chosen, folderName };
  },

  'exports.cancel': (ctx, { jobId }) => {
    ctx.jobs.cancel(jobId);
    return { ok: true as const };
  },

  'exports.preview': (ctx, { runId, quantize }) => quantizePreview(ctx.db, ctx.paths, runId, quantize),

  'exports.list': (ctx, { runId }) => listExports(ctx.db, runId).map(toExportInfo),

  'exports.reveal': (ctx, { exportId }) => {
    const row = getExport(ctx.db, exportId);
    if (!ctx.reveal) throw new StudioError('unsupported', 'Showing a folder works in the desktop app only.');
    const target = row.dir ?? row.zipPath;
    if (!target)
      throw new StudioError(
        'not_found',
        `Export ${exportId} has no folder (it ${row.status === 'running' ? 'is still running' : `ended as ${row.status}`}).`,
      );
    if (!fs.existsSync(target)) throw new StudioError('not_found', `Export ${exportId}'s folder is gone (it was at ${target}).`);
    ctx.reveal(target);
    return { ok: true as const };
  },
};
