// The state of a step graph while it is emitted (step-graph.ts, layer-steps.ts): the ONNX graph,
// the value of each Keras tensor, which values need a gradient, the gradients as they
// accumulate from every consumer, and the trainable weights fed in as graph inputs.
import * as tf from '@tensorflow/tfjs';
import { GraphBuilder, DataType, type AttrValue } from '../onnx/graph-builder.js';

type Sym = tf.SymbolicTensor;

export class NotCoveredError extends Error {
  constructor(layer: string, why: string) {
    super(`${layer}: ${why}`);
    this.name = 'NotCoveredError';
  }
}

/** A weight fed from a variable on every step; `grad` is the output holding its gradient. */
export interface StepParam {
  input: string;
  grad: string;
  variable: tf.Variable;
}

export function pair(v: unknown, fallback: number): [number, number] {
  if (v === undefined || v === null) return [fallback, fallback];
  if (typeof v === 'number') return [v, v];
  const a = v as number[];
  return [a[0]!, a[1] ?? a[0]!];
}

/** Graph state while emitting: values, which need gradients, and gradients as they accumulate. */
export class Emitter {
  readonly b = new GraphBuilder();
  readonly value = new Map<number, string>();
  /** Whether a value depends on a trainable weight (only those need their gradient computed). */
  readonly needs = new Map<number, boolean>();
  private readonly grads = new Map<number, string[]>();
  readonly params: StepParam[] = [];
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

  /** The batch, channels-last as tfjs gives it, to the channels-first layout every value of the graph has. */
  nchw(x: string): string {
    return this.op('Transpose', [x], { perm: [0, 3, 1, 2] }, 'nchw');
  }

  /** Σ over batch and space (axes 0, 2, 3 of an NCHW value), for per-channel gradients. */
  channelSum(x: string): string {
    return this.op('ReduceSum', [x, this.ints([0, 2, 3])], { keepdims: 0 }, 'channel_sum');
  }

  /** A per-channel vector [c] as [c, 1, 1], to broadcast over an NCHW value. */
  perChannel(v: string, c: number): string {
    return this.op('Reshape', [v, this.ints([c, 1, 1])], {}, 'per_channel');
  }

  /**
   * ReLU's gradient from its output y = max(x, 0): dy where y > 0, i.e. x > 0 as tfjs has it, as
   * dy·sign(y) — two passes and no boolean mask, and the input x need not be kept for the
   * backward pass (ORT then fuses the ReLU into the convolution before it).
   */
  reluGrad(dy: string, y: string): string {
    return this.op('Mul', [dy, this.op('Sign', [y], {}, 'relu_mask')], {}, 'relu_grad');
  }

  /**
   * ReLU6's (clip to [0, max]) gradient from its output y: dy where 0 < y < max, as
   * dy·sign(y·(max − y)) — exact in float32 (max − y is exact near max, y·(max − y) > 0 for any
   * y > 0). tfjs passes the gradient at x = max exactly too (PyTorch does not); from the output
   * that one point cannot be told from x > max, and keeping x for it would keep a whole
   * activation per layer alive until the backward pass.
   */
  clipGrad(dy: string, y: string, max: number): string {
    const band = this.op('Mul', [y, this.op('Sub', [this.scalar(max), y])], {}, 'clip_band');
    return this.op('Mul', [dy, this.op('Sign', [band], {}, 'clip_mask')], {}, 'clip_grad');
  }

  /** `g` where `cond` holds, else 0 — a gradient through a mask. (Cast and Mul: ORT's Where is no faster.) */
  keep(g: string, cond: string, base = 'masked'): string {
    return this.op('Mul', [g, this.op('Cast', [cond], { to: DataType.FLOAT }, 'mask')], {}, base);
  }
}

export type Backward = (dy: string) => void;

export function variableOf(layer: tf.layers.Layer, suffix: string): tf.Variable | null {
  for (const w of layer.weights) {
    const n = w.originalName;
    if (n === suffix || n.endsWith(`/${suffix}`)) return w.read() as tf.Variable;
  }
  return null;
}

export function dims(s: Sym, layer: string): number[] {
  const shape = s.shape.slice(1);
  if (shape.some((d) => typeof d !== 'number')) throw new NotCoveredError(layer, 'needs fixed spatial sizes');
  return shape as number[];
}

/** A Keras activation by name, forward, with `give` handed its input's gradient backward. */
export function activation(
  e: Emitter,
  name: string,
  act: string,
  z: string,
  give: (g: string) => unknown,
): { y: string; backward: Backward } {
  if (act === 'linear') return { y: z, backward: (dy) => give(dy) };
  if (act === 'relu') {
    const y = e.op('Relu', [z]);
    return { y, backward: (dy) => give(e.reluGrad(dy, y)) };
  }
  throw new NotCoveredError(name, `activation ${act}`);
}
