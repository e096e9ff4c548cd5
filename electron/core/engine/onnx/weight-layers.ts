// Layers with learned weights: the convolutions, Dense and BatchNormalization, which folds into
// the convolution before it when nothing else reads that convolution's output. tfjs stores
// kernels channels-last ([kh, kw, cin, cout]); ONNX Conv wants [cout, cin, kh, kw].
import type { Value } from './graph-builder.js';
import { UnsupportedLayerError } from './errors.js';
import { activation } from './activation-layers.js';
import { biasOf, needWeight, pair, requireChannelsLast, weight, windowPadding, type EmitArgs, type Emitter } from './emit-args.js';

/** Kernel size, strides and dilations of a 2-D convolution, each as [rows, columns]. */
function convWindow(a: EmitArgs): { k: [number, number]; s: [number, number]; d: [number, number] } {
  const { config, layer } = a;
  return {
    k: pair(config.kernelSize, 'kernelSize', layer.name, a.className),
    s: pair(config.strides ?? 1, 'strides', layer.name, a.className),
    d: pair(config.dilationRate ?? 1, 'dilationRate', layer.name, a.className),
  };
}

function conv2d(a: EmitArgs): Value[] {
  requireChannelsLast(a);
  const { config, layer } = a;
  const { k, s, d } = convWindow(a);
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
      biasOf(a),
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
  const { config } = a;
  const { k, s, d } = convWindow(a);
  const { w, dims, channels } = depthwiseKernel(a, 'depthwise_kernel');
  const attrs = { kernel_shape: k, strides: s, dilations: d, group: channels, ...windowPadding(a, config.padding, k, s, d) };
  return [convNode(a, w, dims, biasOf(a), attrs, dims[0]!, config.activation)];
}

function separableConv2d(a: EmitArgs): Value[] {
  requireChannelsLast(a);
  const { b, config, layer } = a;
  const { k, s, d } = convWindow(a);
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
      biasOf(a),
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
  const bias = biasOf(a);
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

export const WEIGHT_LAYERS: Record<string, Emitter> = {
  Conv2D: conv2d,
  DepthwiseConv2D: depthwiseConv2d,
  SeparableConv2D: separableConv2d,
  BatchNormalization: batchNormalization,
  Dense: dense,
};
