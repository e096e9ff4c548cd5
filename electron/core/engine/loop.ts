// The training loop shared by every strategy and phase. Our own rather than model.fit: the
// frozen part must run with training:false (fit would put BatchNorm in training mode), shuffles
// and dropout must be seeded, cancellation must land between batches, and early stopping must
// restore the best weights.
import * as tf from '@tensorflow/tfjs';
import { rng, shuffled, subSeed } from './seeded.js';
import type { NativeStepResult } from './ort-train/ort-step.js';
import { ArrayAdam } from './ort-train/array-adam.js';
import { rateOf, scheduleFactor, smoothedTargets, type LrSchedule } from './recipe.js';

export class Cancelled extends Error {
  constructor() {
    super('The run was cancelled.');
    this.name = 'Cancelled';
  }
}

export type Phase = 'head' | 'finetune';

export interface EpochRecord {
  epoch: number;
  phase: Phase;
  loss: number;
  acc: number;
  valLoss: number | null;
  valAcc: number | null;
  ms: number;
}

export interface LoopSpec {
  phase: Phase;
  train: number[];
  validation: number[];
  labelOf: (sample: number) => number;
  classes: number;
  /** The input of `forward` for these samples (called inside a tidy). */
  batch: (samples: number[], epoch: number, training: boolean) => tf.Tensor;
  /** Class probabilities. */
  forward: (x: tf.Tensor, training: boolean, step: number) => tf.Tensor;
  variables: tf.Variable[];
  epochs: number;
  batchSize: number;
  lr: number;
  /** The learning rate over the phase's steps (recipe.ts); default constant. */
  schedule?: LrSchedule;
  /** Per-variable factors of the learning rate (recipe.ts's layerRates); a variable not in it learns at 1×. */
  lrFactors?: ReadonlyMap<tf.Variable, number>;
  /** Label smoothing ε of the loss (recipe.ts), in training and in validation's loss alike; default 0. */
  labelSmoothing?: number;
  seed: number;
  classWeights: number[] | null;
  /** Extra loss term (e.g. L2 on the head), added to each step's loss. */
  penalty?: () => tf.Scalar;
  patience: number;
  /**
   * The weights the phase starts from compete for the best epoch too (scored on validation before
   * the first step): fine-tuning from a fitted head is kept only when validation says it helped.
   */
  keepStart?: boolean;
  /**
   * Images per forward/backward pass when fewer than batchSize: the step then sums the
   * gradients of its micro-batches before one update — the same step (frozen BatchNorm does
   * not look across images), in the memory of a smaller batch. tfjs-wasm's memory ends at 4 GB.
   */
  microBatch?: number;
  /**
   * The whole step outside tfjs (ort-train/): a micro-batch's loss, probabilities and gradients
   * for these samples, `weight[i]` being sample i's share of the batch's loss. Replaces tfjs's
   * autodiff of `forward`, and the update is Adam on arrays (ArrayAdam, the same update as
   * tf.train.adam); the penalty's gradient is still taken in tfjs.
   */
  nativeStep?: (
    samples: number[],
    labels: number[],
    weight: Float32Array,
    epoch: number,
    step: number,
    smoothing: number,
  ) => Promise<NativeStepResult>;
  /** Class probabilities for these samples outside tfjs (evaluation), row per sample. */
  nativePredict?: (samples: number[]) => Promise<Float32Array>;
  isCancelled: () => boolean;
  onEpoch: (record: EpochRecord) => void;
  onBatch?: (done: number, total: number) => void;
}

const EPS = 1e-7;

function crossEntropy(probs: tf.Tensor, targets: tf.Tensor): tf.Tensor1D {
  return tf.neg(tf.sum(tf.mul(targets, tf.log(tf.clipByValue(probs, EPS, 1))), 1)) as tf.Tensor1D;
}

const yieldToEvents = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Inverse-frequency weights (n / (classes × n_c)), so every label pulls equally on the loss. */
export function classWeightsFor(labels: number[], classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const l of labels) counts[l]!++;
  return counts.map((c) => (c === 0 ? 0 : labels.length / (classes * c)));
}

/**
 * Loss (the loss the phase trains: label-smoothed when it is, as Keras's validation loss),
 * accuracy and probabilities on these samples. With smoothing, plain cross-entropy would favour
 * the sharper warm-up head over a fine-tuned network that classifies better but was taught to
 * hedge (measured on clipart-8: epochs of higher validation accuracy lost to the warm-up on it).
 */
export async function evaluate(
  spec: Pick<LoopSpec, 'batch' | 'forward' | 'labelOf' | 'classes' | 'batchSize' | 'nativePredict' | 'labelSmoothing'>,
  samples: number[],
): Promise<{ loss: number; acc: number; probs: Float32Array }> {
  const smoothing = spec.labelSmoothing ?? 0;
  const probs = new Float32Array(samples.length * spec.classes);
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < samples.length; i += spec.batchSize) {
    const idx = samples.slice(i, i + spec.batchSize);
    const [p, l] = spec.nativePredict
      ? withLoss(await spec.nativePredict(idx), idx.map(spec.labelOf), spec.classes, smoothing)
      : tf.tidy(() => {
          const out = spec.forward(spec.batch(idx, 0, false), false, 0);
          const y = tf.tensor2d(smoothedTargets(idx.map(spec.labelOf), spec.classes, smoothing), [idx.length, spec.classes]);
          return [out.dataSync() as Float32Array, tf.sum(crossEntropy(out, y)).dataSync()[0]!] as const;
        });
    probs.set(p, i * spec.classes);
    loss += l;
    idx.forEach((s, k) => {
      const row = p.subarray(k * spec.classes, (k + 1) * spec.classes);
      if (argMax(row) === spec.labelOf(s)) correct++;
    });
    await yieldToEvents();
  }
  return { loss: loss / Math.max(1, samples.length), acc: correct / Math.max(1, samples.length), probs };
}

/** The probabilities and their summed cross-entropy against the (smoothed) targets (as crossEntropy computes it). */
function withLoss(p: Float32Array, labels: number[], classes: number, smoothing: number): [Float32Array, number] {
  const targets = smoothedTargets(labels, classes, smoothing);
  let sum = 0;
  for (let i = 0; i < targets.length; i++) if (targets[i]! > 0) sum -= targets[i]! * Math.log(Math.min(1, Math.max(EPS, p[i]!)));
  return [p, sum];
}

export function argMax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

/**
 * The phase's optimizer: Adam on arrays for the native step, else tf.train.adam — one per
 * distinct learning-rate factor, as tfjs's Adam has one rate for all its variables. Each is
 * stepped every step (its bias correction counts steps), with its rate set first.
 */
type Optimizer = ArrayAdam | { groups: { factor: number; optimizer: tf.AdamOptimizer; names: Set<string> }[] };

function optimizerFor(spec: LoopSpec): Optimizer {
  if (spec.nativeStep) return new ArrayAdam(spec.lr);
  const byFactor = new Map<number, Set<string>>();
  for (const v of spec.variables) {
    const factor = spec.lrFactors?.get(v) ?? 1;
    if (!byFactor.has(factor)) byFactor.set(factor, new Set());
    byFactor.get(factor)!.add(v.name);
  }
  return { groups: [...byFactor].map(([factor, names]) => ({ factor, optimizer: tf.train.adam(spec.lr * factor), names })) };
}

/** One optimizer step on these samples: the weighted mean loss and each sample's predicted class. */
async function trainStep(
  spec: LoopSpec,
  optimizer: Optimizer,
  idx: number[],
  labels: number[],
  epoch: number,
  step: number,
  scheduled: number,
): Promise<{ loss: number; predicted: number[] }> {
  const weights = spec.classWeights ? labels.map((l) => spec.classWeights![l]!) : labels.map(() => 1);
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  const size = Math.max(1, Math.min(spec.microBatch ?? idx.length, idx.length));
  const predicted: number[] = [];
  let loss = 0;
  if (optimizer instanceof ArrayAdam) {
    // The native step: gradients as arrays, summed over micro-batches, one update.
    let sums: Record<string, Float32Array> | null = null;
    for (let c0 = 0; c0 < idx.length; c0 += size) {
      if (c0 > 0) {
        await yieldToEvents();
        if (spec.isCancelled()) throw new Cancelled();
      }
      const part = idx.slice(c0, c0 + size);
      const native = await nativeGradients(
        spec,
        part,
        labels.slice(c0, c0 + size),
        weights.slice(c0, c0 + size),
        totalWeight,
        c0 === 0,
        epoch,
        step,
      );
      loss += native.loss;
      predicted.push(...native.predicted);
      sums = sumInto(sums, native.grads);
    }
    optimizer.apply(spec.variables, sums!, (v) => rateOf(spec.lr, scheduled, spec.lrFactors?.get(v)));
    return { loss, predicted };
  }
  let sums: Record<string, tf.Tensor> | null = null;
  try {
    for (let c0 = 0; c0 < idx.length; c0 += size) {
      if (c0 > 0) {
        await yieldToEvents();
        if (spec.isCancelled()) throw new Cancelled();
      }
      const part = idx.slice(c0, c0 + size);
      const partLabels = labels.slice(c0, c0 + size);
      let pred: tf.Tensor | null = null;
      const { value, grads } = tf.tidy(() => {
        const x = spec.batch(part, epoch, true);
        const y = tf.tensor2d(smoothedTargets(partLabels, spec.classes, spec.labelSmoothing ?? 0), [partLabels.length, spec.classes]);
        const w = tf.tensor1d(weights.slice(c0, c0 + size));
        return tf.variableGrads(() => {
          const p = spec.forward(x, true, step);
          pred = tf.keep(tf.argMax(p, 1));
          // Each micro-batch's share of the whole batch's weighted mean; the penalty counts once.
          const data = tf.div(tf.sum(tf.mul(crossEntropy(p, y), w)), tf.scalar(totalWeight)) as tf.Scalar;
          return spec.penalty && c0 === 0 ? tf.add(data, spec.penalty()) : data;
        }, spec.variables);
      });
      loss += (await value.data())[0]!;
      value.dispose();
      predicted.push(...((await pred!.data()) as Int32Array));
      pred!.dispose();
      sums = addInto(sums, grads);
    }
    for (const { factor, optimizer: adam, names } of optimizer.groups) {
      // tfjs's Adam reads its learningRate on every applyGradients (a protected field).
      (adam as unknown as { learningRate: number }).learningRate = rateOf(spec.lr, scheduled, factor);
      adam.applyGradients(Object.entries(sums!).flatMap(([name, tensor]) => (names.has(name) ? [{ name, tensor }] : [])));
    }
    return { loss, predicted };
  } finally {
    if (sums) tf.dispose(Object.values(sums));
  }
}

/** Adds `grads` into `sums` (disposing what it replaces); returns the sums. */
function addInto(sums: Record<string, tf.Tensor> | null, grads: Record<string, tf.Tensor>): Record<string, tf.Tensor> {
  if (!sums) return { ...grads };
  for (const [name, g] of Object.entries(grads)) {
    const before = sums[name];
    if (!before) {
      sums[name] = g;
      continue;
    }
    sums[name] = tf.add(before, g);
    before.dispose();
    g.dispose();
  }
  return sums;
}

/** Adds `grads` into `sums` in place (the first micro-batch's arrays become the sums); returns the sums. */
function sumInto(sums: Record<string, Float32Array> | null, grads: Record<string, Float32Array>): Record<string, Float32Array> {
  if (!sums) return { ...grads };
  for (const [name, g] of Object.entries(grads)) {
    const into = sums[name];
    if (!into) sums[name] = g;
    else for (let i = 0; i < g.length; i++) into[i]! += g[i]!;
  }
  return sums;
}

/** A micro-batch's step through `spec.nativeStep`, plus the penalty (in tfjs) on the first. */
async function nativeGradients(
  spec: LoopSpec,
  part: number[],
  labels: number[],
  weights: number[],
  totalWeight: number,
  first: boolean,
  epoch: number,
  step: number,
): Promise<{ loss: number; predicted: number[]; grads: Record<string, Float32Array> }> {
  const share = Float32Array.from(weights, (w) => w / totalWeight);
  const out = await spec.nativeStep!(part, labels, share, epoch, step, spec.labelSmoothing ?? 0);
  let loss = out.loss;
  const predicted = part.map((_, k) => argMax(out.probs.subarray(k * spec.classes, (k + 1) * spec.classes)));
  if (first && spec.penalty) {
    const { value, grads } = tf.variableGrads(spec.penalty, spec.variables);
    loss += (await value.data())[0]!;
    value.dispose();
    const arrays: Record<string, Float32Array> = {};
    for (const [name, g] of Object.entries(grads)) arrays[name] = Float32Array.from(g.dataSync() as Float32Array);
    tf.dispose(Object.values(grads));
    sumInto(out.grads, arrays);
  }
  return { loss, predicted, grads: out.grads };
}

/** Trains; returns the records. The variables end holding the best epoch's values. */
export async function trainLoop(spec: LoopSpec): Promise<EpochRecord[]> {
  const optimizer = optimizerFor(spec);
  const records: EpochRecord[] = [];
  let best: { loss: number; epoch: number; values: tf.Tensor[] } | null = null;
  let step = 0;
  const stepsPerEpoch = Math.ceil(spec.train.length / spec.batchSize);
  // The schedule spans every step the phase may take; early stopping may end it sooner.
  const totalSteps = spec.epochs * stepsPerEpoch;
  try {
    if (spec.keepStart && spec.validation.length > 0) {
      const start = await evaluate(spec, spec.validation);
      best = { loss: start.loss, epoch: -1, values: spec.variables.map((v) => tf.keep(v.clone())) };
    }
    for (let epoch = 0; epoch < spec.epochs; epoch++) {
      const started = performance.now();
      const order = shuffled(spec.train, rng(subSeed(spec.seed, `${spec.phase}-epoch-${epoch}`)));
      let lossSum = 0;
      let correct = 0;
      for (let b = 0; b < stepsPerEpoch; b++) {
        await yieldToEvents();
        if (spec.isCancelled()) throw new Cancelled();
        const idx = order.slice(b * spec.batchSize, (b + 1) * spec.batchSize);
        const labels = idx.map(spec.labelOf);
        const scheduled = scheduleFactor(spec.schedule ?? 'constant', step, totalSteps);
        const { loss, predicted } = await trainStep(spec, optimizer, idx, labels, epoch, step, scheduled);
        lossSum += loss * idx.length;
        predicted.forEach((p, k) => {
          if (p === labels[k]) correct++;
        });
        step++;
        spec.onBatch?.(b + 1, stepsPerEpoch);
      }
      const val = spec.validation.length > 0 ? await evaluate(spec, spec.validation) : null;
      const record: EpochRecord = {
        epoch,
        phase: spec.phase,
        loss: lossSum / spec.train.length,
        acc: correct / spec.train.length,
        valLoss: val?.loss ?? null,
        valAcc: val?.acc ?? null,
        ms: Math.round(performance.now() - started),
      };
      records.push(record);
      spec.onEpoch(record);
      const monitored = record.valLoss ?? record.loss;
      if (!best || monitored < best.loss - 1e-6) {
        best?.values.forEach((t) => t.dispose());
        best = { loss: monitored, epoch, values: spec.variables.map((v) => tf.keep(v.clone())) };
      } else if (epoch - best.epoch >= spec.patience) break;
    }
    if (best) spec.variables.forEach((v, i) => v.assign(best!.values[i]!));
    return records;
  } finally {
    best?.values.forEach((t) => t.dispose());
    if (!(optimizer instanceof ArrayAdam)) optimizer.groups.forEach((g) => g.optimizer.dispose());
  }
}
