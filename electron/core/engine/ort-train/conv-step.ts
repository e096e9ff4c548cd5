// A convolution's forward and backward pass in a step graph, with the frozen BatchNorm that alone
// reads it folded in (see convolution): the largest of the layer steps (layer-steps.ts), kept
// apart. Every value is channels-first (NCHW); Keras's shapes stay channels-last ([h, w, c]).
import type * as tf from '@tensorflow/tfjs';
import { samePads } from '../onnx/layers.js';
import { Emitter, NotCoveredError, activation, dims, pair, variableOf, type Backward } from './emitter.js';

type Sym = tf.SymbolicTensor;

/** Output pixels from which a depthwise kernel's gradient is one grouped Conv rather than a product per tap. */
const DEPTHWISE_CONV_GRADIENT_MIN_PIXELS = 16 * 16;

/**
 * The BatchNormalization layer that is the only reader of `out`, when `out` is a convolution's
 * output with no activation of its own: the two then run as one convolution (see convolution).
 * `consumers` lists each symbolic tensor's readers in the network being emitted.
 */
export function foldableBatchNorm(layer: tf.layers.Layer, out: Sym, consumers: Map<number, Sym[]>): Sym | null {
  const cls = layer.getClassName();
  if (cls !== 'Conv2D' && cls !== 'DepthwiseConv2D') return null;
  if (String((layer.getConfig() as Record<string, unknown>).activation ?? 'linear') !== 'linear') return null;
  const readers = consumers.get(out.id) ?? [];
  if (readers.length !== 1) return null;
  const next = readers[0]!;
  if (next.sourceLayer.getClassName() !== 'BatchNormalization' || (next.inputs ?? []).length !== 1) return null;
  return next;
}

/** A BatchNorm with frozen statistics as y = x·a + b per channel: a = γ/√(σ²+ε), b = β − μ·a. */
export interface FrozenBatchNorm {
  layer: string;
  c: number;
  gamma: ReturnType<Emitter['weight']>;
  beta: ReturnType<Emitter['weight']>;
  /** 1/√(σ²+ε) and μ, constants [c]. */
  invC: string;
  meanC: string;
  /** a and b, [c]. */
  a: string;
  b: string;
}

export function frozenBatchNorm(e: Emitter, layer: tf.layers.Layer, out: Sym): FrozenBatchNorm {
  const cfg = layer.getConfig() as Record<string, unknown>;
  const rank = out.shape.length;
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
  const invC = e.floats(`${layer.name}_inv`, [c], inv);
  const meanC = e.floats(`${layer.name}_mean`, [c], mean);
  const a = gamma ? e.op('Mul', [gamma.name, invC], {}, 'bn_a') : invC;
  const shift = e.op('Mul', [meanC, a], {}, 'bn_mu_a');
  const b = beta ? e.op('Sub', [beta.name, shift], {}, 'bn_b') : e.op('Neg', [shift]);
  return { layer: layer.name, c, gamma, beta, invC, meanC, a, b };
}

/**
 * A convolution, and with `bn` the frozen BatchNorm after it folded in: y = conv(x, K·a) + (bias·a + b),
 * one Conv with no per-channel Mul and Add over the activation forward, nor the BatchNorm's
 * products backward, and one activation fewer kept for the backward pass. Backward, with G the
 * kernel's gradient were dy the convolution's own (dz = dy·a is never formed): dK = G·a,
 * dbias = a·Σdy, dx is the convolution's input gradient with the folded kernel, and the scale's
 * gradient Σ dy·(z − μ)/σ uses Σ dy·z = Σ K·G + bias·Σdy (z = conv(x, K) + bias), a sum over the
 * kernel instead of a product of two activations.
 */
export function convolution(
  e: Emitter,
  layer: tf.layers.Layer,
  depthwise: boolean,
  cfg: Record<string, unknown>,
  inSym: Sym,
  out: Sym,
  x: string,
  xNeeds: boolean,
  bn: FrozenBatchNorm | null,
): { y: string; backward: Backward } {
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
  const convAttrs = {
    kernel_shape: [kh, kw],
    strides: [sh, sw],
    dilations: [dh, dw],
    pads: [pt, pl, pb, pr],
    ...(depthwise ? { group: ci } : {}),
  };

  // The BatchNorm's per-channel factor over the kernel's output-channel axis (Keras's HWIO is
  // [kh, kw, ci, co], depthwise [kh, kw, c, 1]): a few KB of weights scaled, not the activation.
  const overKernel = (v: string) => (bn ? e.op('Mul', [v, depthwise ? e.op('Reshape', [bn.a, e.ints([co, 1])]) : bn.a], {}, 'bn_fold') : v);
  const kernel = overKernel(K.name);
  const folded = bn ? (bias ? e.op('Add', [e.op('Mul', [bias.name, bn.a]), bn.b], {}, 'bn_bias') : bn.b) : (bias?.name ?? null);

  // Forward, channels-first like the activations. The kernel goes from Keras's HWIO (HW C 1 for
  // depthwise) to ONNX's OIHW here: a transpose of the weight, a few KB, never of an activation.
  const kOihw = depthwise
    ? e.op(
        'Reshape',
        [e.op('Transpose', [e.op('Reshape', [kernel, e.ints([kh, kw, ci])])], { perm: [2, 0, 1] }), e.ints([ci, 1, kh, kw])],
        {},
        'k_oihw',
      )
    : kh === 1 && kw === 1
      ? // A 1×1 kernel as the 2-D transpose it is (ORT's 4-D Transpose of the same took 1 ms for 1280 × 320).
        e.op(
          'Reshape',
          [e.op('Transpose', [e.op('Reshape', [kernel, e.ints([ci, co])])], { perm: [1, 0] }), e.ints([co, ci, 1, 1])],
          {},
          'k_oihw',
        )
      : e.op('Transpose', [kernel], { perm: [3, 2, 0, 1] }, 'k_oihw');
  const z = e.op('Conv', folded ? [x, kOihw, folded] : [x, kOihw], convAttrs, bn ? `${layer.name}_${bn.layer}` : layer.name);
  let dzOf: (dy: string) => string = (dy) => dy;
  const act = activation(e, layer.name, String(cfg.activation ?? 'linear'), z, (g) => g);
  if (act.y !== z) dzOf = (dy) => e.reluGrad(dy, act.y);
  // [n, c, h·w], for the kernel's gradient as batched matrix products over the pixels.
  const flat = (v: string, c: number) => e.op('Reshape', [v, e.ints([0, c, -1])], {}, 'flat');
  // Σ over the batch of a [c_in, h·w] × [h·w, c_out] product per sample: [n, ci, s] against dz
  // [n, co, s] with its last two axes swapped — ORT folds that Transpose into the product
  // (MatmulTransposeFusion), so it is never written out.
  const channelProduct = (seen: string, dzFlat: string) =>
    e.op(
      'ReduceSum',
      [e.op('MatMul', [flat(seen, ci), e.op('Transpose', [dzFlat], { perm: [0, 2, 1] }, 'dz_t')]), e.ints([0])],
      { keepdims: 0 },
      'tap_grad',
    );

  /** The input's gradient, from dz (with the folded kernel, dz·a's: the same as dy·a's with the plain one). */
  const inputGradient = (dz: string) => {
    if (pointwise) {
      // dx = Kᵀ·dz per pixel: a 1×1 convolution whose OIHW kernel [ci, co, 1, 1] is Keras's [1, 1, ci, co] as it lies.
      e.addGrad(inSym, e.op('Conv', [dz, e.op('Reshape', [kernel, e.ints([ci, co, 1, 1])])], { kernel_shape: [1, 1] }, 'dx'));
    } else if (sh === 1 && sw === 1) {
      // Stride 1: the input's gradient is dz convolved with the kernel flipped in space (and
      // in/out channels swapped), padded by the rest of the kernel's reach — a plain Conv,
      // which ORT runs in its blocked, multi-threaded kernels; its ConvTranspose loops over
      // the groups one by one, so for depthwise layers it was the slow part of the backward pass.
      const flipped = e.op(
        'Slice',
        [kernel, e.ints([-1, -1]), e.ints([-kh - 1, -kw - 1]), e.ints([0, 1]), e.ints([-1, -1])],
        {},
        'k_flipped',
      );
      const back = depthwise
        ? e.op(
            'Reshape',
            [e.op('Transpose', [e.op('Reshape', [flipped, e.ints([kh, kw, ci])])], { perm: [2, 0, 1] }), e.ints([ci, 1, kh, kw])],
            {},
            'k_back',
          )
        : e.op('Transpose', [flipped], { perm: [2, 3, 0, 1] }, 'k_back');
      const reach = [(kh - 1) * dh, (kw - 1) * dw];
      const pads = [reach[0]! - pt, reach[1]! - pl, reach[0]! - pb, reach[1]! - pr];
      e.addGrad(inSym, e.op('Conv', [dz, back], { ...convAttrs, pads }, 'dx'));
    } else {
      // The input's gradient is the transposed convolution, padded back to the input's size.
      const opH = h - ((ho - 1) * sh + (kh - 1) * dh + 1 - pt - pb);
      const opW = w - ((wo - 1) * sw + (kw - 1) * dw + 1 - pl - pr);
      e.addGrad(inSym, e.op('ConvTranspose', [dz, kOihw], { ...convAttrs, output_padding: [opH, opW] }, 'dx'));
    }
  };

  /** The kernel's gradient for the convolution's own output gradient dz, in Keras's layout. */
  const kernelGradient = (dz: string): string => {
    if (pointwise) {
      // On small maps with many channels (strategy 2's top block: 7×7, 960 → 320) the per-sample
      // products would write n·ci·co partial sums, more than the activations themselves; there,
      // batch and channels swap places (a copy of x and dz, n·h·w·(ci + co) values) for one product.
      const cFirst = (v: string, c: number) =>
        e.op('Reshape', [e.op('Transpose', [v], { perm: [1, 0, 2, 3] }, 'c_first'), e.ints([c, -1])], {}, 'c_rows');
      const dk =
        h * w * (ci + co) < ci * co
          ? e.op('Gemm', [cFirst(x, ci), cFirst(dz, co)], { transB: 1 }, 'dk_gemm')
          : channelProduct(x, flat(dz, co));
      return e.op('Reshape', [dk, e.ints(K.shape)], {}, 'dk');
    }
    if (depthwise && dh === 1 && dw === 1 && ho * wo >= DEPTHWISE_CONV_GRADIENT_MIN_PIXELS) {
      // dK[i, j, c] = Σ over the batch and the output's pixels of x seen through tap (i, j)
      // times dz: per channel, a correlation of x with dz. As one grouped Conv: x with batch and
      // channels swapped is one image of c·n channels, dz swapped alike is the "kernel" (c groups
      // of n channels), the layer's stride its dilation. Its output, [1, c, kh, kw] (a row or
      // column more where the padded input is not wholly covered: cut), is the kernel's gradient.
      // No tap of x is written out: on big maps this took 15–20% less CPU per MobileNetV2 pass
      // at 224 px than the nine slices; on small maps ORT's per-group overhead loses (7×7, 960
      // channels: 10 ms against 6).
      const swap = (v: string) => e.op('Transpose', [v], { perm: [1, 0, 2, 3] }, 'c_first');
      const image = e.op('Reshape', [swap(x), e.ints([1, -1, h, w])], {}, 'dw_image');
      const rows = h + pt + pb - (ho - 1) * sh;
      const cols = w + pl + pr - (wo - 1) * sw;
      let g = e.op(
        'Conv',
        [image, swap(dz)],
        { kernel_shape: [ho, wo], dilations: [sh, sw], pads: [pt, pl, pb, pr], group: ci },
        'dk_depthwise',
      );
      if (rows !== kh || cols !== kw) g = e.op('Slice', [g, e.ints([0, 0]), e.ints([kh, kw]), e.ints([2, 3])], {}, 'dk_cut');
      // [1, c, kh, kw] → Keras's [kh, kw, c, 1].
      return e.op('Reshape', [e.op('Transpose', [g], { perm: [2, 3, 1, 0] }), e.ints(K.shape)], {}, 'dk');
    }
    // One tap at a time: the input seen through that tap (a strided slice of the padded input)
    // against dz — a matrix product over the channels, or for depthwise a per-channel sum of
    // products. Taps in Keras's order (row, column, then channels).
    const xp = pt + pb + pl + pr > 0 ? e.op('Pad', [x, e.ints([0, 0, pt, pl, 0, 0, pb, pr])], {}, 'xpad') : x;
    const taps: string[] = [];
    const dzFlat = depthwise ? '' : flat(dz, co);
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const seen = e.op(
          'Slice',
          [
            xp,
            e.ints([i * dh, j * dw]),
            e.ints([i * dh + sh * (ho - 1) + 1, j * dw + sw * (wo - 1) + 1]),
            e.ints([2, 3]),
            e.ints([sh, sw]),
          ],
          {},
          'tap',
        );
        taps.push(depthwise ? e.channelSum(e.op('Mul', [seen, dz])) : channelProduct(seen, dzFlat));
      }
    }
    const all = taps.length === 1 ? taps[0]! : e.op('Concat', taps, { axis: 0 });
    return e.op('Reshape', [all, e.ints(K.shape)], {}, 'dk');
  };

  if (!bn)
    return {
      y: act.y,
      backward: (dy) => {
        const dz = dzOf(dy);
        if (bias?.trains) e.setGrad(bias.grad, e.channelSum(dz));
        if (xNeeds) inputGradient(dz);
        if (K.trains) e.setGrad(K.grad, kernelGradient(dz));
      },
    };
  const { gamma, beta } = bn;
  return {
    y: z,
    backward: (dy) => {
      const dyC = beta?.trains || gamma?.trains || bias?.trains ? e.channelSum(dy) : '';
      if (beta?.trains) e.setGrad(beta.grad, dyC);
      if (bias?.trains) e.setGrad(bias.grad, e.op('Mul', [dyC, bn.a], {}, 'dbias'));
      if (xNeeds) inputGradient(dy);
      if (!K.trains && !gamma?.trains) return;
      const g = kernelGradient(dy);
      if (K.trains) e.setGrad(K.grad, overKernel(g));
      if (gamma?.trains) {
        // Σ over everything but the output channel of K·G: [co] (depthwise: [c]).
        const dyz = e.op('ReduceSum', [e.op('Mul', [K.name, g]), e.ints(depthwise ? [0, 1, 3] : [0, 1, 2])], { keepdims: 0 }, 'dy_z');
        const centred = e.op('Sub', [bias ? e.op('Add', [dyz, e.op('Mul', [bias.name, dyC])]) : dyz, e.op('Mul', [bn.meanC, dyC])]);
        e.setGrad(gamma.grad, e.op('Mul', [centred, bn.invC], {}, 'dgamma'));
      }
    },
  };
}
