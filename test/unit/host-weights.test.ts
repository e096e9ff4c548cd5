// The native step's host copies of the weights (ort-train/host-weights.ts): what the Adam update
// assigned is fed without reading it back from tfjs, and a write from anywhere else (restoring
// early stopping's best weights, loading a model) is never hidden by a stale copy.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, it } from 'vitest';
import { assignHost, hostValues } from '../../electron/core/engine/ort-train/host-weights.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

it('gives what was assigned through it, the same array, and the variable holds it too', () => {
  const v = tf.variable(tf.tensor([1, 2, 3]));
  expect(Array.from(hostValues(v))).toEqual([1, 2, 3]);
  const next = Float32Array.of(4, 5, 6);
  assignHost(v, next);
  expect(hostValues(v)).toBe(next);
  expect(Array.from(v.dataSync())).toEqual([4, 5, 6]);
  v.dispose();
});

it('a value assigned by tfjs itself replaces the kept copy', () => {
  const v = tf.variable(tf.tensor([1, 2, 3]));
  assignHost(v, Float32Array.of(4, 5, 6));
  const best = tf.tensor([7, 8, 9]);
  v.assign(best);
  expect(Array.from(hostValues(v))).toEqual([7, 8, 9]);
  tf.dispose([v, best]);
});
