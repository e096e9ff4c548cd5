// Forward and backward passes of each Keras layer type a step graph covers, following tfjs's
// gradient formulas (ReLU6's mask 0 < x ≤ 6 is read from its output, so 0 < x < 6: see
// Emitter.clipGrad). A convolution read only by a frozen BatchNorm runs as one Conv with it
// (conv-step.ts: convolution, foldableBatchNorm). Every value is channels-first (NCHW), the
// layout of ORT's CPU convolutions and pooling, so no activation is transposed between layers
// (channels-last, ORT wrapped each convolution in Transposes: 21.5% of a step). Shapes read
// from Keras (dims) stay channels-last: [h, w, c].
// Pooling gradients are the true derivative of the forward pass; tfjs's are not at padded
// borders (see test/unit/ort-step-graph.test.ts).
import * as tf from '@tensorflow/tfjs';
import { samePads } from '../onnx/layers.js';
import { Emitter, NotCoveredError, activation, dims, pair, type Backward } from './emitter.js';
import { convolution, frozenBatchNorm } from './conv-step.js';

type Sym = tf.SymbolicTensor;

/** The Keras layer classes a step graph covers. */
export const COVERED_LAYERS = [
  'InputLayer',
  'Conv2D',
  'DepthwiseConv2D',
  'BatchNormalization',
  'ReLU',
  'Activation',
  'Add',
  'Concatenate',
  'ZeroPadding2D',
  'MaxPooling2D',
  'AveragePooling2D',
] as const;

/**
 * Emits one layer's forward pass; returns its backward pass (called with the output's gradient).
 * `folded`: the BatchNormalization that alone reads this convolution's output (foldableBatchNorm),
 * emitted with it as one layer; the returned value and backward pass are then the BatchNorm's.
 */
export function emitLayer(
  e: Emitter,
  layer: tf.layers.Layer,
  ins: Sym[],
  out: Sym,
  folded: tf.layers.Layer | null = null,
): { y: string; backward: Backward } {
  const cls = layer.getClassName();
  const cfg = layer.getConfig() as Record<string, unknown>;
  const x = e.value.get(ins[0]!.id)!;
  const xNeeds = (i = 0) => e.needs.get(ins[i]!.id) === true;
  if (cfg.dataFormat !== undefined && cfg.dataFormat !== 'channelsLast')
    throw new NotCoveredError(layer.name, `data format ${String(cfg.dataFormat)}`);
  switch (cls) {
    case 'Conv2D':
    case 'DepthwiseConv2D':
      return convolution(e, layer, cls === 'DepthwiseConv2D', cfg, ins[0]!, out, x, xNeeds(), folded && frozenBatchNorm(e, folded, out));
    case 'BatchNormalization':
      return batchNorm(e, layer, ins[0]!, x, xNeeds());
    case 'ReLU': {
      const max = cfg.maxValue as number | null | undefined;
      if (Number(cfg.negativeSlope ?? 0) !== 0 || Number(cfg.threshold ?? 0) !== 0)
        throw new NotCoveredError(layer.name, 'leaky or thresholded ReLU');
      const y = max === null || max === undefined ? e.op('Relu', [x]) : e.op('Clip', [x, e.scalar(0), e.scalar(max)], {}, 'relu6');
      return {
        y,
        backward: (dy) => xNeeds() && e.addGrad(ins[0]!, max === null || max === undefined ? e.reluGrad(dy, y) : e.clipGrad(dy, y, max)),
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
      // Keras's last axis (channels) is axis 1 here.
      const y = e.op(
        'Concat',
        ins.map((s) => e.value.get(s.id)!),
        { axis: 1 },
      );
      const sizes = ins.map((s) => s.shape[rank - 1] as number);
      return {
        y,
        backward: (dy) => {
          const parts = e.b.node('Split', [dy, e.ints(sizes)], { axis: 1 }, 'concat_grad', ins.length).names;
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
      const y = e.op('Pad', [x, e.ints([0, 0, t, l, 0, 0, bo, r])], {}, 'pad');
      return {
        y,
        backward: (dy) =>
          xNeeds() && e.addGrad(ins[0]!, e.op('Slice', [dy, e.ints([t, l]), e.ints([t + h!, l + w!]), e.ints([2, 3])], {}, 'pad_grad')),
      };
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D':
      return pooling(e, layer, cls === 'MaxPooling2D', cfg, ins[0]!, out, x, xNeeds());
    default:
      throw new NotCoveredError(layer.name, `layer type ${cls}`);
  }
}

function batchNorm(e: Emitter, layer: tf.layers.Layer, inSym: Sym, x: string, xNeeds: boolean): { y: string; backward: Backward } {
  const bn = frozenBatchNorm(e, layer, inSym);
  const { gamma, beta, c, invC, meanC } = bn;
  const aC = e.perChannel(bn.a, c);
  const y = e.op('Add', [e.op('Mul', [x, aC]), e.perChannel(bn.b, c)], {}, layer.name);
  return {
    y,
    backward: (dy) => {
      const dyC = beta?.trains || gamma?.trains ? e.channelSum(dy) : '';
      if (beta?.trains) e.setGrad(beta.grad, dyC);
      // Σ dy·(x − μ)/σ per channel, as (Σ dy·x − μ·Σ dy)/σ: one product of the whole tensor, not three.
      if (gamma?.trains)
        e.setGrad(
          gamma.grad,
          e.op('Mul', [e.op('Sub', [e.channelSum(e.op('Mul', [dy, x])), e.op('Mul', [meanC, dyC])]), invC], {}, 'dgamma'),
        );
      if (xNeeds) e.addGrad(inSym, e.op('Mul', [dy, aC], {}, 'bn_dx'));
    },
  };
}

function pooling(
  e: Emitter,
  layer: tf.layers.Layer,
  max: boolean,
  cfg: Record<string, unknown>,
  inSym: Sym,
  out: Sym,
  x: string,
  xNeeds: boolean,
): { y: string; backward: Backward } {
  const [kh, kw] = pair(cfg.poolSize, 2);
  const [sh, sw] = pair(cfg.strides ?? cfg.poolSize, 2);
  const [h, w, c] = dims(inSym, layer.name) as [number, number, number];
  const [ho, wo] = dims(out, layer.name) as [number, number, number];
  const padding = String(cfg.padding ?? 'valid');
  const [pt, pb] = padding === 'same' ? samePads(h, kh, sh, 1) : [0, 0];
  const [pl, pr] = padding === 'same' ? samePads(w, kw, sw, 1) : [0, 0];
  const attrs = { kernel_shape: [kh, kw], strides: [sh, sw], pads: [pt, pl, pb, pr] };
  const y = e.op(max ? 'MaxPool' : 'AveragePool', [x], max ? attrs : { ...attrs, count_include_pad: 0 }, layer.name);
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
        const scaled = e.op('Mul', [dy, e.floats(`${layer.name}_counts`, [1, 1, ho, wo], counts)]);
        const ones = e.floats(`${layer.name}_ones`, [c, 1, kh, kw], new Float32Array(c * kh * kw).fill(1));
        e.addGrad(inSym, e.op('ConvTranspose', [scaled, ones], { ...scatterAttrs }, 'avgpool_grad'));
        return;
      }
      // Max: each output's gradient goes to the first input (row-major in its window) holding
      // the maximum, as tfjs does; padding never wins.
      const xp = pt + pb + pl + pr > 0 ? e.op('Pad', [x, e.ints([0, 0, pt, pl, 0, 0, pb, pr]), e.scalar(-3.4e38)], {}, 'xpad') : x;
      let taken = '';
      const parts: string[] = [];
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          const seen = e.op(
            'Slice',
            [xp, e.ints([i, j]), e.ints([i + sh * (ho - 1) + 1, j + sw * (wo - 1) + 1]), e.ints([2, 3]), e.ints([sh, sw])],
            {},
            'tap',
          );
          const hit = e.op('Equal', [seen, y]);
          const first = taken ? e.op('And', [hit, e.op('Not', [taken])]) : hit;
          taken = taken ? e.op('Or', [taken, hit]) : hit;
          parts.push(e.op('Unsqueeze', [e.keep(dy, first), e.ints([2])]));
        }
      }
      // [n, c, taps, ho, wo] → [n, c·taps, ho, wo] for the scatter: channel-major already, no transpose.
      const stacked = e.op('Reshape', [e.op('Concat', parts, { axis: 2 }), e.ints([-1, c * kh * kw, ho, wo])]);
      const pick = new Float32Array(c * kh * kw * kh * kw);
      for (let ch = 0; ch < c; ch++) for (let t = 0; t < kh * kw; t++) pick[(ch * kh * kw + t) * kh * kw + t] = 1;
      const kernel = e.floats(`${layer.name}_taps`, [c * kh * kw, 1, kh, kw], pick);
      e.addGrad(inSym, e.op('ConvTranspose', [stacked, kernel], scatterAttrs, 'maxpool_grad'));
    },
  };
}
