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
import { Head, featureStats } from './head.js';

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
/** The unit of work the wizard's budget counts: one softmax fit of at most this many L-BFGS iterations. */
export const MAX_ITERATIONS = 150;

/** Standardised rows (Float64), with the stats used. */
export function standardised(
  rows: Float32Array[],
  stats = featureStats(rows),
): { x: Float64Array[]; mean: Float32Array; variance: Float32Array } {
  const d = stats.mean.length;
  const inv = Float64Array.from(stats.variance, (v) => 1 / Math.sqrt(v + BN_EPSILON));
  const x = rows.map((r) => {
    const out = new Float64Array(d);
    for (let k = 0; k < d; k++) out[k] = (r[k]! - stats.mean[k]!) * inv[k]!;
    return out;
  });
  return { x, ...stats };
}

/** Must match head.ts's BatchNormalization epsilon: the saved model standardises the same way. */
const BN_EPSILON = 1e-6;

export function gram(x: Float64Array[]): Float64Array {
  const n = x.length;
  const d = x[0]?.length ?? 0;
  const g = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const a = x[i]!;
    for (let j = i; j < n; j++) {
      const b = x[j]!;
      let s = 0;
      for (let k = 0; k < d; k++) s += a[k]! * b[k]!;
      g[i * n + j] = s;
      g[j * n + i] = s;
    }
  }
  return g;
}

/** Lower Cholesky factor of the sub-Gram over `idx` (row-major m×m, upper part zero), with a small jitter so a rank-deficient K still factors. */
export function cholesky(g: Float64Array, n: number, idx: number[]): Float64Array {
  const m = idx.length;
  let trace = 0;
  for (const i of idx) trace += g[i * n + i]!;
  const jitter = 1e-8 * (trace / Math.max(1, m)) + 1e-10;
  const a = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j <= i; j++) a[i * m + j] = g[idx[i]! * n + idx[j]!]! + (i === j ? jitter : 0);
  for (let j = 0; j < m; j++) {
    let s = a[j * m + j]!;
    for (let k = 0; k < j; k++) s -= a[j * m + k]! ** 2;
    const ljj = Math.sqrt(Math.max(s, jitter));
    a[j * m + j] = ljj;
    for (let i = j + 1; i < m; i++) {
      let t = a[i * m + j]!;
      for (let k = 0; k < j; k++) t -= a[i * m + k]! * a[j * m + k]!;
      a[i * m + j] = t / ljj;
    }
    for (let k = j + 1; k < m; k++) a[j * m + k] = 0;
  }
  return a;
}

/** Solves L z = k (forward substitution): a row's coordinates in the fit rows' Z space. */
function forwardSolve(l: Float64Array, m: number, k: Float64Array): Float64Array {
  const z = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = k[i]!;
    for (let j = 0; j < i; j++) s -= l[i * m + j]! * z[j]!;
    z[i] = s / l[i * m + i]!;
  }
  return z;
}

/**
 * Exact n-dim coordinates of wide rows (n = fit rows): standardised on the fit rows' stats, with
 * K = X Xᵀ = L Lᵀ each fit row's coordinates are its row of L, any other row's L⁻¹ K(fit, row).
 * Inner products are kept, so a model whose first layer is linear and L2-penalised fits the same
 * here as on the wide rows (its optimal weights lie in the rows' span), at a cost set by n, not d.
 */
export function spanCoordinates(
  fit: Float32Array[],
  others: Float32Array[][],
): { fit: Float64Array[]; others: Float64Array[][]; width: number } {
  const stats = featureStats(fit);
  const { x } = standardised(fit, stats);
  const n = x.length;
  const l = cholesky(gram(x), n, [...Array(n).keys()]);
  const coords = (row: Float64Array) =>
    forwardSolve(
      l,
      n,
      Float64Array.from(x, (xi) => dot(xi, row)),
    );
  return {
    fit: x.map((_, i) => Float64Array.from(l.subarray(i * n, (i + 1) * n))),
    others: others.map((rows) => standardised(rows, stats).x.map(coords)),
    width: stats.mean.length,
  };
}

interface SoftmaxProblem {
  z: Float64Array; // [m, r] row-major
  m: number;
  r: number;
  classes: number;
  labels: number[];
  weights: Float64Array; // per row, summing to 1
  lambda: number;
}

/** Objective and gradient at θ = [W (r×c) | b (c)]. */
function objective(p: SoftmaxProblem, theta: Float64Array, grad: Float64Array): number {
  const { z, m, r, classes: c, labels, weights, lambda } = p;
  grad.fill(0);
  let loss = 0;
  const logits = new Float64Array(c);
  const bOff = r * c;
  for (let i = 0; i < m; i++) {
    const row = i * r;
    for (let k = 0; k < c; k++) logits[k] = theta[bOff + k]!;
    for (let j = 0; j < r; j++) {
      const v = z[row + j]!;
      if (v === 0) continue;
      const w = j * c;
      for (let k = 0; k < c; k++) logits[k]! += v * theta[w + k]!;
    }
    let max = -Infinity;
    for (let k = 0; k < c; k++) max = Math.max(max, logits[k]!);
    let sum = 0;
    for (let k = 0; k < c; k++) sum += Math.exp(logits[k]! - max);
    const lse = max + Math.log(sum);
    const wi = weights[i]!;
    loss += wi * (lse - logits[labels[i]!]!);
    for (let k = 0; k < c; k++) logits[k] = wi * (Math.exp(logits[k]! - lse) - (k === labels[i] ? 1 : 0));
    for (let j = 0; j < r; j++) {
      const v = z[row + j]!;
      if (v === 0) continue;
      const w = j * c;
      for (let k = 0; k < c; k++) grad[w + k]! += v * logits[k]!;
    }
    for (let k = 0; k < c; k++) grad[bOff + k]! += logits[k]!;
  }
  for (let q = 0; q < bOff; q++) {
    loss += 0.5 * lambda * theta[q]! ** 2;
    grad[q]! += lambda * theta[q]!;
  }
  return loss;
}

const dot = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

/** L-BFGS (two-loop recursion, Armijo backtracking) from `theta`, in place; returns iterations used. */
function lbfgs(p: SoftmaxProblem, theta: Float64Array, maxIter = MAX_ITERATIONS, memory = 10): number {
  const n = theta.length;
  const g = new Float64Array(n);
  let f = objective(p, theta, g);
  const s: Float64Array[] = [];
  const y: Float64Array[] = [];
  const rho: number[] = [];
  const dir = new Float64Array(n);
  const next = new Float64Array(n);
  const gNext = new Float64Array(n);
  const g0 = Math.sqrt(dot(g, g));
  let it = 0;
  for (; it < maxIter; it++) {
    const gn = Math.sqrt(dot(g, g));
    if (gn <= 1e-6 * Math.max(1, g0)) break;
    dir.set(g);
    const alpha: number[] = [];
    for (let k = s.length - 1; k >= 0; k--) {
      const a = rho[k]! * dot(s[k]!, dir);
      alpha[k] = a;
      for (let i = 0; i < n; i++) dir[i]! -= a * y[k]![i]!;
    }
    const gamma = s.length ? dot(s[s.length - 1]!, y[y.length - 1]!) / dot(y[y.length - 1]!, y[y.length - 1]!) : 1 / Math.max(gn, 1e-12);
    for (let i = 0; i < n; i++) dir[i]! *= gamma;
    for (let k = 0; k < s.length; k++) {
      const b = rho[k]! * dot(y[k]!, dir);
      for (let i = 0; i < n; i++) dir[i]! += s[k]![i]! * (alpha[k]! - b);
    }
    let slope = -dot(g, dir);
    if (slope >= 0) {
      // Not a descent direction (curvature pairs went stale): restart from the gradient.
      s.length = y.length = rho.length = 0;
      for (let i = 0; i < n; i++) dir[i] = g[i]! / Math.max(gn, 1e-12);
      slope = -dot(g, dir);
    }
    let step = 1;
    let fNext = Infinity;
    for (let tries = 0; tries < 30; tries++) {
      for (let i = 0; i < n; i++) next[i] = theta[i]! - step * dir[i]!;
      fNext = objective(p, next, gNext);
      if (fNext <= f + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(fNext < f)) break;
    const sk = new Float64Array(n);
    const yk = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      sk[i] = next[i]! - theta[i]!;
      yk[i] = gNext[i]! - g[i]!;
    }
    const sy = dot(sk, yk);
    if (sy > 1e-12) {
      s.push(sk);
      y.push(yk);
      rho.push(1 / sy);
      if (s.length > memory) {
        s.shift();
        y.shift();
        rho.shift();
      }
    }
    const done = f - fNext <= 1e-10 * Math.max(1, Math.abs(f));
    theta.set(next);
    g.set(gNext);
    f = fNext;
    if (done) break;
  }
  return it;
}

function rowWeights(labels: number[], classWeights: number[] | null | undefined): Float64Array {
  const w = Float64Array.from(labels, (l) => classWeights?.[l] ?? 1);
  const total = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / total);
}

/**
 * The same softmax objective solved directly on (already standardised) rows, warm-started from
 * `theta` ([W (d×c) | b (c)], updated in place). For callers that refit often on a growing set
 * with a fixed strength, such as labeling suggestions: no Gram matrix, no cross-validation, and
 * the previous answer is a good start. Returns the iterations used.
 */
export function solveSoftmax(
  x: Float64Array,
  dims: { rows: number; width: number; classes: number },
  labels: number[],
  lambda: number,
  theta: Float64Array,
  options: { classWeights?: number[] | null; maxIterations?: number } = {},
): number {
  const problem: SoftmaxProblem = {
    z: x,
    m: dims.rows,
    r: dims.width,
    classes: dims.classes,
    labels,
    weights: rowWeights(labels, options.classWeights),
    lambda,
  };
  return lbfgs(problem, theta, options.maxIterations ?? MAX_ITERATIONS);
}

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
