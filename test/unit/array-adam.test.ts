// The native step's Adam (ort-train/array-adam.ts) is tf.train.adam's update: after 10 steps of
// the same gradients the weights agree within 1e-5 × max(1, |w|), for weights and gradients of
// very different scales, and with a variable that gets no gradient on some steps; and with the
// fine-tuning recipe's rates (a cosine schedule, a learning-rate factor per layer) against one
// tf.train.adam per factor whose learningRate is set before each step.
import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { ArrayAdam } from '../../electron/core/engine/ort-train/array-adam.js';
import { rateOf, scheduleFactor } from '../../electron/core/engine/recipe.js';

function random(n: number, scale: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return (s / 2 ** 31 - 0.5) * 2 * scale;
  });
}

it.each([1e-4, 1e-2])("weights after 10 steps match tf.train.adam's (learning rate %s)", async (lr) => {
  await tf.setBackend('cpu');
  const shapes: [number[], number][] = [
    [[3, 3, 8, 1], 0.1],
    [[64, 16], 1],
    [[16], 30],
  ];
  const make = (tag: string) =>
    shapes.map(([shape, scale], k) =>
      tf.variable(
        tf.tensor(
          random(
            shape.reduce((a, b) => a * b),
            scale,
            k + 1,
          ),
          shape,
        ),
        true,
        `${tag}_${k}`,
      ),
    );
  const ref = make('ref');
  const ours = make('ours');
  const adam = tf.train.adam(lr);
  const arrays = new ArrayAdam(lr);
  for (let step = 0; step < 10; step++) {
    const grads = shapes.map(([shape, scale], k) =>
      random(
        shape.reduce((a, b) => a * b),
        scale * (step % 3 === 0 ? 1e-3 : 1),
        100 * step + k,
      ),
    );
    // The last variable has no gradient on every fourth step: its moments and bias correction go on regardless.
    const skip = (k: number) => k === 2 && step % 4 === 3;
    const tensors: Record<string, tf.Variable> = {};
    const named: Record<string, Float32Array> = {};
    tf.tidy(() => ref.forEach((v, k) => !skip(k) && (tensors[v.name] = tf.variable(tf.tensor(grads[k]!, v.shape), false))));
    ours.forEach((v, k) => !skip(k) && (named[v.name] = grads[k]!));
    adam.applyGradients(tensors);
    tf.dispose(Object.values(tensors));
    arrays.apply(ours, named);
  }
  ref.forEach((v, k) => {
    const a = v.dataSync();
    const b = ours[k]!.dataSync();
    a.forEach((w, i) => expect(Math.abs(w - b[i]!), `${v.name}[${i}]`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(w))));
    // And the update moved the weights: the comparison is not of two untouched copies.
    expect(Math.max(...Array.from(a, (w, i) => Math.abs(w - random(a.length, shapes[k]![1], k + 1)[i]!)))).toBeGreaterThan(lr / 2);
  });
  adam.dispose();
  tf.dispose([...ref, ...ours]);
});

it("per-layer learning rates under a cosine schedule: weights after 10 steps match tf.train.adam's, one optimizer per rate", async () => {
  await tf.setBackend('cpu');
  const lr = 1e-2;
  const steps = 10;
  // Lower layers slower: factors as recipe.ts's layerRates gives them (0.1 at the bottom, 1 at the top).
  const layers: { shape: number[]; scale: number; factor: number }[] = [
    { shape: [3, 3, 4, 1], scale: 0.1, factor: 0.1 },
    { shape: [32, 8], scale: 1, factor: Math.sqrt(0.1) },
    { shape: [8], scale: 5, factor: 1 },
  ];
  const size = (shape: number[]) => shape.reduce((a, b) => a * b);
  const make = (tag: string) =>
    layers.map(({ shape, scale }, k) => tf.variable(tf.tensor(random(size(shape), scale, k + 7), shape), true, `${tag}_${k}`));
  const ref = make('ref');
  const ours = make('ours');
  const refAdams = layers.map(({ factor }) => tf.train.adam(lr * factor));
  const arrays = new ArrayAdam(lr);
  const factorOf = new Map(ours.map((v, k) => [v, layers[k]!.factor]));
  for (let step = 0; step < steps; step++) {
    const grads = layers.map(({ shape, scale }, k) => random(size(shape), scale, 1000 + 100 * step + k));
    // Keras's CosineDecay (α = 0), written out here rather than taken from recipe.ts.
    const cosine = 0.5 * (1 + Math.cos((Math.PI * step) / steps));
    ref.forEach((v, k) => {
      (refAdams[k] as unknown as { learningRate: number }).learningRate = lr * cosine * layers[k]!.factor;
      const g = tf.tensor(grads[k]!, v.shape);
      refAdams[k]!.applyGradients([{ name: v.name, tensor: g }]);
      g.dispose();
    });
    const scheduled = scheduleFactor('cosine', step, steps);
    expect(scheduled).toBeCloseTo(cosine, 12);
    arrays.apply(ours, Object.fromEntries(ours.map((v, k) => [v.name, grads[k]!])), (v) => rateOf(lr, scheduled, factorOf.get(v)));
  }
  ref.forEach((v, k) => {
    const a = v.dataSync();
    const b = ours[k]!.dataSync();
    a.forEach((w, i) => expect(Math.abs(w - b[i]!), `${v.name}[${i}]`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(w))));
  });
  // The factors took effect: the bottom layer moved about a tenth as far as the top one.
  const moved = (k: number) => {
    const start = random(size(layers[k]!.shape), layers[k]!.scale, k + 7);
    const now = ours[k]!.dataSync();
    return Math.max(...Array.from(now, (w, i) => Math.abs(w - start[i]!)));
  };
  expect(moved(0) / moved(2)).toBeLessThan(0.2);
  refAdams.forEach((a) => a.dispose());
  tf.dispose([...ref, ...ours]);
});
