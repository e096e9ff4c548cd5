// The cpu fast paths for 1×1 convolution gradients agree with tfjs-cpu's own kernels.
import { it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { installCpuPointwiseGrads } from '../../electron/core/engine/kernels/cpu-pointwise-grads.js';

it('1×1 conv gradients match the stock cpu kernels, and other shapes still work', async () => {
  await tf.setBackend('cpu');
  const x = tf.randomNormal([2, 5, 4, 6], 0, 1, 'float32', 1);
  const f1 = tf.randomNormal([1, 1, 6, 7], 0, 1, 'float32', 2);
  const f3 = tf.randomNormal([3, 3, 6, 7], 0, 1, 'float32', 3);
  const grads = (f: tf.Tensor4D) =>
    tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'))))([x, f]);
  const stock1 = grads(f1 as tf.Tensor4D).map((t) => t.arraySync());
  const stock3 = grads(f3 as tf.Tensor4D).map((t) => t.arraySync());
  expect(installCpuPointwiseGrads()).toHaveLength(2);
  const fast1 = grads(f1 as tf.Tensor4D).map((t) => t.dataSync());
  const fast3 = grads(f3 as tf.Tensor4D).map((t) => t.dataSync());
  const close = (a: unknown, b: Float32Array | Int32Array | Uint8Array) => {
    const flat = (a as number[]).flat(4) as number[];
    const scale = Math.max(1, ...flat.map(Math.abs));
    flat.forEach((v, i) => expect(Math.abs(v - b[i]!)).toBeLessThanOrEqual(1e-4 * scale));
  };
  close(stock1[0], fast1[0]!);
  close(stock1[1], fast1[1]!);
  close(stock3[0], fast3[0]!);
  close(stock3[1], fast3[1]!);
});
