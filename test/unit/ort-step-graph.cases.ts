// The small networks the native step's parity tests run (ort-step-graph.test.ts): one case per
// covered layer type, the network around it, the seeded batch and tfjs's loss to compare with.
import { expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Head } from '../../electron/core/engine/head.js';
import { OrtTrainer } from '../../electron/core/engine/ort-train/index.js';

export type Sym = tf.SymbolicTensor;
type Make = (x: Sym) => Sym;

export const L = tf.layers;
export const apply = (layer: tf.layers.Layer, x: Sym | Sym[]) => layer.apply(x) as Sym;

export interface Case {
  name: string;
  shape: [number, number, number];
  make: Make;
}

/** MobileNetV2's downsampling: ZeroPadding (bottom and right) then a valid 3×3 depthwise conv at stride 2. */
export function paddedDepthwiseStride2(x: Sym): Sym {
  return apply(
    L.depthwiseConv2d({ kernelSize: 3, strides: 2, useBias: false }),
    apply(
      L.zeroPadding2d({
        padding: [
          [0, 1],
          [0, 1],
        ],
      }),
      x,
    ),
  );
}
export const CONVOLUTIONS: Case[] = [
  { name: '1×1, bias, relu', shape: [5, 5, 6], make: (x) => apply(L.conv2d({ filters: 7, kernelSize: 1, activation: 'relu' }), x) },
  {
    name: '1×1 on a small map with many channels (strategy 2: batch and channels swapped for the kernel gradient)',
    shape: [2, 2, 16],
    make: (x) => apply(L.conv2d({ filters: 24, kernelSize: 1 }), x),
  },
  { name: '1×1 stride 2', shape: [6, 6, 4], make: (x) => apply(L.conv2d({ filters: 5, kernelSize: 1, strides: 2, useBias: false }), x) },
  { name: '3×3 same', shape: [6, 5, 4], make: (x) => apply(L.conv2d({ filters: 5, kernelSize: 3, padding: 'same' }), x) },
  {
    name: '3×3 valid stride 2, odd',
    shape: [7, 7, 3],
    make: (x) => apply(L.conv2d({ filters: 5, kernelSize: 3, strides: 2, useBias: false }), x),
  },
  {
    name: '3×3 valid stride 2, even',
    shape: [8, 8, 3],
    make: (x) => apply(L.conv2d({ filters: 5, kernelSize: 3, strides: 2, useBias: false }), x),
  },
  {
    name: '3×3 same stride 2, even',
    shape: [8, 8, 3],
    make: (x) => apply(L.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same' }), x),
  },
  {
    name: '1×3 and 3×1 same',
    shape: [5, 5, 4],
    make: (x) =>
      apply(
        L.conv2d({ filters: 4, kernelSize: [3, 1], padding: 'same' }),
        apply(L.conv2d({ filters: 4, kernelSize: [1, 3], padding: 'same' }), x),
      ),
  },
  {
    name: '3×3 same on 1×1 (InceptionV3 at small sizes)',
    shape: [1, 1, 4],
    make: (x) => apply(L.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }), x),
  },
  { name: 'depthwise 3×3 same', shape: [6, 6, 5], make: (x) => apply(L.depthwiseConv2d({ kernelSize: 3, padding: 'same' }), x) },
  {
    name: 'depthwise 3×3 same stride 2',
    shape: [8, 8, 5],
    make: (x) => apply(L.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', useBias: false }), x),
  },
  {
    name: 'depthwise 3×3 valid stride 2 after ZeroPadding (MobileNetV2)',
    shape: [8, 8, 5],
    make: paddedDepthwiseStride2,
  },
  // From 16×16 output pixels up, a depthwise kernel's gradient is one grouped Conv (no taps).
  {
    name: 'depthwise 3×3 same on a 16×16 map',
    shape: [16, 16, 4],
    make: (x) => apply(L.depthwiseConv2d({ kernelSize: 3, padding: 'same' }), x),
  },
  {
    name: 'depthwise 3×3 valid stride 2 after ZeroPadding, 16×16 out (MobileNetV2 at 224 px)',
    shape: [33, 33, 3],
    make: paddedDepthwiseStride2,
  },
  {
    name: 'depthwise 3×3 same stride 2, 16×16 out',
    shape: [32, 32, 3],
    make: (x) => apply(L.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same' }), x),
  },
];

export const OTHERS: Case[] = [
  {
    name: 'BatchNorm (scale and shift) → ReLU6',
    shape: [4, 4, 6],
    make: (x) => apply(L.reLU({ maxValue: 6 }), apply(L.batchNormalization({ epsilon: 1e-3 }), x)),
  },
  {
    name: 'BatchNorm without scale → relu (InceptionV3)',
    shape: [4, 4, 6],
    make: (x) => apply(L.activation({ activation: 'relu' }), apply(L.batchNormalization({ scale: false }), x)),
  },
  { name: 'residual Add', shape: [4, 4, 6], make: (x) => apply(L.add(), [x, apply(L.conv2d({ filters: 6, kernelSize: 1 }), x)]) },
  {
    name: 'Concatenate',
    shape: [4, 4, 4],
    make: (x) =>
      apply(L.concatenate(), [
        apply(L.conv2d({ filters: 2, kernelSize: 1 }), x),
        apply(L.conv2d({ filters: 3, kernelSize: 3, padding: 'same' }), x),
      ]),
  },
  {
    name: 'ZeroPadding2D 1 all round',
    shape: [4, 4, 3],
    make: (x) => apply(L.conv2d({ filters: 3, kernelSize: 3 }), apply(L.zeroPadding2d({ padding: 1 }), x)),
  },
  // A convolution read only by a BatchNorm runs as one Conv with the BatchNorm folded in (the
  // case above BatchNorm → ReLU6 is one too: the 1×1 convolution before each case).
  {
    name: 'depthwise 3×3 stride 2 → BatchNorm → ReLU6, folded',
    shape: [8, 8, 5],
    make: (x) =>
      apply(
        L.reLU({ maxValue: 6 }),
        apply(L.batchNormalization({}), apply(L.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', useBias: false }), x)),
      ),
  },
  {
    name: '3×3 valid with bias → BatchNorm without scale → relu, folded',
    shape: [6, 6, 4],
    make: (x) =>
      apply(
        L.activation({ activation: 'relu' }),
        apply(L.batchNormalization({ scale: false }), apply(L.conv2d({ filters: 5, kernelSize: 3 }), x)),
      ),
  },
  {
    name: 'a convolution read by a BatchNorm and by an Add: not folded',
    shape: [4, 4, 6],
    make: (x) => {
      const z = apply(L.conv2d({ filters: 6, kernelSize: 3, padding: 'same' }), x);
      return apply(L.add(), [z, apply(L.batchNormalization({}), z)]);
    },
  },
];

// Also held to finite differences: tfjs has no gradient for dilated convolutions at all.
export const POOLING: Case[] = [
  {
    name: '3×3 dilation 2 same',
    shape: [7, 7, 3],
    make: (x) => apply(L.conv2d({ filters: 4, kernelSize: 3, dilationRate: 2, padding: 'same' }), x),
  },
  { name: 'MaxPool 3×3 stride 2 valid, odd', shape: [7, 7, 4], make: (x) => apply(L.maxPooling2d({ poolSize: 3, strides: 2 }), x) },
  { name: 'MaxPool 3×3 stride 2 valid, even', shape: [8, 8, 4], make: (x) => apply(L.maxPooling2d({ poolSize: 3, strides: 2 }), x) },
  { name: 'MaxPool 2×2 same', shape: [5, 5, 3], make: (x) => apply(L.maxPooling2d({ poolSize: 2, padding: 'same' }), x) },
  {
    name: 'AvgPool 3×3 stride 1 same (InceptionV3)',
    shape: [5, 5, 4],
    make: (x) => apply(L.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same' }), x),
  },
  { name: 'AvgPool 2×2 valid', shape: [6, 6, 3], make: (x) => apply(L.averagePooling2d({ poolSize: 2 }), x) },
];

/** input → a 1×1 convolution (so the input gradient of the layer under test is used) → the case → head. */
export function network(c: Case, seed: number) {
  const input = tf.input({ shape: c.shape });
  const pre = L.conv2d({
    filters: c.shape[2],
    kernelSize: 1,
    name: `pre_${seed}`,
    kernelInitializer: tf.initializers.glorotUniform({ seed }),
  });
  const net = tf.model({ inputs: input, outputs: c.make(apply(pre, input)) });
  // Seeded weights throughout (two builds are the same network), with non-zero biases, BatchNorm
  // statistics and shifts, so no gradient is trivially zero.
  net.weights.forEach((w, i) => {
    const positive = /(gamma|moving_variance)$/.test(w.originalName);
    const v = w.read() as tf.Variable;
    v.assign(tf.randomUniform(v.shape, positive ? 0.2 : -0.5, positive ? 1.2 : 0.5, 'float32', seed * 100 + i));
  });
  const features = net.outputs[0]!.shape[3] as number;
  const stats = {
    mean: Float32Array.from({ length: features }, (_, i) => 0.1 * (i % 3)),
    variance: Float32Array.from({ length: features }, (_, i) => 0.5 + 0.1 * (i % 4)),
  };
  const head = new Head(features, 3, { denseUnits: 5, dropout: 0.25 }, seed, stats);
  return { net, pre, head, variables: [...net.trainableWeights.map((w) => w.read() as tf.Variable), ...head.variables()] };
}

export const N = 3;
export const LABELS = [0, 2, 1];
export const SHARE = Float32Array.of(0.5, 0.2, 0.3);

/**
 * tfjs's loss as loop.ts computes it, with the head in training mode (the same dropout draw);
 * `smoothing` ε makes the targets (1 − ε)·one-hot + ε/3, as Keras's label_smoothing.
 */
export function tfjsLoss(net: tf.LayersModel, head: Head, x: tf.Tensor, step: number, smoothing = 0): tf.Scalar {
  const p = head.apply(tf.mean(net.apply(x, { training: false }) as tf.Tensor, [1, 2]), true, step);
  const y = tf.add(tf.mul(tf.oneHot(tf.tensor1d(LABELS, 'int32'), 3), 1 - smoothing), smoothing / 3);
  return tf.sum(tf.mul(tf.neg(tf.sum(tf.mul(y, tf.log(tf.clipByValue(p, 1e-7, 1))), 1)), tf.tensor1d(SHARE))) as tf.Scalar;
}

export async function nativeStep(c: Case, seed: number) {
  const parts = network(c, seed);
  const x = tf.randomUniform([N, ...c.shape], -1, 2, 'float32', seed);
  const trainer = await OrtTrainer.open(parts.net, parts.head.spec(), parts.variables);
  const step = 4;
  const out = await trainer.step(x.dataSync() as Float32Array, [N, ...c.shape], LABELS, SHARE, parts.head.dropoutMask(N, step));
  return { ...parts, x, trainer, step, out };
}

export function closeTo(actual: ArrayLike<number>, expected: ArrayLike<number>, rel: number, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  let max = 0;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) {
    max = Math.max(max, Math.abs(expected[i]!));
    diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!));
  }
  expect(diff, `${what}: max|a−b| ${diff} vs max|b| ${max}`).toBeLessThanOrEqual(rel * Math.max(1, max));
}
