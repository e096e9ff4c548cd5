// Batch prediction of a run over its project's active images: ONNX Runtime with decoding
// overlapped (runPipeline), results committed every chunk so a cancel keeps what is done.
import fs from 'node:fs/promises';
import type { Db } from '../db/connection.js';
import type { DataPaths } from '../paths.js';
import { decodeForModel } from '../import/preprocess.js';
import type { PredictCtx } from './context.js';
import { BATCH } from './predictor.js';
import { savePredictions, type PredictionInsert } from './store.js';

export interface PredictOptions {
  signal?: AbortSignal;
  /** Images per commit; default CHUNK. */
  chunk?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface PredictReport {
  runId: number;
  projectId: number;
  predicted: number;
  failed: number;
  cancelled: boolean;
  durationMs: number;
  runtime: string;
}

/** Images per commit: a cancel loses at most this much work. */
const CHUNK = 256;
/** Decodes kept in flight across chunk boundaries, so inference never waits on a cold start. */
const AHEAD = BATCH * 2;

interface ImageRef {
  id: number;
  sha256: string;
  format: string;
}

function projectImages(db: Db, projectId: number): ImageRef[] {
  return db
    .prepare("SELECT id, sha256, format FROM images WHERE project_id = ? AND status = 'active' ORDER BY id")
    .all(projectId) as ImageRef[];
}

function reasonOf(err: unknown): string {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'the stored file is missing from the data folder';
  return err instanceof Error ? err.message : String(err);
}

function isAbort(err: unknown, signal?: AbortSignal): boolean {
  return !!signal?.aborted || (err instanceof Error && err.name === 'AbortError');
}

export async function predictProject(
  ctx: Pick<PredictCtx, 'db' | 'paths' | 'sessions'>,
  runId: number,
  opts: PredictOptions = {},
): Promise<PredictReport> {
  const started = Date.now();
  return ctx.sessions.use(ctx.db, runId, async (p) => {
    const { projectId, labels, inputSize } = p.model;
    const images = projectImages(ctx.db, projectId);
    const labelIds = new Map(
      (ctx.db.prepare('SELECT id, name FROM labels WHERE project_id = ?').all(projectId) as { id: number; name: string }[]).map((l) => [
        l.name,
        l.id,
      ]),
    );
    const total = images.length;
    const report: PredictReport = { runId, projectId, predicted: 0, failed: 0, cancelled: false, durationMs: 0, runtime: p.runtime };
    opts.onProgress?.(0, total);

    const inFlight = new Map<number, Promise<Uint8Array>>();
    const startDecode = (k: number) => {
      const img = images[k]!;
      const promise = readAndDecode(ctx.paths, projectId, img, inputSize);
      promise.catch(() => undefined); // consumed (and reported) later, or dropped on cancel
      inFlight.set(k, promise);
    };
    const decode = (k: number): Promise<Uint8Array> => {
      for (let j = k; j < Math.min(total, k + AHEAD); j++) if (!inFlight.has(j)) startDecode(j);
      const promise = inFlight.get(k)!;
      inFlight.delete(k);
      return promise;
    };

    const chunk = opts.chunk ?? CHUNK;
    try {
      for (let start = 0; start < total; start += chunk) {
        opts.signal?.throwIfAborted();
        const count = Math.min(chunk, total - start);
        const errors = new Map<number, string>();
        const probs = await p.predictMany({
          count,
          decode: (i) => decode(start + i),
          ...(opts.signal ? { signal: opts.signal } : {}),
          onProgress: (d) => opts.onProgress?.(start + d, total),
          onDecodeError: (i, err) => errors.set(i, reasonOf(err)),
        });
        const rows: PredictionInsert[] = probs.map((row, i) => {
          const imageId = images[start + i]!.id;
          if (!row)
            return {
              imageId,
              label: null,
              labelId: null,
              confidence: null,
              probabilities: null,
              error: errors.get(i) ?? 'could not be read',
            };
          let best = 0;
          for (let c = 1; c < row.length; c++) if (row[c]! > row[best]!) best = c;
          const label = labels[best]!;
          return {
            imageId,
            label,
            labelId: labelIds.get(label) ?? null,
            confidence: row[best]!,
            probabilities: Object.fromEntries(labels.map((l, c) => [l, row[c]!])),
            error: null,
          };
        });
        savePredictions(ctx.db, runId, p.runtime, rows);
        report.failed += errors.size;
        report.predicted += count - errors.size;
      }
    } catch (err) {
      if (!isAbort(err, opts.signal)) throw err;
      report.cancelled = true;
    }
    report.durationMs = Date.now() - started;
    return report;
  });
}

async function readAndDecode(paths: DataPaths, projectId: number, img: ImageRef, size: number): Promise<Uint8Array> {
  const bytes = await fs.readFile(paths.stored(projectId, img.sha256, img.format));
  return (await decodeForModel(bytes, size)).data;
}
