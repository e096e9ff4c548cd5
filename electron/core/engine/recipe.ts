// The fine-tuning recipe's three knobs as plain functions, shared by the tfjs step and the
// native one (ort-train/) so both train the same way: label smoothing (the targets of the
// loss), cosine decay of the learning rate over the main phase, and per-layer learning rates
// (lower layers, more general and further from the new task, move less).
import type * as tf from '@tensorflow/tfjs';

export type LrSchedule = 'constant' | 'cosine';

/**
 * The loss's target distribution for these labels, row per sample: (1 − ε)·one-hot + ε/classes
 * (as Keras's label_smoothing). A model that may never be sure of a training image keeps
 * learning from the images it already gets right instead of only sharpening them.
 */
export function smoothedTargets(labels: readonly number[], classes: number, smoothing: number): Float32Array {
  if (!(smoothing >= 0 && smoothing < 1)) throw new Error(`Label smoothing must be in [0, 1), not ${smoothing}.`);
  const out = new Float32Array(labels.length * classes).fill(smoothing / classes);
  labels.forEach((l, i) => (out[i * classes + l] = 1 - smoothing + smoothing / classes));
  return out;
}

/**
 * The learning rate's factor at `step` of a phase of `total` steps: 1 throughout, or a half
 * cosine from 1 at the first step towards 0 after the last (Keras's CosineDecay with α = 0),
 * so the phase ends with small steps that settle rather than jump around the minimum.
 */
export function scheduleFactor(schedule: LrSchedule, step: number, total: number): number {
  if (schedule === 'constant' || total <= 0) return 1;
  return 0.5 * (1 + Math.cos((Math.PI * Math.min(step, total)) / total));
}

/**
 * Each variable's learning-rate factor when the lowest of `layers` (input side first, as a
 * model lists them) learns at `lowest` × the rate and each layer above a geometric step more,
 * up to 1 at the top; layers without weights take no step. `lowest` = 1 gives every layer the
 * same rate. Variables not in the map (the head's) learn at the full rate.
 */
export function layerRates(layers: readonly tf.layers.Layer[], lowest: number): Map<tf.Variable, number> {
  if (!(lowest > 0 && lowest <= 1)) throw new Error(`The lowest layer's learning-rate factor must be in (0, 1], not ${lowest}.`);
  const weighted = layers.filter((l) => l.trainableWeights.length > 0);
  const rates = new Map<tf.Variable, number>();
  weighted.forEach((layer, i) => {
    const fromTop = weighted.length === 1 ? 0 : (weighted.length - 1 - i) / (weighted.length - 1);
    for (const w of layer.trainableWeights) rates.set(w.read() as tf.Variable, lowest ** fromTop);
  });
  return rates;
}

/**
 * The learning rate a variable steps with: the phase's rate × the schedule's factor × its
 * layer's factor. One expression for both optimizers, so they round alike.
 */
export function rateOf(lr: number, scheduled: number, layerFactor = 1): number {
  return lr * scheduled * layerFactor;
}
