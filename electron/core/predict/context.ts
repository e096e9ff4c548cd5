// What prediction needs from the studio. The Studio builds one with createPredictCtx and keeps
// it for its life (the session cache must outlive single calls); the CLI builds its own.
import type { Db } from '../db/connection.js';
import type { DataPaths } from '../paths.js';
import type { JobRegistry } from '../jobs.js';
import type { SessionOptions } from '../../../native/onnx-runtime.js';
import type { PredictEventName, PredictEventPayload } from '../../shared/contract-predict.js';
import type { SourceRegistry } from '../sources.js';
import { SessionCache } from './session-cache.js';

export interface PredictCtx {
  db: Db;
  paths: DataPaths;
  jobs: JobRegistry;
  sessions: SessionCache;
  /** Runs with a project prediction in progress (one at a time per run). */
  predicting: Map<number, string>;
  emit: <E extends PredictEventName>(event: E, payload: PredictEventPayload<E>) => void;
  /** Batches of local files hosts registered; `runs.predictFiles` names one by token. */
  sources?: Pick<SourceRegistry, 'takeFiles'>;
}

export function createPredictCtx(
  parts: Pick<PredictCtx, 'db' | 'paths' | 'jobs' | 'emit' | 'sources'>,
  sessionOptions: SessionOptions = {},
): PredictCtx {
  return { ...parts, sessions: new SessionCache(2, sessionOptions), predicting: new Map() };
}

/** Releases every ORT session (Studio.close). */
export function closePredictCtx(ctx: PredictCtx): Promise<void> {
  return ctx.sessions.close();
}
