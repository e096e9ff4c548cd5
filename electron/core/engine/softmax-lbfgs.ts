// L2-regularised softmax regression solved to convergence by L-BFGS: the convex head's solver
// (linear-head.ts), its out-of-fold refits and the labeling suggestions' refits. One evaluation of
// the objective is nearly all of an iteration's cost: the run estimate counts fits in evaluations.
import { dot } from './row-span.js';

/** The unit of work the wizard's budget counts: one softmax fit of at most this many L-BFGS iterations. */
export const MAX_ITERATIONS = 150;

export interface SoftmaxProblem {
  z: Float64Array; // [m, r] row-major
  m: number;
  r: number;
  classes: number;
  labels: number[];
  weights: Float64Array; // per row, summing to 1
  lambda: number;
}

/** Objective and gradient at θ = [W (r×c) | b (c)]. */
export function objective(p: SoftmaxProblem, theta: Float64Array, grad: Float64Array): number {
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

/** L-BFGS (two-loop recursion, Armijo backtracking) from `theta`, in place; returns iterations used. */
export function lbfgs(p: SoftmaxProblem, theta: Float64Array, maxIter = MAX_ITERATIONS, memory = 10): number {
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

export function rowWeights(labels: number[], classWeights: number[] | null | undefined): Float64Array {
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
