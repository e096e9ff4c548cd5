// One whole training step as one ONNX graph, so ONNX Runtime runs it natively on every core:
// the trainable network's forward pass, the head (pooling, standardization, dropout, dense
// layers, softmax), the weighted cross-entropy, and the gradient of every trainable weight.
// tfjs-wasm runs one thread of 128-bit SIMD and pays a kernel launch per op; this graph runs in
// ORT's fused, multi-threaded, AVX-512 kernels. The weights stay tfjs variables (the saved model
// and the optimizer keep using them): each step feeds their values in and gets gradients out.
//
// The backward pass is written out per Keras layer type (layer-steps.ts) and, for the head and
// the loss, here; both follow tfjs's own gradient formulas (the softmax Jacobian, the
// clipped log of the loss; ReLU6's mask differs only at x = 6 exactly), so a step here and a step in tfjs agree to float rounding — the
// parity tests (test/unit/ort-step-graph.test.ts, test/integration/ort-step-parity.test.ts) hold
// them to it. A layer type not covered throws NotCoveredError and the engine trains that network
// on tfjs-wasm instead.
import * as tf from '@tensorflow/tfjs';
import { DataType } from '../onnx/graph-builder.js';
import { Emitter, NotCoveredError, dims, type Backward, type StepParam } from './emitter.js';
import { emitLayer } from './layer-steps.js';
import { foldableBatchNorm } from './conv-step.js';

export { NotCoveredError } from './emitter.js';
export { COVERED_LAYERS } from './layer-steps.js';

type Sym = tf.SymbolicTensor;

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
  params: StepParam[];
  classes: number;
  featureDim: number;
  /**
   * Inputs: x [n,h,w,c], labels [n,classes] the target distribution (one-hot, or label-smoothed:
   * the loss and its gradient below hold for any), weight [n] (each sample's share of the loss),
   * dropout_mask [n,featureDim] when dropout.
   */
  dropout: boolean;
}

const EPS = 1e-7; // loop.ts clips probabilities to [EPS, 1] before the log

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
 * Inside, every activation is NCHW (layer-steps.ts); the input is the only one transposed.
 * `trainable` are the variables to compute gradients for; other weights become constants.
 * Throws NotCoveredError for a layer it does not cover.
 */
export function buildStepGraph(
  trunk: tf.LayersModel,
  head: HeadSpec,
  trainable: tf.Variable[],
  opts: { gradients: boolean } = { gradients: true },
): StepGraph {
  if (trunk.inputs.length !== 1 || trunk.outputs.length !== 1) throw new NotCoveredError(trunk.name, 'needs one input and one output');
  const e = new Emitter(new Set(trainable), opts.gradients);
  const b = e.b;
  const input = trunk.inputs[0]!;
  const inShape = input.shape.slice(1) as number[];
  if (inShape.length !== 3) throw new NotCoveredError(trunk.name, 'needs a 4-D input (images or feature maps)');
  for (const name of ['x', 'labels', 'weight', 'dropout_mask', 'probs', 'loss']) b.reserve(name);
  // Fed channels-last, as tfjs holds the batch; turned channels-first once, here (layer-steps.ts).
  b.addInput('x', DataType.FLOAT, [null, ...inShape]);
  e.value.set(input.id, e.nchw('x'));
  e.needs.set(input.id, false);

  const order = topological(trunk.outputs[0]!);
  // Who reads each value: a convolution read only by a BatchNorm is emitted with it as one layer.
  const consumers = new Map<number, Sym[]>();
  for (const s of order) for (const i of s.inputs ?? []) consumers.set(i.id, [...(consumers.get(i.id) ?? []), s]);
  consumers.set(trunk.outputs[0]!.id, [...(consumers.get(trunk.outputs[0]!.id) ?? []), trunk.outputs[0]!]); // the head reads it too
  const trains = (layer: tf.layers.Layer) => layer.weights.some((w) => e.params.some((p) => p.variable === w.read()));
  const backward: { out: Sym; run: Backward }[] = [];
  for (const s of order) {
    if (e.value.has(s.id)) continue;
    const ins = s.inputs ?? [];
    if (ins.length === 0) throw new NotCoveredError(s.sourceLayer.name, 'a second model input');
    const layer = s.sourceLayer;
    const bn = foldableBatchNorm(layer, s, consumers);
    const { y, backward: run } = emitLayer(e, layer, ins, s, bn?.sourceLayer ?? null);
    // Folded, the value and the backward pass are the BatchNorm's; the convolution's own output is never formed.
    const at = bn ?? s;
    e.value.set(at.id, y);
    e.needs.set(at.id, ins.some((i) => e.needs.get(i.id)) || trains(layer) || (bn !== null && trains(bn.sourceLayer)));
    backward.push({ out: at, run });
  }

  // Head: global average pool → standardize → dropout → [Dense(relu)] → Dense(softmax).
  const fmSym = trunk.outputs[0]!;
  if (fmSym.shape.length !== 4) throw new NotCoveredError(trunk.name, 'the head pools a 4-D feature map');
  const [fh, fw, fd] = dims(fmSym, 'feature map') as [number, number, number];
  if (fd !== head.mean.length) throw new NotCoveredError('head', `expects ${head.mean.length} features, the network gives ${fd}`);
  const classes = head.out.kernel.shape[1] as number;
  const fm = e.value.get(fmSym.id)!;
  const pooled = e.op('ReduceMean', [fm], { axes: [2, 3], keepdims: 0 }, 'pooled');
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
  if (!opts.gradients)
    return { model: b.encode('prediction', 'Transfer Studio prediction'), params: e.params, classes, featureDim: fd, dropout: false };

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
  const dProbs = e.keep(e.op('Neg', [e.op('Div', [e.op('Mul', ['labels', w2d]), clipped])]), inRange, 'dprobs');
  const dz2 = e.op(
    'Mul',
    ['probs', e.op('Sub', [dProbs, e.op('ReduceSum', [e.op('Mul', [dProbs, 'probs']), e.ints([1])], { keepdims: 1 })])],
    {},
    'dlogits',
  );
  const denseGrad = (w: ReturnType<typeof dense>, input: string, dz: string) => {
    if (w.k.trains) e.setGrad(w.k.grad, e.op('Gemm', [input, dz], { transA: 1 }));
    if (w.b.trains) e.setGrad(w.b.grad, e.op('ReduceSum', [dz, e.ints([0])], { keepdims: 0 }));
    return e.op('Gemm', [dz, w.k.name], { transB: 1 });
  };
  let dh = denseGrad(outW, a1, dz2);
  if (hidden) dh = denseGrad(hidden, h1, e.keep(dh, e.op('Greater', [z1!, e.scalar(0)]), 'hidden_relu_grad'));
  if (dropout) dh = e.op('Mul', [dh, 'dropout_mask']);
  const dPooled = e.op('Mul', [
    dh,
    e.floats(
      'head_inv_std_over_area',
      [fd],
      Float32Array.from(head.invStd, (v) => v / (fh * fw)),
    ),
  ]);
  if (e.needs.get(fmSym.id))
    e.addGrad(fmSym, e.op('Expand', [e.op('Reshape', [dPooled, e.ints([-1, fd, 1, 1])]), e.op('Shape', [fm])], {}, 'dfeatures'));

  for (const { out, run } of backward.reverse()) {
    if (!e.needs.get(out.id)) continue;
    const dy = e.gradOf(out);
    if (dy) run(dy);
  }
  for (const p of e.params) if (!e.gradsSet.has(p.grad)) e.setGrad(p.grad, e.op('Mul', [p.input, e.scalar(0)], {}, 'unused'));
  return {
    model: b.encode('training_step', 'Transfer Studio training step'),
    params: e.params,
    classes,
    featureDim: fd,
    dropout: head.dropout,
  };
}
