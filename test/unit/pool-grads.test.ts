// The pooling gradients of the tfjs training path (kernels/pool-grads.ts) against central finite
// differences of tfjs's own forward pass, on cpu and on wasm. Stock tfjs fails the 'same' cases:
// its AvgPool gradient divides border windows by their full size, and tfjs-wasm's MaxPool
// gradient picks wrong positions (the stock values are checked to differ, so this can fail).
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installPoolGradients } from '../../electron/core/engine/kernels/pool-grads.js';
import { installPortableTraining } from '../../electron/core/engine/backend.js';
import { takeDelegatedKernelsUsed } from '../../electron/core/engine/kernels/wasm-delegate.js';

type Pool = (x: tf.Tensor4D) => tf.Tensor4D;

const CASES: { name: string; shape: [number, number, number, number]; pool: Pool; broken: 'cpu and wasm' | 'wasm' | 'neither' }[] = [
  {
    name: "AvgPool 3×3 stride 1 'same' (InceptionV3)",
    shape: [2, 5, 5, 3],
    pool: (x) => tf.avgPool(x, 3, 1, 'same'),
    broken: 'cpu and wasm',
  },
  { name: "AvgPool 3×3 stride 2 'same'", shape: [1, 6, 6, 2], pool: (x) => tf.avgPool(x, 3, 2, 'same'), broken: 'cpu and wasm' },
  { name: "AvgPool 2×2 'valid'", shape: [1, 6, 6, 2], pool: (x) => tf.avgPool(x, 2, 2, 'valid'), broken: 'neither' },
  { name: "MaxPool 3×3 stride 2 'same'", shape: [2, 5, 5, 3], pool: (x) => tf.maxPool(x, 3, 2, 'same'), broken: 'wasm' },
  { name: "MaxPool 3×3 stride 2 'valid' (InceptionV3)", shape: [1, 7, 7, 2], pool: (x) => tf.maxPool(x, 3, 2, 'valid'), broken: 'neither' },
];

/** Σ w·pool(x) with fixed weights w: its gradient is the pool's gradient applied to w. */
function objective(pool: Pool, x: tf.Tensor4D, w: tf.Tensor): tf.Scalar {
  return tf.sum(tf.mul(pool(x), w)) as tf.Scalar;
}

function gradients(pool: Pool, values: Float32Array, shape: number[]): { analytic: Float32Array; numeric: Float32Array } {
  return tf.tidy(() => {
    const x = tf.tensor4d(values, shape as [number, number, number, number]);
    const outShape = pool(x).shape;
    const w = tf.randomUniform(outShape, -1, 1, 'float32', 9);
    const analytic = tf
      .grad((t) => objective(pool, t as tf.Tensor4D, w))(x)
      .dataSync() as Float32Array;
    const numeric = new Float32Array(values.length);
    const h = 1e-3;
    for (let i = 0; i < values.length; i++) {
      const at = (d: number) => {
        const moved = values.slice();
        moved[i] = moved[i]! + d;
        return objective(pool, tf.tensor4d(moved, shape as [number, number, number, number]), w).dataSync()[0]!;
      };
      numeric[i] = (at(h) - at(-h)) / (2 * h);
    }
    return { analytic: analytic.slice(), numeric };
  });
}

const maxDiff = (a: Float32Array, b: Float32Array) => Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)));

const stock = new Map<string, Float32Array>();

beforeAll(async () => {
  // Stock gradients first, before anything of ours is installed.
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    for (const c of CASES) {
      const values = tf.tidy(() => tf.randomUniform(c.shape, -1, 1, 'float32', 3).dataSync() as Float32Array);
      stock.set(`${backend}/${c.name}`, gradients(c.pool, values, c.shape).analytic);
    }
  }
  installPoolGradients();
  await tf.setBackend('wasm');
  installPortableTraining();
});

describe.each(['cpu', 'wasm'])('pooling gradients on %s', (backend) => {
  for (const c of CASES) {
    it(`${c.name}: equals finite differences${c.broken.includes(backend) ? ' (stock tfjs does not)' : ''}`, async () => {
      await tf.setBackend(backend);
      takeDelegatedKernelsUsed();
      const values = tf.tidy(() => tf.randomUniform(c.shape, -1, 1, 'float32', 3).dataSync() as Float32Array);
      const { analytic, numeric } = gradients(c.pool, values, c.shape);
      expect(maxDiff(analytic, numeric)).toBeLessThan(2e-3);
      const before = stock.get(`${backend}/${c.name}`)!;
      if (c.broken.includes(backend)) expect(maxDiff(before, numeric)).toBeGreaterThan(0.05);
      else expect(maxDiff(before, analytic)).toBeLessThan(1e-6);
      // The wasm MaxPool fix runs cpu's kernel, and says so like every slow path.
      const slow = takeDelegatedKernelsUsed();
      if (backend === 'wasm' && c.broken === 'wasm') expect(slow).toContain('MaxPoolGrad');
    });
  }
});
