// The trainable weights' values as plain arrays, kept between steps so each crosses from tfjs
// once per update rather than once per pass. A native step feeds every trainable weight to ONNX
// Runtime on every micro-batch (6 passes per step for MobileNetV2 at 224 px), and on tfjs-wasm
// each dataSync() copies the weight out of the wasm heap; the Adam update (array-adam.ts) also
// read every weight back. Now the update leaves its result here as it assigns it, and both read
// it from here. A copy is valid while the variable holds the same data: any other write
// (restoring the best epoch's weights, loading) gives the variable new data, and the next read
// takes a fresh copy.
import * as tf from '@tensorflow/tfjs';

const copies = new WeakMap<tf.Variable, { dataId: object; data: Float32Array }>();

/** The variable's current values. The array is shared: never write into it. */
export function hostValues(v: tf.Variable): Float32Array {
  const kept = copies.get(v);
  if (kept && kept.dataId === v.dataId) return kept.data;
  const data = v.dataSync() as Float32Array;
  copies.set(v, { dataId: v.dataId, data });
  return data;
}

/** Assigns `data` to the variable and keeps it as the variable's host copy (the caller must not write into it afterwards). */
export function assignHost(v: tf.Variable, data: Float32Array): void {
  const value = tf.tensor(data, v.shape, 'float32');
  v.assign(value);
  value.dispose();
  copies.set(v, { dataId: v.dataId, data });
}
