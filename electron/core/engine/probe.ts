// A quick cross-validated linear probe: how well a linear classifier separates the labels from
// one layer's pooled activations. Ridge regression on one-hot targets, in the primal for narrow
// layers and in the dual (through the Gram matrix) for wide ones, every fold's held-out answers
// from one inverse per strength — no training loop to tune. The wizard scores every probe point
// of every base with it (dozens of layers), so its cost is most of the wizard's arithmetic.
import { rng, shuffled } from './seeded.js';

export interface ProbeOptions {
  folds?: number;
  /** Independent fold draws averaged: one k-fold split on a few hundred images is noisy (±3–4%). */
  repeats?: number;
  seed?: number;
}

/**
 * Mean k-fold accuracy. Features are standardized over all rows (a mild leak that does not
 * change the ranking of layers, which is what the probe is for); the best of a small grid of
 * ridge strengths is reported.
 */
export function probeAccuracy(features: Float32Array[], labels: number[], options: ProbeOptions = {}): number {
  return ridgeScore(features, labels, options).accuracy;
}

export interface RidgeScore {
  /** Mean held-out accuracy over every fold of every draw, at the best strength. */
  accuracy: number;
  /** Per row, at the best strength: the share of draws whose model, not fitted on it, got it right. */
  correct: Float64Array;
}

/** Ridge strengths tried, per unit of width (standardised rows have ‖x‖² ≈ d). */
const RIDGE_GRID = [0.1, 1, 10];

/** The probe's folds for these labels: `repeats` stratified draws of `folds` folds. */
export function probeFolds(labels: number[], options: ProbeOptions = {}): number[][][] {
  const n = labels.length;
  return Array.from({ length: options.repeats ?? 3 }, (_, r) =>
    stratifiedFolds(labels, Math.min(options.folds ?? 5, n), (options.seed ?? 1) + r * 7919),
  );
}

/**
 * The probe's score with the per-row detail. Narrow rows (width under half the row count) are
 * solved in the primal (a d×d system per fold), wide ones in the dual through the Gram matrix:
 * the same ridge fit either way, at the cost of the smaller side.
 */
export function ridgeScore(features: Float32Array[], labels: number[], options: ProbeOptions = {}): RidgeScore {
  const n = features.length;
  if (n !== labels.length || n < 4) throw new Error('The probe needs at least 4 labeled feature rows.');
  const d = features[0]!.length;
  const x = standardize(features, d);
  const draws = probeFolds(labels, options);
  const lambdas = RIDGE_GRID.map((l) => l * d);
  return d < n / 2
    ? bestOf(primalHeldOut(x, d, labels, draws, lambdas), labels, draws)
    : ridgeScoreFromGram(gramOf(x, d), labels, draws, d);
}

/** The probe's score from a Gram matrix of standardized rows of width `width` (sums of blocks' Grams: a concatenation). */
export function ridgeScoreFromGram(gram: Float64Array, labels: number[], draws: number[][][], width: number): RidgeScore {
  return bestOf(
    RIDGE_GRID.map((l) => dualHeldOut(gram, labels, draws, l * width)),
    labels,
    draws,
  );
}

/** [λ][draw][row]: the class each row's held-out model predicts. Picks the λ with the best mean fold accuracy. */
function bestOf(predicted: Int32Array[][], labels: number[], draws: number[][][]): RidgeScore {
  let best: RidgeScore | null = null;
  for (const perDraw of predicted) {
    let right = 0;
    let total = 0;
    const correct = new Float64Array(labels.length);
    perDraw.forEach((pred, r) =>
      draws[r]!.forEach((fold) => {
        for (const t of fold)
          if (pred[t] === labels[t]) {
            right++;
            correct[t]! += 1 / draws.length;
          }
        total += fold.length;
      }),
    );
    const accuracy = right / total;
    if (!best || accuracy > best.accuracy) best = { accuracy, correct };
  }
  return best!;
}

export function gramOf(x: Float64Array[], d: number): Float64Array {
  const n = x.length;
  const gram = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = i; j < n; j++) {
      let s = 0;
      const a = x[i]!;
      const b = x[j]!;
      for (let k = 0; k < d; k++) s += a[k]! * b[k]!;
      gram[i * n + j] = s;
      gram[j * n + i] = s;
    }
  return gram;
}

/** Centred one-hot targets, as the fit sees them: 1 − 1/c for the label, −1/c elsewhere. */
function target(label: number, c: number, classes: number): number {
  return (label === c ? 1 : 0) - 1 / classes;
}

function argmaxRow(v: Float64Array, at: number, classes: number): number {
  let best = 0;
  for (let c = 1; c < classes; c++) if (v[at + c]! > v[at + best]!) best = c;
  return best;
}

/**
 * Held-out predictions of kernel ridge for every fold at once: with G = (K + λI)⁻¹, the rows H
 * left out of a fit get Y_H − (G_HH)⁻¹ (G Y)_H (the block-inverse identity), exactly what a fit on
 * the other rows predicts. One inverse per λ instead of one factorisation per fold.
 */
function dualHeldOut(gram: Float64Array, labels: number[], draws: number[][][], lambda: number): Int32Array[] {
  const n = labels.length;
  const classes = Math.max(...labels) + 1;
  const a = Float64Array.from(gram);
  for (let i = 0; i < n; i++) a[i * n + i]! += lambda;
  const g = inverseSpd(a, n);
  const gy = new Float64Array(n * classes);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const v = g[i * n + j]!;
      for (let c = 0; c < classes; c++) gy[i * classes + c]! += v * target(labels[j]!, c, classes);
    }
  return draws.map((folds) => {
    const pred = new Int32Array(n);
    for (const h of folds) {
      const m = h.length;
      const sub = new Float64Array(m * m);
      for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) sub[i * m + j] = g[h[i]! * n + h[j]!]!;
      const rhs = new Float64Array(m * classes);
      for (let i = 0; i < m; i++) for (let c = 0; c < classes; c++) rhs[i * classes + c] = gy[h[i]! * classes + c]!;
      choleskyInPlace(sub, m);
      solveCholesky(sub, m, rhs, classes);
      const f = new Float64Array(classes);
      h.forEach((t, i) => {
        for (let c = 0; c < classes; c++) f[c] = target(labels[t]!, c, classes) - rhs[i * classes + c]!;
        pred[t] = argmaxRow(f, 0, classes);
      });
    }
    return pred;
  });
}

/** Held-out predictions of primal ridge, w = (X_TᵀX_T + λI)⁻¹ X_TᵀY_T per fold, for narrow rows. */
function primalHeldOut(x: Float64Array[], d: number, labels: number[], draws: number[][][], lambdas: number[]): Int32Array[][] {
  const n = labels.length;
  const classes = Math.max(...labels) + 1;
  const outer = (rows: number[]) => {
    const s = new Float64Array(d * d);
    const xy = new Float64Array(d * classes);
    for (const i of rows) {
      const r = x[i]!;
      for (let p = 0; p < d; p++) {
        const v = r[p]!;
        if (v === 0) continue;
        for (let q = p; q < d; q++) s[p * d + q]! += v * r[q]!;
        for (let c = 0; c < classes; c++) xy[p * classes + c]! += v * target(labels[i]!, c, classes);
      }
    }
    return { s, xy };
  };
  const all = outer([...Array(n).keys()]);
  const out = lambdas.map(() => draws.map(() => new Int32Array(n)));
  draws.forEach((folds, r) => {
    for (const h of folds) {
      const held = outer(h);
      const xy = all.xy.map((v, k) => v - held.xy[k]!);
      lambdas.forEach((lambda, li) => {
        const a = new Float64Array(d * d);
        for (let p = 0; p < d; p++)
          for (let q = p; q < d; q++) {
            const v = all.s[p * d + q]! - held.s[p * d + q]! + (p === q ? lambda : 0);
            a[p * d + q] = v;
            a[q * d + p] = v;
          }
        const w = Float64Array.from(xy);
        choleskyInPlace(a, d);
        solveCholesky(a, d, w, classes);
        const f = new Float64Array(classes);
        for (const t of h) {
          f.fill(0);
          const row = x[t]!;
          for (let p = 0; p < d; p++) {
            const v = row[p]!;
            if (v === 0) continue;
            for (let c = 0; c < classes; c++) f[c]! += v * w[p * classes + c]!;
          }
          out[li]![r]![t] = argmaxRow(f, 0, classes);
        }
      });
    }
  });
  return out;
}

/** Lower Cholesky factor in place (the upper triangle is left as it was). */
function choleskyInPlace(a: Float64Array, m: number): void {
  for (let j = 0; j < m; j++) {
    let s = a[j * m + j]!;
    for (let k = 0; k < j; k++) s -= a[j * m + k]! ** 2;
    const ljj = Math.sqrt(Math.max(s, 1e-12));
    a[j * m + j] = ljj;
    for (let i = j + 1; i < m; i++) {
      let t = a[i * m + j]!;
      for (let k = 0; k < j; k++) t -= a[i * m + k]! * a[j * m + k]!;
      a[i * m + j] = t / ljj;
    }
  }
}

/** Solves L Lᵀ X = B in place (B is [m, cols] row-major). */
function solveCholesky(l: Float64Array, m: number, b: Float64Array, cols: number): void {
  for (let c = 0; c < cols; c++) {
    for (let i = 0; i < m; i++) {
      let s = b[i * cols + c]!;
      for (let k = 0; k < i; k++) s -= l[i * m + k]! * b[k * cols + c]!;
      b[i * cols + c] = s / l[i * m + i]!;
    }
    for (let i = m - 1; i >= 0; i--) {
      let s = b[i * cols + c]!;
      for (let k = i + 1; k < m; k++) s -= l[k * m + i]! * b[k * cols + c]!;
      b[i * cols + c] = s / l[i * m + i]!;
    }
  }
}

/** (A)⁻¹ of a symmetric positive definite A: Cholesky, the inverse of the factor, then L⁻ᵀL⁻¹. */
function inverseSpd(a: Float64Array, n: number): Float64Array {
  choleskyInPlace(a, n);
  // inv = L⁻¹, lower triangular, row-major.
  const inv = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    inv[j * n + j] = 1 / a[j * n + j]!;
    for (let i = j + 1; i < n; i++) {
      let s = 0;
      for (let k = j; k < i; k++) s -= a[i * n + k]! * inv[k * n + j]!;
      inv[i * n + j] = s / a[i * n + i]!;
    }
  }
  // G = L⁻ᵀ L⁻¹: G_ij = Σ_{k ≥ max(i, j)} inv[k][i] · inv[k][j].
  const g = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const row = k * n;
    for (let i = 0; i <= k; i++) {
      const v = inv[row + i]!;
      if (v === 0) continue;
      for (let j = 0; j <= i; j++) g[i * n + j]! += v * inv[row + j]!;
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) g[j * n + i] = g[i * n + j]!;
  return g;
}

export function standardize(rows: Float32Array[], d: number): Float64Array[] {
  const mean = new Float64Array(d);
  const sq = new Float64Array(d);
  for (const r of rows) for (let k = 0; k < d; k++) mean[k]! += r[k]!;
  for (let k = 0; k < d; k++) mean[k]! /= rows.length;
  for (const r of rows) for (let k = 0; k < d; k++) sq[k]! += (r[k]! - mean[k]!) ** 2;
  const inv = sq.map((s) => 1 / Math.sqrt(s / rows.length + 1e-8));
  return rows.map((r) => {
    const out = new Float64Array(d);
    for (let k = 0; k < d; k++) out[k] = (r[k]! - mean[k]!) * inv[k]!;
    return out;
  });
}

export function stratifiedFolds(labels: number[], k: number, seed: number): number[][] {
  const random = rng(seed);
  const folds: number[][] = Array.from({ length: k }, () => []);
  const byClass = new Map<number, number[]>();
  labels.forEach((l, i) => byClass.set(l, [...(byClass.get(l) ?? []), i]));
  let next = 0;
  for (const idx of byClass.values()) for (const i of shuffled(idx, random)) folds[next++ % k]!.push(i);
  return folds.filter((f) => f.length > 0);
}
