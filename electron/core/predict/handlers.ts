// Handlers for the prediction calls (electron/shared/contract-predict.ts), as plain functions
// of (ctx, args). The lead wires them into Studio's handler table; `PredictHandlers` makes a
// missing or extra one a compile error here already.
import type { z } from 'zod';
import { predictCalls, type PredictCalls } from '../../shared/contract-predict.js';
import { StudioError, describeIssues } from '../../shared/contract.js';
import { getRun } from '../training/runs.js';
import type { PredictCtx } from './context.js';
import { classifyImage } from './classify.js';
import { predictProject } from './predict-project.js';
import { predictFiles } from './predict-files.js';
import { runModel } from './run-model.js';
import { pagePredictions } from './store.js';

export type PredictHandlers = {
  [M in keyof PredictCalls]: (
    ctx: PredictCtx,
    args: z.output<PredictCalls[M]['args']>,
  ) => Promise<z.output<PredictCalls[M]['result']>> | z.output<PredictCalls[M]['result']>;
};

/** Starts a project prediction as a job; its end comes as `predict.finished`, whatever the outcome. */
export function startProjectPrediction(
  ctx: PredictCtx,
  runId: number,
  opts: { chunk?: number } = {},
): { jobId: string; done: Promise<void> } {
  const model = runModel(ctx.db, runId); // a run without a model fails the call itself, not the job
  const running = ctx.predicting.get(runId);
  if (running) throw new StudioError('conflict', `Run ${runId} is already predicting this project (job ${running}).`);
  const started = Date.now();
  const { jobId, done } = ctx.jobs.start('predict', model.projectId, (job) =>
    predictProject(ctx, runId, { ...opts, signal: job.signal, onProgress: (d, t) => job.progress('predicting', d, t) }),
  );
  ctx.predicting.set(runId, jobId);
  const base = { runId, projectId: model.projectId, jobId };
  const finished = done
    .then((r) =>
      ctx.emit('predict.finished', {
        ...base,
        status: r.cancelled ? 'cancelled' : 'done',
        predicted: r.predicted,
        failed: r.failed,
        durationMs: r.durationMs,
        runtime: r.runtime,
      }),
    )
    .catch((err: unknown) =>
      ctx.emit('predict.finished', {
        ...base,
        status: 'failed',
        predicted: 0,
        failed: 0,
        durationMs: Date.now() - started,
        runtime: null,
        error: err instanceof Error ? err.message : String(err),
      }),
    )
    .finally(() => ctx.predicting.delete(runId));
  return { jobId, done: finished };
}

export const predictHandlers = {
  'runs.classify': (ctx, { runId, dataBase64 }) => classifyImage(ctx, runId, Buffer.from(dataBase64, 'base64')),
  'runs.predictFiles': (ctx, { runId, files }) => {
    if (!ctx.sources) throw new StudioError('unsupported', 'This host cannot classify files by name; use runs.classify.');
    return predictFiles(ctx, runId, ctx.sources.takeFiles(files).files);
  },
  'runs.predictProject': (ctx, { runId }) => ({ jobId: startProjectPrediction(ctx, runId).jobId }),
  'runs.cancelPrediction': (ctx, { jobId }) => {
    if (![...ctx.predicting.values()].includes(jobId)) throw new StudioError('not_found', 'That prediction has already finished.');
    ctx.jobs.cancel(jobId);
    return { ok: true as const };
  },
  'runs.predictions': (ctx, { runId, offset, limit }) => {
    getRun(ctx.db, runId);
    return pagePredictions(ctx.db, runId, offset, limit);
  },
} satisfies PredictHandlers;

/** Validates args like Studio.invoke does, for hosts that call these before the lead merges the contract. */
export async function invokePredict<M extends keyof PredictCalls>(
  ctx: PredictCtx,
  method: M,
  rawArgs: unknown,
): Promise<z.output<PredictCalls[M]['result']>> {
  const parsed = predictCalls[method].args.safeParse(rawArgs ?? {});
  if (!parsed.success) throw new StudioError('invalid', `${method}: ${describeIssues(parsed.error)}`);
  const handler = predictHandlers[method] as (c: PredictCtx, a: unknown) => unknown;
  return predictCalls[method].result.parse(await handler(ctx, parsed.data)) as z.output<PredictCalls[M]['result']>;
}
