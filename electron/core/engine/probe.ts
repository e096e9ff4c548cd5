// A quick cross-validated linear probe: how well a linear classifier separates the labels from
// one layer's pooled activations. Ridge regression on one-hot targets, solved in its dual form
// (n×n, since images are fewer than feature dimensions), so a block costs a Gram matrix and a few
// small Cholesky solves — well under a second for hundreds of images, no training loop to tune.
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
  const n = features.length;
  if (n !== labels.length || n < 4) throw new Error('The probe needs at least 4 labeled feature rows.');
  const d = features[0]!.length;
  const classes = Math.max(...labels) + 1;
  const x = standardize(features, d);
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
  const draws = Array.from({ length: options.repeats ?? 3 }, (_, r) =>
    stratifiedFolds(labels, Math.min(options.folds ?? 5, n), (options.seed ?? 1) + r * 7919),
  );
  let best = 0;
  for (const lambda of [0.1 * d, d, 10 * d]) {
    let correct = 0;
    let total = 0;
    for (const test of draws.flat()) {
      const testSet = new Set(test);
      const train = labels.map((_, i) => i).filter((i) => !testSet.has(i));
      const alpha = solveDual(gram, n, train, labels, classes, lambda);
      for (const t of test) {
        let bestC = 0;
        let bestV = -Infinity;
        for (let c = 0; c < classes; c++) {
          let v = 0;
          for (let a = 0; a < train.length; a++) v += gram[t * n + train[a]!]! * alpha[a * classes + c]!;
          if (v > bestV) {
            bestV = v;
            bestC = c;
          }
        }
        if (bestC === labels[t]) correct++;
        total++;
      }
    }
    best = Math.max(best, correct / total);
  }
  return best;
}

function standardize(rows: Float32Array[], d: number): Float64Array[] {
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

/** α = (K + λI)⁻¹ (Y − mean Y) over the training rows; predictions are K(test, train)·α. */
function solveDual(gram: Float64Array, n: number, train: number[], labels: number[], classes: number, lambda: number): Float64Array {
  const m = train.length;
  const a = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) a[i * m + j] = gram[train[i]! * n + train[j]!]! + (i === j ? lambda : 0);
  // Cholesky: a = L Lᵀ, in place (lower triangle).
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
  const y = new Float64Array(m * classes);
  for (let i = 0; i < m; i++) for (let c = 0; c < classes; c++) y[i * classes + c] = (labels[train[i]!] === c ? 1 : 0) - 1 / classes;
  for (let c = 0; c < classes; c++) {
    for (let i = 0; i < m; i++) {
      let s = y[i * classes + c]!;
      for (let k = 0; k < i; k++) s -= a[i * m + k]! * y[k * classes + c]!;
      y[i * classes + c] = s / a[i * m + i]!;
    }
    for (let i = m - 1; i >= 0; i--) {
      let s = y[i * classes + c]!;
      for (let k = i + 1; k < m; k++) s -= a[k * m + i]! * y[k * classes + c]!;
      y[i * classes + c] = s / a[i * m + i]!;
    }
  }
  return y;
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
