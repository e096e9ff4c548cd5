// The wizard's speed measurement of this engine: one short training step of strategy 2 (above
// the boundary it would pick) and of strategy 1 (the whole base up to the feature layer), timed
// after one warm-up step. Measured rather than derived from the forward speed, so the wizard's
// estimates — and with them its recommendation — follow the engine as it gets faster.
// Gradients only: the weights are not changed (the optimizer's update is a small part of a step).
// The step timed is the one the engine will run: in ONNX Runtime (ort-train/) when it covers the
// network, else in tfjs.
import * as tf from '@tensorflow/tfjs';
import type { Base } from './base.js';
import { below, between } from './graph.js';
import { Head } from './head.js';
import { microBatchFor, outputBytesPerImage } from './memory.js';
import { NotCoveredError, OrtTrainer } from './ort-train/index.js';

/** ms per image of the strategy-2 step above which strategy 1 is estimated, not timed. */
const SLOW_PARTIAL_MS = 200;

export interface StepTiming {
  /** ms per image of a training step, strategy 2 (partial) and strategy 1 (full). */
  partial: number;
  full: number;
}

function trainableOf(model: tf.LayersModel): tf.Variable[] {
  const vars: tf.Variable[] = [];
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    vars.push(...layer.trainableWeights.map((w) => w.read() as tf.Variable));
  }
  return vars;
}

/** ms per image of a native step (with a small head), or null when ORT does not cover the model. */
async function timeNativeStep(model: tf.LayersModel, batch: number): Promise<number | null> {
  const vars = trainableOf(model);
  if (vars.length === 0) return 0;
  const features = (model.outputs[0]!.shape as number[])[3]!;
  const head = new Head(features, 2, { denseUnits: 0, dropout: 0 }, 1);
  let trainer: OrtTrainer | null = null;
  try {
    trainer = await OrtTrainer.open(model, head.spec(), [...vars, ...head.variables()]);
    const shape = [batch, ...(model.inputs[0]!.shape as number[]).slice(1)];
    const x = new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => (i % 255) / 255);
    const labels = Array.from({ length: batch }, (_, i) => i % 2);
    const share = new Float32Array(batch).fill(1 / batch);
    const once = async () => tf.dispose(Object.values((await trainer!.step(x, shape, labels, share, null)).grads));
    // Two warm-ups: ORT plans the graph on the first and grows its memory arena on the second
    // (fresh pages are slow to touch on some machines); from the third on a step costs the same.
    await once();
    await once();
    const t = performance.now();
    await once();
    return (performance.now() - t) / batch;
  } catch (err) {
    if (err instanceof NotCoveredError) return null;
    throw err;
  } finally {
    trainer?.dispose();
    head.dispose();
  }
}

function timeStep(model: tf.LayersModel, batch: number): number {
  const inShape = (model.inputs[0]!.shape as number[]).slice(1);
  const micro = microBatchFor(model, batch);
  const vars = trainableOf(model);
  // Nothing to train (the cut is at the top layer itself): the step costs nothing measurable.
  if (vars.length === 0) return 0;
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

/**
 * Times both strategies' steps; `boundary` is the strategy-2 cut, `featureLayer` the top.
 * `native`: time the step in ONNX Runtime where it covers the network (as the engine trains).
 */
export async function measureSteps(base: Base, boundary: string, featureLayer: string, native = true): Promise<StepTiming> {
  const upper = between(base.model, boundary, featureLayer);
  const trunk = below(base.model, featureLayer);
  const wasTrainable = base.model.layers.map((l) => l.trainable);
  try {
    for (const l of base.model.layers) l.trainable = true;
    if (native) {
      const partial = await timeNativeStep(upper, 8);
      const full = partial === null ? null : await timeNativeStep(trunk, 8);
      if (partial !== null && full !== null) return { partial, full };
    }
    const partial = timeStep(upper, 8);
    // On a slow engine (tfjs-cpu, the last resort) a whole-network step takes minutes: scale the
    // measured one by how much more the whole network computes, in layer outputs.
    const full = partial < SLOW_PARTIAL_MS ? timeStep(trunk, 2) : (partial * outputBytesPerImage(trunk)) / outputBytesPerImage(upper);
    return { partial, full };
  } finally {
    base.model.layers.forEach((l, i) => (l.trainable = wasTrainable[i]!));
  }
}
