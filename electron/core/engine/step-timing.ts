// The wizard's speed measurement of this engine: one short training step of strategy 2 (above
// the boundary it would pick) and of strategy 1 (the whole base up to the feature layer), timed
// after one warm-up step. Measured rather than derived from the forward speed, so the wizard's
// estimates — and with them its recommendation — follow the engine as it gets faster.
// Gradients only: the weights are not changed (the optimizer's update is a small part of a step).
// The step timed is the one the run will take: the compute plan (compute-plan.ts) decides for both,
// so a step ONNX Runtime refuses (an uncovered layer, or a graph it will not open) is timed in
// tfjs here just as the run trains in tfjs.
import * as tf from '@tensorflow/tfjs';
import type { Base } from './base.js';
import { below, between } from './graph.js';
import { Head } from './head.js';
import { outputBytesPerImage } from './memory.js';
import { stepWords, type ComputePlan } from './compute-plan.js';
import type { OrtTrainer } from './ort-train/index.js';

/** ms per image of the strategy-2 step above which strategy 1 is estimated, not timed. */
const SLOW_PARTIAL_MS = 200;

export interface StepTiming {
  /** ms per image of a training step, strategy 2 (partial) and strategy 1 (full). */
  partial: number;
  full: number;
  /** Where each was timed, in the words the run records (with the fallback's reason). */
  where: { partial: string; full: string };
}

function trainableOf(model: tf.LayersModel): tf.Variable[] {
  const vars: tf.Variable[] = [];
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    vars.push(...layer.trainableWeights.map((w) => w.read() as tf.Variable));
  }
  return vars;
}

/** ms per image of a native step (the trainer's head is the small one `timed` built). */
async function timeNativeStep(trainer: OrtTrainer, model: tf.LayersModel, batch: number): Promise<number> {
  const shape = [batch, ...(model.inputs[0]!.shape as number[]).slice(1)];
  const x = new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => (i % 255) / 255);
  const labels = Array.from({ length: batch }, (_, i) => i % 2);
  const share = new Float32Array(batch).fill(1 / batch);
  const once = () => trainer.step(x, shape, labels, share, null);
  // Two warm-ups: ORT plans the graph on the first and grows its memory arena on the second
  // (fresh pages are slow to touch on some machines); from the third on a step costs the same.
  await once();
  await once();
  const t = performance.now();
  await once();
  return (performance.now() - t) / batch;
}

function timeTfjsStep(model: tf.LayersModel, batch: number, micro: number): number {
  const inShape = (model.inputs[0]!.shape as number[]).slice(1);
  const vars = trainableOf(model);
  const once = () => {
    for (let done = 0; done < batch; done += micro) {
      const n = Math.min(micro, batch - done);
      tf.tidy(() => {
        const x = tf.randomUniform([n, ...inShape], 0, 1, 'float32', 1);
        const { value, grads } = tf.variableGrads(
          () => tf.mean(tf.square(tf.mean(model.apply(x, { training: false }) as tf.Tensor, [1, 2]))) as tf.Scalar,
          vars,
        );
        value.dataSync();
        Object.values(grads).forEach((g) => g?.dataSync());
      });
    }
  };
  once(); // warm-up: kernels set up, memory grown
  const t = performance.now();
  once();
  return (performance.now() - t) / batch;
}

interface Timed {
  /** ms per image, or null when the tfjs step was too slow to time on the whole network. */
  ms: number | null;
  where: string;
}

/** Times one step of `model` where the plan puts it; `tfjsBatch` null: a tfjs step is too slow to time (estimated instead). */
async function timed(plan: ComputePlan, model: tf.LayersModel, tfjsBatch: number | null): Promise<Timed> {
  const batch = 8;
  const vars = trainableOf(model);
  const features = (model.outputs[0]!.shape as number[])[3]!;
  const head = new Head(features, 2, { denseUnits: 0, dropout: 0 }, 1);
  const step = await plan.fineTuneStep(model, head, [...vars, ...head.variables()], batch);
  try {
    // Nothing to train (the cut is at the top layer itself): the step costs nothing measurable.
    if (vars.length === 0) return { ms: 0, where: stepWords(step) };
    if (step.trainer) return { ms: await timeNativeStep(step.trainer, model, batch), where: stepWords(step) };
    if (tfjsBatch === null) return { ms: null, where: stepWords(step) };
    return { ms: timeTfjsStep(model, tfjsBatch, Math.min(step.microBatch, tfjsBatch)), where: stepWords(step) };
  } finally {
    step.trainer?.dispose();
    head.dispose();
  }
}

/**
 * Times both strategies' steps where the plan would run them; `boundary` is the strategy-2 cut,
 * `featureLayer` the top.
 */
export async function measureSteps(base: Base, boundary: string, featureLayer: string, plan: ComputePlan): Promise<StepTiming> {
  const upper = between(base.model, boundary, featureLayer);
  const trunk = below(base.model, featureLayer);
  const wasTrainable = base.model.layers.map((l) => l.trainable);
  try {
    for (const l of base.model.layers) l.trainable = true;
    const partial = await timed(plan, upper, 8);
    // On a slow tfjs engine (tfjs-cpu, the last resort) a whole-network step takes minutes: scale
    // the measured one by how much more the whole network computes, in layer outputs.
    const full = await timed(plan, trunk, partial.ms! < SLOW_PARTIAL_MS ? 2 : null);
    return {
      partial: partial.ms!,
      full: full.ms ?? (partial.ms! * outputBytesPerImage(trunk)) / outputBytesPerImage(upper),
      where: { partial: partial.where, full: full.where },
    };
  } finally {
    base.model.layers.forEach((l, i) => (l.trainable = wasTrainable[i]!));
  }
}
