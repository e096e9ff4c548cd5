// One ONNX translation per tfjs-layers class. Every 4-D value is kept NCHW inside the graph
// (ORT's CPU convolutions are NCHW); `Value.shape` stays the Keras shape so configs that speak
// of channels-last axes translate directly.
import type * as tf from '@tensorflow/tfjs';
import { GraphBuilder, type Value } from './graph-builder.js';
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

type Emitter = (a: EmitArgs) => Value[];

function pair(v: unknown, name: string, layer: string, cls: string): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number')) return [v[0] as number, v[1] as number];
  throw new UnsupportedLayerError(layer, cls, `unexpected ${name} ${JSON.stringify(v)}`);
}

function requireChannelsLast(a: EmitArgs): void {
  const df = a.config.dataFormat;
  if (df !== undefined && df !== null && df !== 'channelsLast')
    throw new UnsupportedLayerError(a.layer.name, a.className, `data format ${String(df)}`);
}

/** The layer's weight whose Keras name ends in `suffix` (kernel, bias, gamma, …), as float32. */
function weight(layer: tf.layers.Layer, suffix: string): { data: Float32Array; shape: number[] } | null {
  for (const w of layer.weights) {
    const n = w.originalName;
    if (n === suffix || n.endsWith(`/${suffix}`))
      return { data: Float32Array.from(w.read().dataSync() as Float32Array), shape: w.shape.slice() as number[] };
  }
  return null;
}

function needWeight(a: EmitArgs, suffix: string): { data: Float32Array; shape: number[] } {
  const w = weight(a.layer, suffix);
  if (!w) throw new UnsupportedLayerError(a.layer.name, a.className, `weight ${suffix} not found`);
  return w;
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
function windowPadding(
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

/** Applies a Keras/tfjs activation (by its serialised name) to a value of any layout. */
export function activation(b: GraphBuilder, v: Value, act: unknown, layerName: string, cls: string): Value {
  const name = act === null || act === undefined ? 'linear' : String(act);
  const out = (op: string, inputs: string[], attrs = {}): Value => ({
    name: b.one(op, inputs, attrs, `${layerName}_${name}`),
    shape: v.shape,
    layout: v.layout,
  });
  const lastAxis = v.layout === 'nchw' ? 1 : v.shape.length - 1;
  switch (name) {
    case 'linear':
      return v;
    case 'relu':
      return out('Relu', [v.name]);
    case 'relu6':
      return out('Clip', [v.name, b.scalar('zero', 0), b.scalar('six', 6)]);
    case 'sigmoid':
      return out('Sigmoid', [v.name]);
    case 'tanh':
      return out('Tanh', [v.name]);
    case 'softmax':
      return out('Softmax', [v.name], { axis: lastAxis });
    case 'logSoftmax':
    case 'log_softmax':
      return out('LogSoftmax', [v.name], { axis: lastAxis });
    case 'elu':
      return out('Elu', [v.name], { alpha: { f: 1 } });
    case 'selu':
      return out('Selu', [v.name]);
    case 'softplus':
      return out('Softplus', [v.name]);
    case 'softsign':
      return out('Softsign', [v.name]);
    case 'hardSigmoid':
    case 'hard_sigmoid':
      return out('HardSigmoid', [v.name], { alpha: { f: 0.2 }, beta: { f: 0.5 } });
    case 'swish': {
      const s = b.one('Sigmoid', [v.name], {}, `${layerName}_swish`);
      return out('Mul', [v.name, s]);
    }
    case 'mish': {
      const sp = b.one('Softplus', [v.name], {}, `${layerName}_mish`);
      const th = b.one('Tanh', [sp], {}, `${layerName}_mish`);
      return out('Mul', [v.name, th]);
    }
    case 'gelu': {
      // tfjs: 0.5 · x · (1 + erf(x / √2))
      const d = b.one('Div', [v.name, b.scalar('sqrt2', Math.SQRT2)], {}, `${layerName}_gelu`);
      const e = b.one('Erf', [d], {}, `${layerName}_gelu`);
      const p = b.one('Add', [e, b.scalar('one', 1)], {}, `${layerName}_gelu`);
      const h = b.one('Mul', [p, b.scalar('half', 0.5)], {}, `${layerName}_gelu`);
      return out('Mul', [v.name, h]);
    }
    default:
      throw new UnsupportedLayerError(layerName, cls, `activation ${name}`);
  }
}

function conv2d(a: EmitArgs): Value[] {
  requireChannelsLast(a);
  const { config, layer } = a;
  const k = pair(config.kernelSize, 'kernelSize', layer.name, a.className);
  const s = pair(config.strides ?? 1, 'strides', layer.name, a.className);
  const d = pair(config.dilationRate ?? 1, 'dilationRate', layer.name, a.className);
  if ((config.groups ?? 1) !== 1) throw new UnsupportedLayerError(layer.name, a.className, 'grouped convolution');
  const kernel = needWeight(a, 'kernel'); // [kh, kw, cin, cout]
  const [kh, kw, cin, cout] = kernel.shape as [number, number, number, number];
  const w = new Float32Array(kernel.data.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++) w[((o * cin + i) * kh + y) * kw + x] = kernel.data[((y * kw + x) * cin + i) * cout + o]!;
  return [
    convNode(
      a,
      w,
      [cout, cin, kh, kw],
      config.useBias ? (weight(layer, 'bias')?.data ?? null) : null,
      { kernel_shape: [kh, kw], strides: s, dilations: d, group: 1, ...windowPadding(a, config.padding, k, s, d) },
      cout,
      config.activation,
    ),
  ];
}

function depthwiseKernel(a: EmitArgs, suffix: string): { w: Float32Array; dims: number[]; channels: number } {
  const kernel = needWeight(a, suffix); // [kh, kw, cin, mult]
  const [kh, kw, cin, mult] = kernel.shape as [number, number, number, number];
  const w = new Float32Array(kernel.data.length);
  // ONNX grouped conv, group = cin: output channel c·mult + m reads input channel c — TF's order.
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let c = 0; c < cin; c++)
        for (let m = 0; m < mult; m++) w[((c * mult + m) * kh + y) * kw + x] = kernel.data[((y * kw + x) * cin + c) * mult + m]!;
  return { w, dims: [cin * mult, 1, kh, kw], channels: cin };
}

function depthwiseConv2d(a: EmitArgs): Value[] {
  requireChannelsLast(a);
  const { config, layer } = a;
  const k = pair(config.kernelSize, 'kernelSize', layer.name, a.className);
  const s = pair(config.strides ?? 1, 'strides', layer.name, a.className);
  const d = pair(config.dilationRate ?? 1, 'dilationRate', layer.name, a.className);
  const { w, dims, channels } = depthwiseKernel(a, 'depthwise_kernel');
  const attrs = { kernel_shape: k, strides: s, dilations: d, group: channels, ...windowPadding(a, config.padding, k, s, d) };
  return [convNode(a, w, dims, config.useBias ? (weight(layer, 'bias')?.data ?? null) : null, attrs, dims[0]!, config.activation)];
}

function separableConv2d(a: EmitArgs): Value[] {
  requireChannelsLast(a);
  const { b, config, layer } = a;
  const k = pair(config.kernelSize, 'kernelSize', layer.name, a.className);
  const s = pair(config.strides ?? 1, 'strides', layer.name, a.className);
  const d = pair(config.dilationRate ?? 1, 'dilationRate', layer.name, a.className);
  const { w, dims, channels } = depthwiseKernel(a, 'depthwise_kernel');
  const x = b.toNchw(a.inputs[0]!);
  const dwW = b.floatInit(`${layer.name}_depthwise_W`, dims, w);
  const dw = b.one(
    'Conv',
    [x.name, dwW],
    { kernel_shape: k, strides: s, dilations: d, group: channels, ...windowPadding(a, config.padding, k, s, d) },
    `${layer.name}_depthwise`,
  );
  const pw = needWeight(a, 'pointwise_kernel'); // [1, 1, cin·mult, cout]
  const [, , pin, cout] = pw.shape as [number, number, number, number];
  const pwData = new Float32Array(pw.data.length);
  for (let i = 0; i < pin; i++) for (let o = 0; o < cout; o++) pwData[o * pin + i] = pw.data[i * cout + o]!;
  const mid: Value = { name: dw, shape: a.outShapes[0]!, layout: 'nchw' };
  return [
    convNode(
      { ...a, inputs: [mid] },
      pwData,
      [cout, pin, 1, 1],
      config.useBias ? (weight(layer, 'bias')?.data ?? null) : null,
      { kernel_shape: [1, 1], pads: [0, 0, 0, 0] },
      cout,
      config.activation,
    ),
  ];
}

function convNode(
  a: EmitArgs,
  w: Float32Array,
  dims: number[],
  bias: Float32Array | null,
  attrs: Record<string, number[] | number | string>,
  outChannels: number,
  act: unknown,
): Value {
  const { b, layer } = a;
  const x = b.toNchw(a.inputs[0]!);
  const wName = b.floatInit(`${layer.name}_W`, dims, w);
  const bName = bias ? b.floatInit(`${layer.name}_B`, [outChannels], bias) : null;
  const { names, proto } = b.node('Conv', bName ? [x.name, wName, bName] : [x.name, wName], attrs, layer.name);
  const conv: Value = { name: names[0]!, shape: a.outShapes[0]!, layout: 'nchw' };
  const linear = act === undefined || act === null || act === 'linear';
  if (linear) conv.foldable = { weight: wName, bias: bName, node: proto, outChannels };
  return activation(b, conv, act, layer.name, a.className);
}

function batchNormalization(a: EmitArgs): Value[] {
  const { b, config, layer } = a;
  const input = a.inputs[0]!;
  const rank = input.shape.length;
  const axis = Number(config.axis ?? -1);
  if (axis !== -1 && axis !== rank - 1) throw new UnsupportedLayerError(layer.name, a.className, `normalisation over axis ${axis}`);
  const eps = Number(config.epsilon ?? 1e-3);
  const mean = needWeight(a, 'moving_mean').data;
  const variance = needWeight(a, 'moving_variance').data;
  const c = mean.length;
  const gamma = weight(layer, 'gamma')?.data ?? new Float32Array(c).fill(1);
  const beta = weight(layer, 'beta')?.data ?? new Float32Array(c);

  const f = input.foldable;
  if (f && a.inputIsPrivate && f.outChannels === c) {
    // Fold into the convolution: W' = W·γ/√(σ²+ε), b' = (b − μ)·γ/√(σ²+ε) + β (in float64).
    const w = b.floatData(f.weight);
    const per = w.length / c;
    const folded = new Float32Array(w.length);
    const bias = f.bias ? b.floatData(f.bias) : new Float32Array(c);
    const newBias = new Float32Array(c);
    for (let o = 0; o < c; o++) {
      const scale = gamma[o]! / Math.sqrt(variance[o]! + eps);
      for (let j = 0; j < per; j++) folded[o * per + j] = w[o * per + j]! * scale;
      newBias[o] = (bias[o]! - mean[o]!) * scale + beta[o]!;
    }
    b.setFloatData(f.weight, folded);
    if (f.bias) b.setFloatData(f.bias, newBias);
    else (f.node.input as string[]).push(b.floatInit(`${layer.name}_folded_B`, [c], newBias));
    return [{ name: input.name, shape: a.outShapes[0]!, layout: input.layout }];
  }
  const x = rank === 4 ? b.toNchw(input) : input;
  const args = [
    x.name,
    b.floatInit(`${layer.name}_gamma`, [c], gamma),
    b.floatInit(`${layer.name}_beta`, [c], beta),
    b.floatInit(`${layer.name}_mean`, [c], mean),
    b.floatInit(`${layer.name}_var`, [c], variance),
  ];
  if (rank !== 2 && rank !== 4) throw new UnsupportedLayerError(layer.name, a.className, `input of rank ${rank}`);
  return [{ name: b.one('BatchNormalization', args, { epsilon: { f: eps } }, layer.name), shape: a.outShapes[0]!, layout: x.layout }];
}

function dense(a: EmitArgs): Value[] {
  const { b, config, layer } = a;
  const kernel = needWeight(a, 'kernel'); // [in, out]
  const bias = config.useBias ? (weight(layer, 'bias')?.data ?? null) : null;
  const x = b.toKeras(a.inputs[0]!);
  const units = kernel.shape[1]!;
  const wName = b.floatInit(`${layer.name}_W`, kernel.shape, kernel.data);
  let out: string;
  if (x.shape.length === 2) {
    const inputs = [x.name, wName];
    if (bias) inputs.push(b.floatInit(`${layer.name}_B`, [units], bias));
    out = b.one('Gemm', inputs, {}, layer.name);
  } else {
    out = b.one('MatMul', [x.name, wName], {}, layer.name);
    if (bias) out = b.one('Add', [out, b.floatInit(`${layer.name}_B`, [units], bias)], {}, layer.name);
  }
  return [activation(b, { name: out, shape: a.outShapes[0]!, layout: 'keras' }, config.activation, layer.name, a.className)];
}

function pooling(op: 'MaxPool' | 'AveragePool'): Emitter {
  return (a) => {
    requireChannelsLast(a);
    const { b, config, layer } = a;
    const k = pair(config.poolSize, 'poolSize', layer.name, a.className);
    const s = pair(config.strides ?? config.poolSize, 'strides', layer.name, a.className);
    const x = b.toNchw(a.inputs[0]!);
    // count_include_pad = 0: TF (and tfjs) average only the pixels inside the image at SAME edges.
    const attrs = {
      kernel_shape: k,
      strides: s,
      ...windowPadding(a, config.padding, k, s, [1, 1]),
      ...(op === 'AveragePool' ? { count_include_pad: 0 } : {}),
    };
    return [{ name: b.one(op, [x.name], attrs, layer.name), shape: a.outShapes[0]!, layout: 'nchw' }];
  };
}

function globalPooling(op: 'GlobalAveragePool' | 'GlobalMaxPool'): Emitter {
  return (a) => {
    requireChannelsLast(a);
    const { b, layer } = a;
    const x = b.toNchw(a.inputs[0]!);
    if (x.shape.length !== 4) throw new UnsupportedLayerError(layer.name, a.className, `input of rank ${x.shape.length}`);
    const pooled = b.one(op, [x.name], {}, layer.name);
    // [N, C, 1, 1] is already the NCHW form of keepDims' [N, 1, 1, C].
    if (a.config.keepDims) return [{ name: pooled, shape: a.outShapes[0]!, layout: 'nchw' }];
    return [{ name: b.one('Flatten', [pooled], { axis: 1 }, layer.name), shape: a.outShapes[0]!, layout: 'keras' }];
  };
}

function zeroPadding2d(a: EmitArgs): Value[] {
  requireChannelsLast(a);
  const { b, config, layer } = a;
  const p = config.padding;
  let t: number, bo: number, l: number, r: number;
  if (typeof p === 'number') [t, bo, l, r] = [p, p, p, p];
  else if (Array.isArray(p) && Array.isArray(p[0])) [[t, bo], [l, r]] = p as [[number, number], [number, number]];
  else if (Array.isArray(p)) [t, bo, l, r] = [p[0] as number, p[0] as number, p[1] as number, p[1] as number];
  else throw new UnsupportedLayerError(layer.name, a.className, `padding ${JSON.stringify(p)}`);
  const x = b.toNchw(a.inputs[0]!);
  const pads = b.int64Init(`${layer.name}_pads`, [0, 0, t, l, 0, 0, bo, r]);
  return [{ name: b.one('Pad', [x.name, pads], { mode: 'constant' }, layer.name), shape: a.outShapes[0]!, layout: 'nchw' }];
}

/** All inputs in one layout: NCHW when any is (they are all 4-D then), else Keras. */
function sameLayout(b: GraphBuilder, inputs: Value[]): Value[] {
  const anyNchw = inputs.some((v) => v.layout === 'nchw') && inputs.every((v) => v.shape.length === 4);
  return inputs.map((v) => (anyNchw ? b.toNchw(v) : b.toKeras(v)));
}

function elementwise(op: 'Add' | 'Sub' | 'Mul' | 'Max' | 'Min' | 'Mean'): Emitter {
  return (a) => {
    const { b, layer } = a;
    const xs = sameLayout(b, a.inputs);
    let name: string;
    if (op === 'Sub') name = b.one('Sub', [xs[0]!.name, xs[1]!.name], {}, layer.name);
    else if (op === 'Mean') {
      const sum = b.one(
        'Sum',
        xs.map((x) => x.name),
        {},
        layer.name,
      );
      name = b.one('Div', [sum, b.scalar('count', xs.length)], {}, layer.name);
    } else if (op === 'Add' || op === 'Max' || op === 'Min')
      name = b.one(
        op === 'Add' ? 'Sum' : op,
        xs.map((x) => x.name),
        {},
        layer.name,
      );
    else {
      name = xs[0]!.name;
      for (const x of xs.slice(1)) name = b.one('Mul', [name, x.name], {}, layer.name);
    }
    return [{ name, shape: a.outShapes[0]!, layout: xs[0]!.layout }];
  };
}

function concatenate(a: EmitArgs): Value[] {
  const { b, config, layer } = a;
  const xs = sameLayout(b, a.inputs);
  const rank = xs[0]!.shape.length;
  let axis = Number(config.axis ?? -1);
  if (axis < 0) axis += rank;
  if (xs[0]!.layout === 'nchw') axis = [0, 2, 3, 1][axis]!;
  return [
    {
      name: b.one(
        'Concat',
        xs.map((x) => x.name),
        { axis },
        layer.name,
      ),
      shape: a.outShapes[0]!,
      layout: xs[0]!.layout,
    },
  ];
}

function flatten(a: EmitArgs): Value[] {
  requireChannelsLast(a);
  const x = a.b.toKeras(a.inputs[0]!);
  return [{ name: a.b.one('Flatten', [x.name], { axis: 1 }, a.layer.name), shape: a.outShapes[0]!, layout: 'keras' }];
}

function reshape(a: EmitArgs): Value[] {
  const x = a.b.toKeras(a.inputs[0]!);
  const target = a.config.targetShape as number[];
  const shape = a.b.int64Init(`${a.layer.name}_shape`, [0, ...target.map((d) => (d === null ? -1 : d))]);
  return [{ name: a.b.one('Reshape', [x.name, shape], {}, a.layer.name), shape: a.outShapes[0]!, layout: 'keras' }];
}

/** Keras Permute: `dims` reorder the axes after the batch (1-based), e.g. [2, 1, 3]. */
function permute(a: EmitArgs): Value[] {
  const x = a.b.toKeras(a.inputs[0]!);
  const dims = a.config.dims as number[];
  return [{ name: a.b.one('Transpose', [x.name], { perm: [0, ...dims] }, a.layer.name), shape: a.outShapes[0]!, layout: 'keras' }];
}

function identity(a: EmitArgs): Value[] {
  const v = a.inputs[0]!;
  return [{ name: v.name, shape: v.shape, layout: v.layout }];
}

function reluLayer(a: EmitArgs): Value[] {
  const { b, config, layer } = a;
  const v = a.inputs[0]!;
  const max = config.maxValue;
  if (max === null || max === undefined) return [activation(b, v, 'relu', layer.name, a.className)];
  const clip = b.one('Clip', [v.name, b.scalar('zero', 0), b.scalar(`${layer.name}_max`, Number(max))], {}, layer.name);
  return [{ name: clip, shape: v.shape, layout: v.layout }];
}

function leakyRelu(a: EmitArgs): Value[] {
  const v = a.inputs[0]!;
  return [
    {
      name: a.b.one('LeakyRelu', [v.name], { alpha: { f: Number(a.config.alpha ?? 0.3) } }, a.layer.name),
      shape: v.shape,
      layout: v.layout,
    },
  ];
}

function eluLayer(a: EmitArgs): Value[] {
  const v = a.inputs[0]!;
  return [
    { name: a.b.one('Elu', [v.name], { alpha: { f: Number(a.config.alpha ?? 1) } }, a.layer.name), shape: v.shape, layout: v.layout },
  ];
}

function softmaxLayer(a: EmitArgs): Value[] {
  const v = a.inputs[0]!;
  const rank = v.shape.length;
  const raw = a.config.axis ?? -1;
  if (Array.isArray(raw) && raw.length !== 1) throw new UnsupportedLayerError(a.layer.name, a.className, `softmax over several axes`);
  let axis = Number(Array.isArray(raw) ? raw[0] : raw);
  if (axis < 0) axis += rank;
  if (v.layout === 'nchw') axis = [0, 2, 3, 1][axis]!;
  return [{ name: a.b.one('Softmax', [v.name], { axis }, a.layer.name), shape: v.shape, layout: v.layout }];
}

function rescaling(a: EmitArgs): Value[] {
  const v = a.inputs[0]!;
  const scale = Number(a.config.scale ?? 1);
  const offset = Number(a.config.offset ?? 0);
  let name = a.b.one('Mul', [v.name, a.b.scalar(`${a.layer.name}_scale`, scale)], {}, a.layer.name);
  if (offset !== 0) name = a.b.one('Add', [name, a.b.scalar(`${a.layer.name}_offset`, offset)], {}, a.layer.name);
  return [{ name, shape: v.shape, layout: v.layout }];
}

export const EMITTERS: Record<string, Emitter> = {
  Conv2D: conv2d,
  DepthwiseConv2D: depthwiseConv2d,
  SeparableConv2D: separableConv2d,
  BatchNormalization: batchNormalization,
  Dense: dense,
  MaxPooling2D: pooling('MaxPool'),
  AveragePooling2D: pooling('AveragePool'),
  GlobalAveragePooling2D: globalPooling('GlobalAveragePool'),
  GlobalMaxPooling2D: globalPooling('GlobalMaxPool'),
  ZeroPadding2D: zeroPadding2d,
  Add: elementwise('Add'),
  Subtract: elementwise('Sub'),
  Multiply: elementwise('Mul'),
  Maximum: elementwise('Max'),
  Minimum: elementwise('Min'),
  Average: elementwise('Mean'),
  Concatenate: concatenate,
  Flatten: flatten,
  Reshape: reshape,
  Permute: permute,
  Dropout: identity,
  SpatialDropout1D: identity,
  SpatialDropout2D: identity,
  GaussianNoise: identity,
  GaussianDropout: identity,
  AlphaDropout: identity,
  ActivityRegularization: identity,
  Activation: (a) => [activation(a.b, a.inputs[0]!, a.config.activation, a.layer.name, a.className)],
  ReLU: reluLayer,
  LeakyReLU: leakyRelu,
  ELU: eluLayer,
  Softmax: softmaxLayer,
  Rescaling: rescaling,
};
