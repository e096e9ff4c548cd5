// The quick model behind labeling suggestions: strategy 3's convex head (L2-regularised softmax,
// engine/linear-head.ts) on cached pooled features, refitted each time the labels change. A run's
// head picks its strength by cross-validation and works in the span of its rows (cost n³); a
// refit every few seconds cannot afford that, so this one uses a fixed strength in feature
// space (cost n·d per step) and starts from the previous answer, which is close.
import { solveSoftmax } from '../engine/linear-head.js';

/** Strength per unit of width (standardised rows have ‖x‖² ≈ d); the middle of the run's grid. */
export const SUGGEST_LAMBDA = 1e-3;
/**
 * Enough for a warm start to settle: on clipart-8's labeling benchmark 30 and 100 gave the same
 * suggestions at every step, so the cap only bounds a cold start's time.
 */
const MAX_ITERATIONS = 50;

export interface SuggestFitInput {
  labeled: Float32Array[];
  labels: number[];
  unlabeled: Float32Array[];
  classes: number;
  /** The previous fit's parameters ([W (d×c) | b (c)]), when the width and classes are unchanged. */
  warm?: Float64Array | null;
  lambda?: number;
}

export interface SuggestFit {
  /** One row of class probabilities per unlabeled input, in order. */
  probabilities: Float32Array[];
  theta: Float64Array;
  iterations: number;
}

/** Mean and 1/std over every row, labeled or not: the unlabeled pictures are the ones to be read well. */
function stats(rows: Float32Array[], d: number): { mean: Float64Array; inv: Float64Array } {
  const mean = new Float64Array(d);
  const sq = new Float64Array(d);
  for (const r of rows) for (let k = 0; k < d; k++) mean[k]! += r[k]!;
  for (let k = 0; k < d; k++) mean[k]! /= rows.length;
  for (const r of rows) for (let k = 0; k < d; k++) sq[k]! += (r[k]! - mean[k]!) ** 2;
  const inv = sq.map((s) => 1 / Math.sqrt(s / rows.length + 1e-6));
  return { mean, inv };
}

function flat(rows: Float32Array[], d: number, s: { mean: Float64Array; inv: Float64Array }): Float64Array {
  const x = new Float64Array(rows.length * d);
  rows.forEach((r, i) => {
    for (let k = 0; k < d; k++) x[i * d + k] = (r[k]! - s.mean[k]!) * s.inv[k]!;
  });
  return x;
}

/** Inverse-frequency weights (mean 1): a label with few pictures still pulls its share. */
function classWeights(labels: number[], classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const l of labels) counts[l]!++;
  const present = counts.filter((c) => c > 0).length;
  return counts.map((c) => (c > 0 ? labels.length / (present * c) : 0));
}

export function fitAndPredict(input: SuggestFitInput): SuggestFit {
  const { labeled, labels, unlabeled, classes } = input;
  if (labeled.length === 0) throw new Error('Suggestions need labeled pictures.');
  const d = labeled[0]!.length;
  const s = stats([...labeled, ...unlabeled], d);
  const size = d * classes + classes;
  const theta = input.warm && input.warm.length === size ? input.warm.slice() : new Float64Array(size);
  const iterations = solveSoftmax(
    flat(labeled, d, s),
    { rows: labeled.length, width: d, classes },
    labels,
    (input.lambda ?? SUGGEST_LAMBDA) * d,
    theta,
    { classWeights: classWeights(labels, classes), maxIterations: MAX_ITERATIONS },
  );
  const x = flat(unlabeled, d, s);
  const logits = new Float64Array(classes);
  const probabilities = unlabeled.map((_, i) => {
    for (let c = 0; c < classes; c++) logits[c] = theta[d * classes + c]!;
    for (let k = 0; k < d; k++) {
      const v = x[i * d + k]!;
      if (v === 0) continue;
      for (let c = 0; c < classes; c++) logits[c]! += v * theta[k * classes + c]!;
    }
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[c]!);
    let sum = 0;
    const p = new Float32Array(classes);
    for (let c = 0; c < classes; c++) sum += p[c] = Math.exp(logits[c]! - max);
    for (let c = 0; c < classes; c++) p[c]! /= sum;
    return p;
  });
  return { probabilities, theta, iterations };
}
