// One image through a trained run ("Try it" in the UI, `studio predict`).
import { StudioError } from '../../shared/contract.js';
import type { ClassifyResult } from '../../shared/contract-predict.js';
import { decodeForModel, ImageRejected } from '../import/preprocess.js';
import type { PredictCtx } from './context.js';

/** Probabilities in the run's label order → the result the contract returns. */
export function describe(labels: string[], probs: Float32Array, runtime: string): ClassifyResult {
  const ranked = labels.map((label, i) => ({ label, p: probs[i]! })).sort((a, b) => b.p - a.p);
  return {
    label: ranked[0]!.label,
    probability: ranked[0]!.p,
    probabilities: Object.fromEntries(labels.map((l, i) => [l, probs[i]!])),
    top: ranked.slice(0, 5),
    runtime,
  };
}

/** The one input contract: bytes → decodeForModel at the run's size. Unreadable bytes are the caller's mistake. */
export async function pixelsFor(bytes: Uint8Array, size: number): Promise<Uint8Array> {
  try {
    return (await decodeForModel(bytes, size)).data;
  } catch (err) {
    if (err instanceof ImageRejected) throw new StudioError('invalid', `This image cannot be read: ${err.message}.`);
    throw err;
  }
}

export async function classifyImage(ctx: Pick<PredictCtx, 'db' | 'sessions'>, runId: number, bytes: Uint8Array): Promise<ClassifyResult> {
  return ctx.sessions.use(ctx.db, runId, async (p) => {
    const pixels = await pixelsFor(bytes, p.model.inputSize);
    const [probs] = await p.predict([pixels]);
    return describe(p.model.labels, probs!, p.runtime);
  });
}
