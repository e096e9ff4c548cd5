// The strategy-3 head fitted to convergence: L2-regularised softmax regression on standardised
// features, its strength chosen by cross-validation on the rows it is given (training +
// validation, never test). Adam with early stopping stopped this head far from its optimum (the
// wizard's run scored below a linear probe on the same features); a convex objective solved by
// L-BFGS has one answer for a seed-free input, so the fit is also reproducible to the bit.
//
// Features can be wide (thousands of dimensions from several layers) while images are few, so
// the fit works in the span of the rows: with K = X Xᵀ = L Lᵀ (Cholesky), Z = L is an exact n-dim
// stand-in for X (Z Zᵀ = K), and the L2-regularised optimum W = Xᵀ A lies in that span
// (representer theorem). One Gram matrix, then every fit costs n², independent of the width.
import * as tf from '@tensorflow/tfjs';
import { stratifiedFolds } from './probe.js';
import { Head } from './head.js';
import { cholesky, forwardSolve, gram, standardised } from './row-span.js';
import { lbfgs, rowWeights, type SoftmaxProblem } from './softmax-lbfgs.js';

// The solver's pieces, for the callers that import them from here (out-of-fold refits, suggestions).
export { cholesky, gram, spanCoordinates, standardised } from './row-span.js';
export { MAX_ITERATIONS, solveSoftmax } from './softmax-lbfgs.js';

export interface LinearHeadOptions {
  /** Per-class loss weights (e.g. inverse frequency); default all 1. */
  classWeights?: number[] | null;
  /** Candidate strengths λ (per-row-mean loss + λ/2·‖W‖²); default LAMBDA_GRID. */
  lambdas?: number[];
  folds?: number;
  seed?: number;
}

export interface LinearHead {
  /** Standardisation of the input (the saved model's fixed BatchNormalization). */
  mean: Float32Array;
  variance: Float32Array;
  /** Dense kernel [inputDim, classes] row-major, on standardised features, and bias [classes]. */
  kernel: Float32Array;
  bias: Float32Array;
  lambda: number;
  /** Cross-validated accuracy per candidate λ (the chosen one's is the head's estimate on new images). */
  cv: { lambda: number; accuracy: number }[];
  /** Fold accuracies at the chosen λ: their spread is the estimate's uncertainty. */
  foldAccuracies: number[];
  /** Mean cross-entropy and accuracy on the rows fitted (the curve's one "epoch"). */
  train: { loss: number; acc: number };
}

/**
 * Strengths tried, relative to the feature width d (‖x‖² ≈ d once standardised, so λ·n/d sets
 * the balance between fit and penalty for any width). Wide and coarse on purpose: the
 * cross-validation picks, not a setting tuned to one dataset.
 */
export const LAMBDA_GRID = [1e-5, 1e-4, 1e-3, 1e-2];
export const DEFAULT_FOLDS = 5;

/** Fits on the Gram rows `fit` at each λ (largest first, warm-started); returns θ per λ and the factor. */
function fitPath(
  g: Float64Array,
  n: number,
  fit: number[],
  labels: number[],
  classes: number,
  lambdas: number[],
  classWeights?: number[] | null,
) {
  const l = cholesky(g, n, fit);
  const m = fit.length;
  const problem: SoftmaxProblem = {
    z: l,
    m,
    r: m,
    classes,
    labels: fit.map((i) => labels[i]!),
    weights: rowWeights(
      fit.map((i) => labels[i]!),
      classWeights,
    ),
    lambda: 0,
  };
  const theta = new Float64Array(m * classes + classes);
  const thetas = new Map<number, Float64Array>();
  for (const lambda of [...lambdas].sort((a, b) => b - a)) {
    problem.lambda = lambda;
    lbfgs(problem, theta);
    thetas.set(lambda, theta.slice());
  }
  return { l, thetas };
}

function predictInSpan(
  g: Float64Array,
  n: number,
  fit: number[],
  l: Float64Array,
  theta: Float64Array,
  classes: number,
  row: number,
): number {
  const m = fit.length;
  const k = Float64Array.from(fit, (j) => g[row * n + j]!);
  const z = forwardSolve(l, m, k);
  let best = 0;
  let bestV = -Infinity;
  for (let c = 0; c < classes; c++) {
    let v = theta[m * classes + c]!;
    for (let j = 0; j < m; j++) v += z[j]! * theta[j * classes + c]!;
    if (v > bestV) [best, bestV] = [c, v];
  }
  return best;
}

/** Cross-validated accuracy per λ over stratified folds of the rows behind `g`. */
export function crossValidate(
  g: Float64Array,
  labels: number[],
  classes: number,
  options: LinearHeadOptions = {},
): { lambda: number; accuracy: number; folds: number[]; correct: Uint8Array }[] {
  const n = labels.length;
  const lambdas = options.lambdas ?? LAMBDA_GRID;
  const folds = stratifiedFolds(labels, Math.min(options.folds ?? DEFAULT_FOLDS, n), options.seed ?? 1);
  const perFold = lambdas.map(() => [] as number[]);
  // Which rows each λ got right when held out: candidates scored on the same folds compare row by row.
  const correctRows = lambdas.map(() => new Uint8Array(n));
  for (const test of folds) {
    const held = new Set(test);
    const fit = labels.map((_, i) => i).filter((i) => !held.has(i));
    const { l, thetas } = fitPath(g, n, fit, labels, classes, lambdas, options.classWeights);
    lambdas.forEach((lambda, li) => {
      const theta = thetas.get(lambda)!;
      let correct = 0;
      for (const t of test)
        if (predictInSpan(g, n, fit, l, theta, classes, t) === labels[t]) {
          correct++;
          correctRows[li]![t] = 1;
        }
      perFold[li]!.push(correct / test.length);
    });
  }
  return lambdas.map((lambda, li) => ({
    lambda,
    accuracy: perFold[li]!.reduce((a, b) => a + b, 0) / perFold[li]!.length,
    folds: perFold[li]!,
    correct: correctRows[li]!,
  }));
}

/**
 * Fits the head on these rows (the run's training + validation features, never test): λ by
 * k-fold cross-validation, then one fit on all rows at that λ, mapped back to a Dense kernel on
 * the standardised input: W = Xᵀ L⁻ᵀ W_z.
 */
export function fitLinearHead(rows: Float32Array[], labels: number[], classes: number, options: LinearHeadOptions = {}): LinearHead {
  if (rows.length !== labels.length || rows.length < 2) throw new Error('The head needs at least two labeled feature rows.');
  const { x, mean, variance } = standardised(rows);
  const n = rows.length;
  const d = mean.length;
  const g = gram(x);
  // λ is per unit of width: standardised rows have ‖x‖² ≈ d.
  const lambdas = (options.lambdas ?? LAMBDA_GRID).map((l) => l * d);
  const cv = crossValidate(g, labels, classes, { ...options, lambdas });
  const best = cv.reduce((a, b) => (b.accuracy > a.accuracy + 1e-12 ? b : a));
  const all = labels.map((_, i) => i);
  const { l, thetas } = fitPath(g, n, all, labels, classes, [best.lambda], options.classWeights);
  const theta = thetas.get(best.lambda)!;
  // A = L⁻ᵀ W_z (back substitution per class), then W = Xᵀ A.
  const a = new Float64Array(n * classes);
  for (let c = 0; c < classes; c++) {
    for (let i = n - 1; i >= 0; i--) {
      let s = theta[i * classes + c]!;
      for (let k = i + 1; k < n; k++) s -= l[k * n + i]! * a[k * classes + c]!;
      a[i * classes + c] = s / l[i * n + i]!;
    }
  }
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const logits = Array.from({ length: classes }, (_, c) => {
      let v = theta[n * classes + c]!;
      for (let j = 0; j <= i; j++) v += l[i * n + j]! * theta[j * classes + c]!;
      return v;
    });
    const max = Math.max(...logits);
    const lse = max + Math.log(logits.reduce((t, v) => t + Math.exp(v - max), 0));
    loss += lse - logits[labels[i]!]!;
    if (logits.indexOf(max) === labels[i]) correct++;
  }
  const kernel = new Float32Array(d * classes);
  const acc = new Float64Array(d * classes);
  for (let i = 0; i < n; i++) {
    const xi = x[i]!;
    for (let k = 0; k < d; k++) {
      const v = xi[k]!;
      if (v === 0) continue;
      for (let c = 0; c < classes; c++) acc[k * classes + c]! += v * a[i * classes + c]!;
    }
  }
  kernel.set(acc);
  return {
    mean,
    variance,
    kernel,
    bias: Float32Array.from(theta.subarray(n * classes)),
    lambda: best.lambda / d,
    cv: cv.map((c) => ({ lambda: c.lambda / d, accuracy: c.accuracy })),
    foldAccuracies: best.folds,
    train: { loss: loss / n, acc: correct / n },
  };
}

/** A Head (the saved model's layers) carrying a convex fit: standardisation stats, Dense kernel and bias. */
export function headFromFit(fit: LinearHead, classes: number, seed: number): Head {
  const head = new Head(fit.mean.length, classes, { denseUnits: 0, dropout: 0 }, seed, { mean: fit.mean, variance: fit.variance });
  const kernel = tf.tensor2d(fit.kernel, [fit.mean.length, classes]);
  const bias = tf.tensor1d(fit.bias);
  head.out.setWeights([kernel, bias]);
  kernel.dispose();
  bias.dispose();
  return head;
}

/**
 * "Fit the run's head on these features": the one entry point for a strategy-3 head (the run, and
 * refits such as out-of-fold predictions). `rows` are pooled features, one per image; the caller
 * disposes the returned Head.
 */
export function fitHead(
  rows: Float32Array[],
  labels: number[],
  classes: number,
  options: LinearHeadOptions & { seed: number },
): { head: Head; fit: LinearHead } {
  const fit = fitLinearHead(rows, labels, classes, options);
  return { head: headFromFit(fit, classes, options.seed), fit };
}
