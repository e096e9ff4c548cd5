// The quick model behind labeling suggestions: strategy 3's convex head (L2-regularised softmax,
// engine/linear-head.ts) on cached pooled features, refitted each time the labels change.
//
// Features are wide (average and max of a layer of each built-in base: thousands of columns)
// while a project has hundreds of pictures, so the fit works in the span of the labeled rows, as
// the run's head does: one Gram matrix of every picture's standardised features, kept while the
// pictures stay the same, and then a refit costs a Cholesky factor of the labeled block and m² per
// step, whatever the width. A refit every few seconds cannot afford the run's cross-validated
// strength, so it uses a fixed one.
import { gram, solveSoftmax, standardised } from '../engine/linear-head.js';
import { cholesky } from '../engine/linear-head.js';

/**
 * Strength per unit of width (standardised rows have ‖x‖² ≈ d), from the run's grid: the one the
 * out-of-fold refits pick by held-out log loss on both bundled datasets (eval/convex-out-of-fold.ts).
 * The labeling benchmark's annotator, replayed offline on both bases' features, took 274 actions
 * on clipart-8 and 232 on clipart-b with it, 322 and 272 with 1e-3 (343 with 1e-2 on clipart-8).
 */
export const SUGGEST_LAMBDA = 1e-4;
const MAX_ITERATIONS = 150;

export interface SuggestFit {
  /** One row of class probabilities per unlabeled index, in order. */
  probabilities: Float32Array[];
  iterations: number;
}

/** Inverse-frequency weights (mean 1): a label with few pictures still pulls its share. */
function classWeights(labels: number[], classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const l of labels) counts[l]!++;
  const present = counts.filter((c) => c > 0).length;
  return counts.map((c) => (c > 0 ? labels.length / (present * c) : 0));
}

/**
 * Every picture of a project as rows of one Gram matrix (standardised over all of them, labeled or
 * not: the unlabeled pictures are the ones to be read well). Built once per set of pictures.
 */
export class SuggestSpace {
  readonly n: number;
  readonly width: number;
  private readonly g: Float64Array;

  constructor(rows: Float32Array[]) {
    if (rows.length === 0) throw new Error('Suggestions need pictures.');
    const { x, mean } = standardised(rows);
    this.n = rows.length;
    this.width = mean.length;
    this.g = gram(x);
  }

  /** Fits on the rows `labeled` (with `labels`) and returns class probabilities of the rows `unlabeled`. */
  fit(labeled: number[], labels: number[], unlabeled: number[], classes: number, lambda = SUGGEST_LAMBDA): SuggestFit {
    if (labeled.length === 0) throw new Error('Suggestions need labeled pictures.');
    const { g, n } = this;
    const m = labeled.length;
    const l = cholesky(g, n, labeled);
    const theta = new Float64Array(m * classes + classes);
    const iterations = solveSoftmax(l, { rows: m, width: m, classes }, labels, lambda * this.width, theta, {
      classWeights: classWeights(labels, classes),
      maxIterations: MAX_ITERATIONS,
    });
    const z = new Float64Array(m);
    const logits = new Float64Array(classes);
    const probabilities = unlabeled.map((row) => {
      // The row's coordinates in the labeled rows' span (L z = its Gram row), then the logits.
      for (let i = 0; i < m; i++) {
        let s = g[row * n + labeled[i]!]!;
        for (let j = 0; j < i; j++) s -= l[i * m + j]! * z[j]!;
        z[i] = s / l[i * m + i]!;
      }
      for (let c = 0; c < classes; c++) logits[c] = theta[m * classes + c]!;
      for (let j = 0; j < m; j++) for (let c = 0; c < classes; c++) logits[c]! += z[j]! * theta[j * classes + c]!;
      let max = -Infinity;
      for (let c = 0; c < classes; c++) max = Math.max(max, logits[c]!);
      let sum = 0;
      const p = new Float32Array(classes);
      for (let c = 0; c < classes; c++) sum += p[c] = Math.exp(logits[c]! - max);
      for (let c = 0; c < classes; c++) p[c]! /= sum;
      return p;
    });
    return { probabilities, iterations };
  }
}
