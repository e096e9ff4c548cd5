// The quick model behind labeling suggestions: strategy 3's convex head (L2-regularised softmax,
// engine/linear-head.ts) on cached pooled features, refitted each time the labels change.
//
// Features are wide (average and max of a layer of each built-in base: thousands of columns)
// while a project has hundreds of pictures, so the fit works in the span of the labeled rows, as
// the run's head does: one Gram matrix of every picture's standardised features, kept while the
// pictures stay the same, and then a refit costs a Cholesky factor of the labeled block and m² per
// step, whatever the width. A refit every few seconds cannot afford the run's cross-validated
// strength, so it uses a fixed one; nor would it gain from it: re-choosing the strength by 5-fold
// cross-validation on the labeled pictures whenever they grew by a quarter took the benchmark's
// annotator, replayed offline on clipart-8, 293 actions instead of 287 (the labeled pictures are
// the easy, confidently suggested ones, a poor sample to choose a strength on).
//
// Refits start from the previous answer: labels change a few at a time, so the last fit's weights
// (kept per picture, as coefficients of its standardised row, so they survive the labeled set
// changing) are already close to the new optimum, and the solver needs a fraction of the steps.
// The optimum is the same wherever it starts (the objective is strictly convex): the start changes
// the time, not the suggestions.
import { cholesky, gram, solveSoftmax, standardised } from '../engine/linear-head.js';

/**
 * Strength per unit of width (standardised rows have ‖x‖² ≈ d), from the run's grid: the one the
 * out-of-fold refits pick by held-out log loss on both bundled datasets (eval/convex-out-of-fold.ts).
 * The labeling benchmark's annotator, replayed offline on both bases' features, took 274 actions
 * on clipart-8 and 232 on clipart-b with it, 322 and 272 with 1e-3 (343 with 1e-2 on clipart-8).
 */
export const SUGGEST_LAMBDA = 1e-4;
/** L-BFGS steps of a fit from zero (the first, or after the set of labels changed). */
const MAX_ITERATIONS = 150;
/**
 * Steps of a refit from the previous fit. The solver's own stopping rule is strict (it rarely
 * stops before 150 even from a close start), and each step costs m² per class; the annotator of
 * the labeling benchmark, replayed offline on clipart-8, took the same actions with 40 steps per
 * warm refit as with 150 from zero (280 and 274–278), and the benchmark's fit went from a median
 * of 3.8 s to 0.9 s on a loaded machine.
 */
const WARM_ITERATIONS = 40;

export interface SuggestFit {
  /** One row of class probabilities per unlabeled index, in order. */
  probabilities: Float32Array[];
  iterations: number;
  /** Whether the fit started from the previous one's weights. */
  warm: boolean;
}

/**
 * A fit's weights in a form that outlives its labeled set: W = Σ_i a_i x_i over the standardised
 * rows (representer theorem), so `dual` holds a_i per class for every row of the space (zero for
 * rows that were not labeled), and the bias per class.
 */
interface Weights {
  classes: number;
  dual: Float64Array;
  bias: Float64Array;
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
  private last: Weights | null = null;

  /**
   * `previous`: the space this one replaces (same rows first, in the same order, then new ones):
   * its last fit is where the next fit starts.
   */
  constructor(rows: Float32Array[], previous?: SuggestSpace | null) {
    if (rows.length === 0) throw new Error('Suggestions need pictures.');
    const { x, mean } = standardised(rows);
    this.n = rows.length;
    this.width = mean.length;
    this.g = gram(x);
    const last = previous?.last;
    if (last && previous.n <= this.n) {
      const dual = new Float64Array(this.n * last.classes);
      dual.set(last.dual);
      this.last = { classes: last.classes, dual, bias: last.bias };
    }
  }

  /** Fits on the rows `labeled` (with `labels`) and returns class probabilities of the rows `unlabeled`. */
  fit(labeled: number[], labels: number[], unlabeled: number[], classes: number, lambda = SUGGEST_LAMBDA): SuggestFit {
    if (labeled.length === 0) throw new Error('Suggestions need labeled pictures.');
    const { g, n } = this;
    const m = labeled.length;
    const l = cholesky(g, n, labeled);
    // In the span's coordinates (rows of L), the weights are θ = Lᵀ a over the labeled rows.
    const theta = new Float64Array(m * classes + classes);
    const start = this.last?.classes === classes ? this.last : null;
    if (start) {
      for (let i = 0; i < m; i++) {
        const a = labeled[i]! * classes;
        for (let j = 0; j <= i; j++) {
          const lij = l[i * m + j]!;
          for (let c = 0; c < classes; c++) theta[j * classes + c]! += lij * start.dual[a + c]!;
        }
      }
      theta.set(start.bias, m * classes);
    }
    const iterations = solveSoftmax(l, { rows: m, width: m, classes }, labels, lambda * this.width, theta, {
      classWeights: classWeights(labels, classes),
      maxIterations: start ? WARM_ITERATIONS : MAX_ITERATIONS,
    });
    this.last = this.weights(labeled, l, theta, classes);
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
    return { probabilities, iterations, warm: start !== null };
  }

  /** θ back to per-row coefficients: a = L⁻ᵀ θ (back substitution per class). */
  private weights(labeled: number[], l: Float64Array, theta: Float64Array, classes: number): Weights {
    const m = labeled.length;
    const a = new Float64Array(m * classes);
    for (let i = m - 1; i >= 0; i--) {
      const lii = l[i * m + i]!;
      for (let c = 0; c < classes; c++) {
        let s = theta[i * classes + c]!;
        for (let k = i + 1; k < m; k++) s -= l[k * m + i]! * a[k * classes + c]!;
        a[i * classes + c] = s / lii;
      }
    }
    const dual = new Float64Array(this.n * classes);
    labeled.forEach((row, i) => dual.set(a.subarray(i * classes, (i + 1) * classes), row * classes));
    return { classes, dual, bias: theta.slice(m * classes) };
  }
}
