// The native step's Adam (ort-train/array-adam.ts) is tf.train.adam's update: after 10 steps of
// the same gradients the weights agree within 1e-5 × max(1, |w|), for weights and gradients of
// very different scales, and with a variable that gets no gradient on some steps.
import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { ArrayAdam } from '../../electron/core/engine/ort-train/array-adam.js';

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
