// tfjs's pooling gradients with 'same' padding are not the derivative of its own forward pass
// (measured against finite differences, test/unit/pool-grads.test.ts):
// - AvgPoolGrad, on cpu and wasm, divides every window by its full size, while the forward pass
//   averages over the window's real pixels only (padding excluded): border gradients come out
//   too small. InceptionV3 has such an average pool in every mixed block.
// - tfjs-wasm's MaxPoolGrad sends gradients to the wrong positions (cpu's is right).
// Both are corrected for the tfjs training path; the native step computes its own (ort-train/).
// Native TensorFlow's kernels are right, and keep the stock gradients.
import * as tf from '@tensorflow/tfjs';
import { delegateToCpu } from './wasm-delegate.js';
import { samePads } from '../onnx/layers.js';

const MAX_POOL_GRAD_ON_CPU = 'StudioMaxPoolGradOnCpu';

interface PoolAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number;
}

const pair = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);

/**
 * Per output position of a 'same' pool over an NHWC input: the window's size over its real
 * pixels, as [1, outH, outW, 1]; null when every window is whole (nothing to correct).
 */
export function borderCorrection(inShape: number[], attrs: PoolAttrs): tf.Tensor4D | null {
  if (attrs.pad !== 'same') return null;
  const [kh, kw] = pair(attrs.filterSize);
  const [sh, sw] = pair(attrs.strides);
  const [h, w] = [inShape[1]!, inShape[2]!];
  const [ho, wo] = [Math.ceil(h / sh), Math.ceil(w / sw)];
  // TensorFlow's SAME padding, the extra pixel at the end (as tfjs computes it).
  const [pt] = samePads(h, kh, sh, 1);
  const [pl] = samePads(w, kw, sw, 1);
  const factor = new Float32Array(ho * wo);
  let whole = true;
  for (let i = 0; i < ho; i++) {
    for (let j = 0; j < wo; j++) {
      const rows = Math.min(i * sh - pt + kh, h) - Math.max(i * sh - pt, 0);
      const cols = Math.min(j * sw - pl + kw, w) - Math.max(j * sw - pl, 0);
      factor[i * wo + j] = (kh * kw) / (rows * cols);
      if (rows * cols !== kh * kw) whole = false;
    }
  }
  return whole ? null : tf.tensor4d(factor, [1, ho, wo, 1]);
}

let installed: string[] | null = null;

/** Registers the corrected gradients of AvgPool and MaxPool (idempotent); returns what it did. */
export function installPoolGradients(): string[] {
  if (installed) return installed;
  delegateToCpu(MAX_POOL_GRAD_ON_CPU, 'MaxPoolGrad');
  const stockAvg = tf.getGradient('AvgPool')!;
  const stockMax = tf.getGradient('MaxPool')!;
  const portable = () => tf.getBackend() === 'cpu' || tf.getBackend() === 'wasm';
  tf.registerGradient({
    ...stockAvg,
    // tfjs's kernel divides by the whole window: scaling dy by window / real pixels first makes
    // it divide by the real pixels, as the forward pass does.
    gradFunc: (dy, saved, attrs) => {
      const correction = portable() ? borderCorrection((saved[0] as tf.Tensor).shape, attrs as unknown as PoolAttrs) : null;
      return stockAvg.gradFunc(correction ? tf.mul(dy as tf.Tensor, correction) : dy, saved, attrs);
    },
  });
  tf.registerGradient({
    ...stockMax,
    gradFunc: (dy, saved, attrs) => {
      if (tf.getBackend() !== 'wasm' || (attrs as unknown as PoolAttrs).pad === 'valid') return stockMax.gradFunc(dy, saved, attrs);
      const [x, y] = saved as [tf.Tensor, tf.Tensor];
      return { x: () => tf.engine().runKernel(MAX_POOL_GRAD_ON_CPU, { dy: dy as tf.Tensor, input: x, output: y }, attrs) as tf.Tensor };
    },
  });
  installed = [
    "gradient of AvgPool with 'same' padding (divides by the real pixels, on cpu and wasm)",
    "gradient of MaxPool with 'same' padding on wasm (cpu's kernel)",
  ];
  return installed;
}
