// One whole training step as one ONNX graph, so ONNX Runtime runs it natively on every core:
// the trainable network's forward pass, the head (pooling, standardization, dropout, dense
// layers, softmax), the weighted cross-entropy, and the gradient of every trainable weight.
// tfjs-wasm runs one thread of 128-bit SIMD and pays a kernel launch per op; this graph runs in
// ORT's fused, multi-threaded, AVX-512 kernels. The weights stay tfjs variables (the saved model
// and the optimizer keep using them): each step feeds their values in and gets gradients out.
//
// The backward pass is written out per Keras layer type, in channels-last layout like the
// weights, and follows tfjs's own gradient formulas (ReLU6 mask x > 0 && x ≤ 6, the clipped
// log of the loss), so a step here and a step in tfjs agree to float rounding — the parity test
// (test/integration/ort-step-parity.test.ts) holds them to it. A layer type not covered here
// throws NotCoveredError and the engine trains that network on tfjs-wasm instead.
import * as tf from '@tensorflow/tfjs';
import { GraphBuilder, DataType, type AttrValue } from '../onnx/graph-builder.js';

type Sym = tf.SymbolicTensor;

export class NotCoveredError extends Error {
  constructor(layer: string, why: string) {
    super(`${layer}: ${why}`);
    this.name = 'NotCoveredError';
  }
}

export interface DenseWeights {
  kernel: tf.Variable;
  bias: tf.Variable;
}

/** The head as Head (head.ts) computes it, on the trunk's pooled output. */
export interface HeadSpec {
  mean: Float32Array;
  invStd: Float32Array;
  hidden: DenseWeights | null;
  out: DenseWeights;
  dropout: boolean;
}

export interface StepGraph {
  model: Uint8Array;
  /** Fed from these variables on every step; `grad` is the output holding their gradient. */
  params: { input: string; grad: string; variable: tf.Variable }[];
  classes: number;
  featureDim: number;
  /** Inputs: x [n,h,w,c], labels [n,classes] one-hot, weight [n] (each sample's share of the loss), dropout_mask [n,featureDim] when dropout. */
  dropout: boolean;
}

/** The Keras layer classes a step graph covers. */
export const COVERED_LAYERS = ['InputLayer', 'Conv2D', 'DepthwiseConv2D', 'BatchNormalization', 'ReLU', 'Activation', 'Add', 'Concatenate', 'ZeroPadding2D', 'MaxPooling2D', 'AveragePooling2D'] as const;

const EPS = 1e-7; // loop.ts clips probabilities to [EPS, 1] before the log

/** TensorFlow's SAME padding: the extra pixel goes at the end. */
function samePads(size: number, k: number, s: number, d: number): [number, number] {
  const eff = (k - 1) * d + 1;
  const out = Math.ceil(size / s);
  const total = Math.max((out - 1) * s + eff - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

function pair(v: unknown, fallback: number): [number, number] {
  if (v === undefined || v === null) return [fallback, fallback];
  if (typeof v === 'number') return [v, v];
  const a = v as number[];
  return [a[0]!, a[1] ?? a[0]!];
}

/** Graph state while emitting: values, which need gradients, and gradients as they accumulate. */
class Emitter {
  readonly b = new GraphBuilder();
  readonly value = new Map<number, string>();
  /** Whether a value depends on a trainable weight (only those need their gradient computed). */
  readonly needs = new Map<number, boolean>();
  private readonly grads = new Map<number, string[]>();
  readonly params: StepGraph['params'] = [];
  private readonly consts = new Map<string, string>();

  constructor(
    private readonly trainable: Set<tf.Variable>,
    private readonly withGrads: boolean,
  ) {}

  op(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, base = op): string {
    return this.b.one(op, inputs, attrs, base);
  }

  ints(values: number[]): string {
    const key = `i:${values.join(',')}`;
    let name = this.consts.get(key);
    if (!name) this.consts.set(key, (name = this.b.int64Init('c', values)));
    return name;
  }

  scalar(v: number): string {
    const key = `f:${v}`;
    let name = this.consts.get(key);
    if (!name) this.consts.set(key, (name = this.b.scalar('s', v)));
    return name;
  }

  floats(base: string, dims: number[], data: Float32Array): string {
    return this.b.floatInit(base, dims, data);
  }

  /** A variable as a graph input when it trains, else as a constant. */
  variable(v: tf.Variable, base: string): { name: string; trains: boolean; grad: string } {
    const dims = v.shape as number[];
    if (this.trainable.has(v)) {
      const input = this.b.unique(`param_${base}`);
      const grad = this.b.unique(`grad_${base}`);
      this.b.addInput(input, DataType.FLOAT, dims);
      if (this.withGrads) this.b.addOutput(grad, DataType.FLOAT, dims);
      this.params.push({ input, grad, variable: v });
      return { name: input, trains: true, grad };
    }
    return { name: this.floats(base, dims, Float32Array.from(v.dataSync() as Float32Array)), trains: false, grad: '' };
  }

  /** The layer's weight whose Keras name ends in `suffix`, or null. */
  weight(layer: tf.layers.Layer, suffix: string): { name: string; trains: boolean; grad: string; shape: number[] } | null {
    const v = variableOf(layer, suffix);
    return v ? { ...this.variable(v, `${layer.name}_${suffix}`), shape: v.shape as number[] } : null;
  }

  /** Writes a gradient to the graph output a weight's gradient goes to. */
  setGrad(output: string, from: string): void {
    this.b.node('Identity', [from], {}, output, 1, [output]);
    this.gradsSet.add(output);
  }

  readonly gradsSet = new Set<string>();

  addGrad(s: Sym, g: string): void {
    const list = this.grads.get(s.id) ?? [];
    list.push(g);
    this.grads.set(s.id, list);
  }

  gradOf(s: Sym): string | null {
    const list = this.grads.get(s.id);
    if (!list || list.length === 0) return null;
    return list.length === 1 ? list[0]! : this.op('Sum', list, {}, 'grad_sum');
  }

  nchw(x: string): string {
    return this.op('Transpose', [x], { perm: [0, 3, 1, 2] }, 'nchw');
  }

  nhwc(x: string): string {
    return this.op('Transpose', [x], { perm: [0, 2, 3, 1] }, 'nhwc');
  }

  /** Σ over every axis but the last (batch and space), for per-channel gradients. */
  channelSum(x: string, rank: number): string {
    return this.op('ReduceSum', [x, this.ints(Array.from({ length: rank - 1 }, (_, i) => i))], { keepdims: 0 }, 'channel_sum');
  }

  mask(cond: string): string {
    return this.op('Cast', [cond], { to: DataType.FLOAT }, 'mask');
  }
}

type Backward = (dy: string) => void;

function variableOf(layer: tf.layers.Layer, suffix: string): tf.Variable | null {
  for (const w of layer.weights) {
    const n = w.originalName;
    if (n === suffix || n.endsWith(`/${suffix}`)) return w.read() as tf.Variable;
  }
  return null;
}

function dims(s: Sym, layer: string): number[] {
  const shape = s.shape.slice(1);
  if (shape.some((d) => typeof d !== 'number')) throw new NotCoveredError(layer, 'needs fixed spatial sizes');
  return shape as number[];
}

/** Emits one layer's forward pass; returns its backward pass (called with the output's gradient). */
function emitLayer(e: Emitter, layer: tf.layers.Layer, ins: Sym[], out: Sym): { y: string; backward: Backward } {
  const cls = layer.getClassName();
  const cfg = layer.getConfig() as Record<string, unknown>;
  const x = e.value.get(ins[0]!.id)!;
  const xNeeds = (i = 0) => e.needs.get(ins[i]!.id) === true;
  if (cfg.dataFormat !== undefined && cfg.dataFormat !== 'channelsLast') throw new NotCoveredError(layer.name, `data format ${String(cfg.dataFormat)}`);
  switch (cls) {
    case 'Conv2D':
    case 'DepthwiseConv2D':
      return convolution(e, layer, cls === 'DepthwiseConv2D', cfg, ins[0]!, out, x, xNeeds());
    case 'BatchNormalization':
      return batchNorm(e, layer, cfg, ins[0]!, x, xNeeds());
    case 'ReLU': {
      const max = cfg.maxValue as number | null | undefined;
      if (Number(cfg.negativeSlope ?? 0) !== 0 || Number(cfg.threshold ?? 0) !== 0) throw new NotCoveredError(layer.name, 'leaky or thresholded ReLU');
      const y = max === null || max === undefined ? e.op('Relu', [x]) : e.op('Clip', [x, e.scalar(0), e.scalar(max)], {}, 'relu6');
      return {
        y,
        backward: (dy) => {
          if (!xNeeds()) return;
          // tfjs: relu's step(x) times clipByValue's (0 ≤ relu(x) ≤ max) = x > 0 && x ≤ max.
          let keep = e.op('Greater', [x, e.scalar(0)]);
          if (max !== null && max !== undefined) keep = e.op('And', [keep, e.op('LessOrEqual', [x, e.scalar(max)])]);
          e.addGrad(ins[0]!, e.op('Mul', [dy, e.mask(keep)], {}, 'relu_grad'));
        },
      };
    }
    case 'Activation':
      return activation(e, layer.name, String(cfg.activation), x, (g) => xNeeds() && e.addGrad(ins[0]!, g));
    case 'Add': {
      const y = ins.slice(1).reduce((acc, s) => e.op('Add', [acc, e.value.get(s.id)!]), x);
      return { y, backward: (dy) => ins.forEach((s, i) => xNeeds(i) && e.addGrad(s, dy)) };
    }
    case 'Concatenate': {
      const rank = out.shape.length;
      const axis = Number(cfg.axis ?? -1);
      if (axis !== -1 && axis !== rank - 1) throw new NotCoveredError(layer.name, `concatenation over axis ${axis}`);
      const y = e.op('Concat', ins.map((s) => e.value.get(s.id)!), { axis: rank - 1 });
      const sizes = ins.map((s) => s.shape[rank - 1] as number);
      return {
        y,
        backward: (dy) => {
          const parts = e.b.node('Split', [dy, e.ints(sizes)], { axis: rank - 1 }, 'concat_grad', ins.length).names;
          ins.forEach((s, i) => xNeeds(i) && e.addGrad(s, parts[i]!));
        },
      };
    }
    case 'ZeroPadding2D': {
      const [[t, bo], [l, r]] = (cfg.padding as [[number, number], [number, number]]) ?? [
        [1, 1],
        [1, 1],
      ];
      const [h, w] = dims(ins[0]!, layer.name);
      const y = e.op('Pad', [x, e.ints([0, t, l, 0, 0, bo, r, 0])], {}, 'pad');
      return { y, backward: (dy) => xNeeds() && e.addGrad(ins[0]!, e.op('Slice', [dy, e.ints([t, l]), e.ints([t + h!, l + w!]), e.ints([1, 2])], {}, 'pad_grad')) };
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D':
      return pooling(e, layer, cls === 'MaxPooling2D', cfg, ins[0]!, out, x, xNeeds());
    default:
      throw new NotCoveredError(layer.name, `layer type ${cls}`);
  }
}

function activation(e: Emitter, name: string, act: string, z: string, give: (g: string) => unknown): { y: string; backward: Backward } {
  if (act === 'linear') return { y: z, backward: (dy) => give(dy) };
  if (act === 'relu') return { y: e.op('Relu', [z]), backward: (dy) => give(e.op('Mul', [dy, e.mask(e.op('Greater', [z, e.scalar(0)]))], {}, 'relu_grad')) };
  throw new NotCoveredError(name, `activation ${act}`);
}

function convolution(e: Emitter, layer: tf.layers.Layer, depthwise: boolean, cfg: Record<string, unknown>, inSym: Sym, out: Sym, x: string, xNeeds: boolean): { y: string; backward: Backward } {
  const [kh, kw] = pair(cfg.kernelSize, 1);
  const [sh, sw] = pair(cfg.strides, 1);
  const [dh, dw] = pair(cfg.dilationRate, 1);
  const [h, w, ci] = dims(inSym, layer.name) as [number, number, number];
  const [ho, wo, co] = dims(out, layer.name) as [number, number, number];
  if (depthwise && Number(cfg.depthMultiplier ?? 1) !== 1) throw new NotCoveredError(layer.name, 'depth multiplier > 1');
  if (!depthwise && Number(cfg.groups ?? 1) !== 1) throw new NotCoveredError(layer.name, 'grouped convolution');
  const padding = String(cfg.padding ?? 'valid');
  if (padding !== 'same' && padding !== 'valid') throw new NotCoveredError(layer.name, `padding ${padding}`);
  const [pt, pb] = padding === 'same' ? samePads(h, kh, sh, dh) : [0, 0];
  const [pl, pr] = padding === 'same' ? samePads(w, kw, sw, dw) : [0, 0];
  const K = e.weight(layer, depthwise ? 'depthwise_kernel' : 'kernel');
  if (!K) throw new NotCoveredError(layer.name, 'kernel not found');
  const bias = cfg.useBias === false ? null : e.weight(layer, 'bias');
  const pointwise = !depthwise && kh === 1 && kw === 1 && sh === 1 && sw === 1;
  const convAttrs = { kernel_shape: [kh, kw], strides: [sh, sw], dilations: [dh, dw], pads: [pt, pl, pb, pr], ...(depthwise ? { group: ci } : {}) };

  // Forward. A 1×1 convolution is a matrix product over the channels, right in NHWC.
  let k2d = '';
  let kOihw = '';
  let z: string;
  if (pointwise) {
    k2d = e.op('Reshape', [K.name, e.ints([ci, co])], {}, 'k2d');
    z = e.op('MatMul', [x, k2d], {}, layer.name);
  } else {
    kOihw = depthwise
      ? e.op('Reshape', [e.op('Transpose', [e.op('Reshape', [K.name, e.ints([kh, kw, ci])])], { perm: [2, 0, 1] }), e.ints([ci, 1, kh, kw])], {}, 'k_oihw')
      : e.op('Transpose', [K.name], { perm: [3, 2, 0, 1] }, 'k_oihw');
    z = e.nhwc(e.op('Conv', [e.nchw(x), kOihw], convAttrs, layer.name));
  }
  if (bias) z = e.op('Add', [z, bias.name], {}, `${layer.name}_bias`);
  let dzOf: (dy: string) => string = (dy) => dy;
  const act = activation(e, layer.name, String(cfg.activation ?? 'linear'), z, (g) => g);
  if (act.y !== z) dzOf = (dy) => e.op('Mul', [dy, e.mask(e.op('Greater', [z, e.scalar(0)]))], {}, 'relu_grad');

  return {
    y: act.y,
    backward: (dy) => {
      const dz = dzOf(dy);
      if (bias?.trains) e.setGrad(bias.grad, e.channelSum(dz, 4));
      const dz2d = () => e.op('Reshape', [dz, e.ints([-1, co])], {}, 'dz2d');
      if (pointwise) {
        if (K.trains) e.setGrad(K.grad, e.op('Reshape', [e.op('Gemm', [e.op('Reshape', [x, e.ints([-1, ci])]), dz2d()], { transA: 1 }), e.ints([1, 1, ci, co])], {}, 'dk'));
        if (xNeeds) e.addGrad(inSym, e.op('Reshape', [e.op('Gemm', [dz2d(), k2d], { transB: 1 }), e.ints([-1, h, w, ci])], {}, 'dx'));
        return;
      }
      if (xNeeds) {
        // The input's gradient is the transposed convolution, padded back to the input's size.
        const opH = h - ((ho - 1) * sh + (kh - 1) * dh + 1 - pt - pb);
        const opW = w - ((wo - 1) * sw + (kw - 1) * dw + 1 - pl - pr);
        e.addGrad(inSym, e.nhwc(e.op('ConvTranspose', [e.nchw(dz), kOihw], { ...convAttrs, output_padding: [opH, opW] }, 'dx')));
      }
      if (K.trains) {
        // The kernel's gradient, one tap at a time: the input seen through that tap (a strided
        // slice of the padded input) against dz — a matrix product, or for depthwise a
        // per-channel sum of products.
        const xp = pt + pb + pl + pr > 0 ? e.op('Pad', [x, e.ints([0, pt, pl, 0, 0, pb, pr, 0])], {}, 'xpad') : x;
        const taps: string[] = [];
        const dzFlat = depthwise ? '' : dz2d();
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) {
            const seen = e.op('Slice', [xp, e.ints([i * dh, j * dw]), e.ints([i * dh + sh * (ho - 1) + 1, j * dw + sw * (wo - 1) + 1]), e.ints([1, 2]), e.ints([sh, sw])], {}, 'tap');
            taps.push(depthwise ? e.channelSum(e.op('Mul', [seen, dz]), 4) : e.op('Gemm', [e.op('Reshape', [seen, e.ints([-1, ci])]), dzFlat], { transA: 1 }, 'tap_grad'));
          }
        }
        const all = taps.length === 1 ? taps[0]! : e.op('Concat', taps, { axis: 0 });
        e.setGrad(K.grad, e.op('Reshape', [all, e.ints(K.shape)], {}, 'dk'));
      }
    },
  };
}

function batchNorm(e: Emitter, layer: tf.layers.Layer, cfg: Record<string, unknown>, inSym: Sym, x: string, xNeeds: boolean): { y: string; backward: Backward } {
  const rank = inSym.shape.length;
  const axis = Number(Array.isArray(cfg.axis) ? (cfg.axis as number[])[0] : (cfg.axis ?? -1));
  if (axis !== -1 && axis !== rank - 1) throw new NotCoveredError(layer.name, `normalisation over axis ${axis}`);
  const eps = Number(cfg.epsilon ?? 1e-3);
  const meanW = variableOf(layer, 'moving_mean');
  const varW = variableOf(layer, 'moving_variance');
  if (!meanW || !varW) throw new NotCoveredError(layer.name, 'moving statistics missing');
  const mean = Float32Array.from(meanW.dataSync() as Float32Array);
  const variance = varW.dataSync() as Float32Array;
  const c = mean.length;
  const inv = Float32Array.from(variance, (v) => 1 / Math.sqrt(v + eps));
  const gamma = e.weight(layer, 'gamma');
  const beta = e.weight(layer, 'beta');
  // Frozen statistics (inference mode, as the engine trains): y = x·a + b, a = γ/√(σ²+ε), b = β − μ·a.
  const invC = e.floats(`${layer.name}_inv`, [c], inv);
  const meanC = e.floats(`${layer.name}_mean`, [c], mean);
  const a = gamma ? e.op('Mul', [gamma.name, invC], {}, 'bn_a') : invC;
  const shift = e.op('Mul', [meanC, a], {}, 'bn_mu_a');
  const bb = beta ? e.op('Sub', [beta.name, shift], {}, 'bn_b') : e.op('Neg', [shift]);
  const y = e.op('Add', [e.op('Mul', [x, a]), bb], {}, layer.name);
  return {
    y,
    backward: (dy) => {
      if (beta?.trains) e.setGrad(beta.grad, e.channelSum(dy, rank));
      if (gamma?.trains) e.setGrad(gamma.grad, e.channelSum(e.op('Mul', [dy, e.op('Mul', [e.op('Sub', [x, meanC]), invC], {}, 'xhat')]), rank));
      if (xNeeds) e.addGrad(inSym, e.op('Mul', [dy, a], {}, 'bn_dx'));
    },
  };
}

function pooling(e: Emitter, layer: tf.layers.Layer, max: boolean, cfg: Record<string, unknown>, inSym: Sym, out: Sym, x: string, xNeeds: boolean): { y: string; backward: Backward } {
  const [kh, kw] = pair(cfg.poolSize, 2);
  const [sh, sw] = pair(cfg.strides ?? cfg.poolSize, 2);
  const [h, w, c] = dims(inSym, layer.name) as [number, number, number];
  const [ho, wo] = dims(out, layer.name) as [number, number, number];
  const padding = String(cfg.padding ?? 'valid');
  const [pt, pb] = padding === 'same' ? samePads(h, kh, sh, 1) : [0, 0];
  const [pl, pr] = padding === 'same' ? samePads(w, kw, sw, 1) : [0, 0];
  const attrs = { kernel_shape: [kh, kw], strides: [sh, sw], pads: [pt, pl, pb, pr] };
  const y = e.nhwc(e.op(max ? 'MaxPool' : 'AveragePool', [e.nchw(x)], max ? attrs : { ...attrs, count_include_pad: 0 }, layer.name));
  // Both gradients scatter per-tap values back through a transposed convolution whose kernel
  // picks that tap: input channel (c, tap) → output channel c at the tap's offset.
  const opH = h - ((ho - 1) * sh + kh - pt - pb);
  const opW = w - ((wo - 1) * sw + kw - pl - pr);
  const scatterAttrs = { kernel_shape: [kh, kw], strides: [sh, sw], pads: [pt, pl, pb, pr], output_padding: [opH, opW], group: c };
  return {
    y,
    backward: (dy) => {
      if (!xNeeds) return;
      if (!max) {
        // Each output's gradient, divided by how many real (unpadded) inputs its window saw,
        // goes back to each of them: a transposed depthwise convolution with a kernel of ones.
        const counts = new Float32Array(ho * wo);
        for (let i = 0; i < ho; i++) {
          for (let j = 0; j < wo; j++) {
            const rows = Math.min(i * sh - pt + kh, h) - Math.max(i * sh - pt, 0);
            const cols = Math.min(j * sw - pl + kw, w) - Math.max(j * sw - pl, 0);
            counts[i * wo + j] = 1 / (rows * cols);
          }
        }
        const scaled = e.op('Mul', [dy, e.floats(`${layer.name}_counts`, [1, ho, wo, 1], counts)]);
        const ones = e.floats(`${layer.name}_ones`, [c, 1, kh, kw], new Float32Array(c * kh * kw).fill(1));
        e.addGrad(inSym, e.nhwc(e.op('ConvTranspose', [e.nchw(scaled), ones], { ...scatterAttrs }, 'avgpool_grad')));
        return;
      }
      // Max: each output's gradient goes to the first input (row-major in its window) holding
      // the maximum, as tfjs does; padding never wins.
      const xp = pt + pb + pl + pr > 0 ? e.op('Pad', [x, e.ints([0, pt, pl, 0, 0, pb, pr, 0]), e.scalar(-3.4e38)], {}, 'xpad') : x;
      let taken = '';
      const parts: string[] = [];
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          const seen = e.op('Slice', [xp, e.ints([i, j]), e.ints([i + sh * (ho - 1) + 1, j + sw * (wo - 1) + 1]), e.ints([1, 2]), e.ints([sh, sw])], {}, 'tap');
          const hit = e.op('Equal', [seen, y]);
          const first = taken ? e.op('And', [hit, e.op('Not', [taken])]) : hit;
          taken = taken ? e.op('Or', [taken, hit]) : hit;
          parts.push(e.op('Unsqueeze', [e.op('Mul', [dy, e.mask(first)]), e.ints([4])]));
        }
      }
      // [n, ho, wo, c, taps] → channels-first [n, c·taps, ho, wo] for the scatter.
      const stacked = e.op('Reshape', [e.op('Transpose', [e.op('Concat', parts, { axis: 4 })], { perm: [0, 3, 4, 1, 2] }), e.ints([-1, c * kh * kw, ho, wo])]);
      const pick = new Float32Array(c * kh * kw * kh * kw);
      for (let ch = 0; ch < c; ch++) for (let t = 0; t < kh * kw; t++) pick[(ch * kh * kw + t) * kh * kw + t] = 1;
      const kernel = e.floats(`${layer.name}_taps`, [c * kh * kw, 1, kh, kw], pick);
      e.addGrad(inSym, e.nhwc(e.op('ConvTranspose', [stacked, kernel], scatterAttrs, 'maxpool_grad')));
    },
  };
}

function topological(output: Sym): Sym[] {
  const seen = new Set<number>();
  const order: Sym[] = [];
  const visit = (s: Sym) => {
    if (seen.has(s.id)) return;
    seen.add(s.id);
    for (const i of s.inputs ?? []) visit(i);
    order.push(s);
  };
  visit(output);
  return order;
}

/**
 * The step graph for `trunk` (one NHWC input → the feature map the head pools) and the head.
 * `trainable` are the variables to compute gradients for; other weights become constants.
 * Throws NotCoveredError for a layer it does not cover.
 */
export function buildStepGraph(trunk: tf.LayersModel, head: HeadSpec, trainable: tf.Variable[], opts: { gradients: boolean } = { gradients: true }): StepGraph {
  if (trunk.inputs.length !== 1 || trunk.outputs.length !== 1) throw new NotCoveredError(trunk.name, 'needs one input and one output');
  const e = new Emitter(new Set(trainable), opts.gradients);
  const b = e.b;
  const input = trunk.inputs[0]!;
  const inShape = input.shape.slice(1) as number[];
  for (const name of ['x', 'labels', 'weight', 'dropout_mask', 'probs', 'loss']) b.reserve(name);
  b.addInput('x', DataType.FLOAT, [null, ...inShape]);
  e.value.set(input.id, 'x');
  e.needs.set(input.id, false);

  const backward: { out: Sym; run: Backward }[] = [];
  for (const s of topological(trunk.outputs[0]!)) {
    if (e.value.has(s.id)) continue;
    const ins = s.inputs ?? [];
    if (ins.length === 0) throw new NotCoveredError(s.sourceLayer.name, 'a second model input');
    const layer = s.sourceLayer;
    const { y, backward: run } = emitLayer(e, layer, ins, s);
    e.value.set(s.id, y);
    e.needs.set(s.id, ins.some((i) => e.needs.get(i.id)) || layer.weights.some((w) => e.params.some((p) => p.variable === w.read())));
    backward.push({ out: s, run });
  }

  // Head: global average pool → standardize → dropout → [Dense(relu)] → Dense(softmax).
  const fmSym = trunk.outputs[0]!;
  const [fh, fw, fd] = dims(fmSym, 'feature map') as [number, number, number];
  if (fd !== head.mean.length) throw new NotCoveredError('head', `expects ${head.mean.length} features, the network gives ${fd}`);
  const classes = head.out.kernel.shape[1] as number;
  const fm = e.value.get(fmSym.id)!;
  const pooled = e.op('ReduceMean', [fm], { axes: [1, 2], keepdims: 0 }, 'pooled');
  const meanC = e.floats('head_mean', [fd], head.mean);
  const invC = e.floats('head_inv_std', [fd], head.invStd);
  const h0 = e.op('Mul', [e.op('Sub', [pooled, meanC]), invC], {}, 'standardized');
  const dropout = head.dropout && opts.gradients;
  const h1 = dropout ? e.op('Mul', [h0, 'dropout_mask'], {}, 'dropped') : h0;
  const dense = (v: DenseWeights, base: string) => ({ k: e.variable(v.kernel, `${base}_kernel`), b: e.variable(v.bias, `${base}_bias`) });
  const hidden = head.hidden ? dense(head.hidden, 'head_hidden') : null;
  const outW = dense(head.out, 'head_classes');
  const z1 = hidden ? e.op('Gemm', [h1, hidden.k.name, hidden.b.name], {}, 'hidden') : null;
  const a1 = z1 ? e.op('Relu', [z1]) : h1;
  const z2 = e.op('Gemm', [a1, outW.k.name, outW.b.name], {}, 'logits');
  b.node('Softmax', [z2], { axis: 1 }, 'probs', 1, ['probs']);
  b.addOutput('probs', DataType.FLOAT, [null, classes]);
  // Prediction only (evaluation): the forward pass, no dropout, no loss.
  if (!opts.gradients) return { model: b.encode('prediction', 'Transfer Studio prediction'), params: e.params, classes, featureDim: fd, dropout: false };

  b.addInput('labels', DataType.FLOAT, [null, classes]);
  b.addInput('weight', DataType.FLOAT, [null]);
  if (dropout) {
      b.addInput('dropout_mask', DataType.FLOAT, [null, fd]);
  }
  // loop.ts: mean over the batch of −Σ y·log(clip(p, ε, 1)), each sample weighted.
  const clipped = e.op('Clip', ['probs', e.scalar(EPS), e.scalar(1)]);
  const ce = e.op('Neg', [e.op('ReduceSum', [e.op('Mul', ['labels', e.op('Log', [clipped])]), e.ints([1])], { keepdims: 0 })], {}, 'ce');
  b.node('ReduceSum', [e.op('Mul', [ce, 'weight']), e.ints([0])], { keepdims: 0 }, 'loss', 1, ['loss']);
  b.addOutput('loss', DataType.FLOAT, []);

  // Backward through the loss and the head, with tfjs's formulas (clip mask, softmax Jacobian).
  const w2d = e.op('Unsqueeze', ['weight', e.ints([1])]);
  const inRange = e.op('And', [e.op('GreaterOrEqual', ['probs', e.scalar(EPS)]), e.op('LessOrEqual', ['probs', e.scalar(1)])]);
  const dProbs = e.op('Mul', [e.op('Neg', [e.op('Div', [e.op('Mul', ['labels', w2d]), clipped])]), e.mask(inRange)], {}, 'dprobs');
  const dz2 = e.op('Mul', ['probs', e.op('Sub', [dProbs, e.op('ReduceSum', [e.op('Mul', [dProbs, 'probs']), e.ints([1])], { keepdims: 1 })])], {}, 'dlogits');
  const denseGrad = (w: ReturnType<typeof dense>, input: string, dz: string) => {
    if (w.k.trains) e.setGrad(w.k.grad, e.op('Gemm', [input, dz], { transA: 1 }));
    if (w.b.trains) e.setGrad(w.b.grad, e.op('ReduceSum', [dz, e.ints([0])], { keepdims: 0 }));
    return e.op('Gemm', [dz, w.k.name], { transB: 1 });
  };
  let dh = denseGrad(outW, a1, dz2);
  if (hidden) dh = denseGrad(hidden, h1, e.op('Mul', [dh, e.mask(e.op('Greater', [z1!, e.scalar(0)]))], {}, 'hidden_relu_grad'));
  if (dropout) dh = e.op('Mul', [dh, 'dropout_mask']);
  const dPooled = e.op('Mul', [dh, e.floats('head_inv_std_over_area', [fd], Float32Array.from(head.invStd, (v) => v / (fh * fw)))]);
  if (e.needs.get(fmSym.id)) e.addGrad(fmSym, e.op('Expand', [e.op('Reshape', [dPooled, e.ints([-1, 1, 1, fd])]), e.op('Shape', [fm])], {}, 'dfeatures'));

  for (const { out, run } of backward.reverse()) {
    if (!e.needs.get(out.id)) continue;
    const dy = e.gradOf(out);
    if (dy) run(dy);
  }
  for (const p of e.params) if (!e.gradsSet.has(p.grad)) e.setGrad(p.grad, e.op('Mul', [p.input, e.scalar(0)], {}, 'unused'));
  return { model: b.encode('training_step', 'Transfer Studio training step'), params: e.params, classes, featureDim: fd, dropout: head.dropout };
}
