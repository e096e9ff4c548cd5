// What every layer converter gets (the builder, the layer, its config, its inputs) and the
// helpers they share to read a tfjs-layers config and weights. Every 4-D value is kept NCHW
// inside the graph (ORT's CPU convolutions are NCHW); `Value.shape` stays the Keras shape so
// configs that speak of channels-last axes translate directly.
import type * as tf from '@tensorflow/tfjs';
import type { GraphBuilder, Value } from './graph-builder.js';
import { UnsupportedLayerError } from './errors.js';

type Config = Record<string, unknown>;
type Shape = (number | null)[];

export interface EmitArgs {
  b: GraphBuilder;
  layer: tf.layers.Layer;
  className: string;
  config: Config;
  inputs: Value[];
  outShapes: Shape[];
  /** The first input has no other consumer and is not a requested output: BN may fold into it. */
  inputIsPrivate: boolean;
}

/** One layer's translation: the ONNX values standing for its outputs. */
export type Emitter = (a: EmitArgs) => Value[];

export function pair(v: unknown, name: string, layer: string, cls: string): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number')) return [v[0] as number, v[1] as number];
  throw new UnsupportedLayerError(layer, cls, `unexpected ${name} ${JSON.stringify(v)}`);
}

export function requireChannelsLast(a: EmitArgs): void {
  const df = a.config.dataFormat;
  if (df !== undefined && df !== null && df !== 'channelsLast')
    throw new UnsupportedLayerError(a.layer.name, a.className, `data format ${String(df)}`);
}

/** The layer's weight whose Keras name ends in `suffix` (kernel, bias, gamma, …), as float32. */
export function weight(layer: tf.layers.Layer, suffix: string): { data: Float32Array; shape: number[] } | null {
  for (const w of layer.weights) {
    const n = w.originalName;
    if (n === suffix || n.endsWith(`/${suffix}`))
      return { data: Float32Array.from(w.read().dataSync() as Float32Array), shape: w.shape.slice() as number[] };
  }
  return null;
}

export function needWeight(a: EmitArgs, suffix: string): { data: Float32Array; shape: number[] } {
  const w = weight(a.layer, suffix);
  if (!w) throw new UnsupportedLayerError(a.layer.name, a.className, `weight ${suffix} not found`);
  return w;
}

/** The layer's bias when its config uses one (a layer may say useBias and still have none). */
export function biasOf(a: EmitArgs): Float32Array | null {
  return a.config.useBias ? (weight(a.layer, 'bias')?.data ?? null) : null;
}

/** A Keras axis (of the channels-last shape) as the axis of `v` in its own layout. */
export function layoutAxis(v: Value, kerasAxis: number): number {
  const axis = kerasAxis < 0 ? kerasAxis + v.shape.length : kerasAxis;
  return v.layout === 'nchw' ? [0, 2, 3, 1][axis]! : axis;
}

/** TensorFlow's SAME padding: extra pixel at the end (bottom/right), as ONNX SAME_UPPER. */
export function samePads(inSize: number, k: number, s: number, d: number): [number, number] {
  const eff = (k - 1) * d + 1;
  const out = Math.ceil(inSize / s);
  const total = Math.max((out - 1) * s + eff - inSize, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** pads/auto_pad attributes for a 2-D window op on a Keras-shaped input. */
export function windowPadding(
  a: EmitArgs,
  padding: unknown,
  k: [number, number],
  s: [number, number],
  d: [number, number],
): Record<string, number[] | string> {
  if (padding === 'valid') return { pads: [0, 0, 0, 0] };
  if (padding !== 'same') throw new UnsupportedLayerError(a.layer.name, a.className, `padding ${String(padding)}`);
  const h = a.inputs[0]!.shape[1];
  const w = a.inputs[0]!.shape[2];
  if (typeof h !== 'number' || typeof w !== 'number') return { auto_pad: 'SAME_UPPER' };
  const [t, bo] = samePads(h, k[0], s[0], d[0]);
  const [l, r] = samePads(w, k[1], s[1], d[1]);
  return { pads: [t, l, bo, r] };
}
