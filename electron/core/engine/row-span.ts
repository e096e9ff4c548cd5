// The rows' span, the linear algebra under the convex head (linear-head.ts) and its refits:
// standardised rows, their Gram matrix K = X Xᵀ, its Cholesky factor L (K = L Lᵀ), and any row's
// exact coordinates in the fit rows' span. Wide features (thousands of dimensions from several
// layers) over few images then cost n², not the width, in every fit after the Gram matrix.
import { featureStats } from './head.js';

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
export function forwardSolve(l: Float64Array, m: number, k: Float64Array): Float64Array {
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

export const dot = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};
