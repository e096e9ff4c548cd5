// The convex head: fitted to the optimum of its objective (not stopped early), mapped back to a
// Dense kernel the saved model carries, chosen by cross-validation, and the same on every fit.
import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { fitLinearHead, fitHead, standardised } from '../../electron/core/engine/linear-head.js';
import { rng } from '../../electron/core/engine/seeded.js';

/** Gaussian-ish clusters in d dims, wider than the row count (as pooled features are). */
function clusters(n: number, d: number, classes: number, spread: number, seed: number) {
  const r = rng(seed);
  const centres = Array.from({ length: classes }, () => Float32Array.from({ length: d }, () => r() * 2 - 1));
  const labels = Array.from({ length: n }, (_, i) => i % classes);
  const rows = labels.map((l) => Float32Array.from(centres[l]!, (c) => c + spread * (r() + r() + r() - 1.5) + 3));
  return { rows, labels };
}

describe('fitLinearHead', () => {
  const { rows, labels } = clusters(60, 150, 3, 2.5, 7);

  it('reaches the optimum: the primal gradient at the returned kernel is ~0', () => {
    const fit = fitLinearHead(rows, labels, 3, { lambdas: [1e-3] });
    const { x } = standardised(rows, { mean: fit.mean, variance: fit.variance });
    const d = fit.mean.length;
    const lambda = fit.lambda * d;
    const grad = new Float64Array(d * 3);
    const gradB = new Float64Array(3);
    x.forEach((row, i) => {
      const logits = [0, 1, 2].map((c) => fit.bias[c]! + row.reduce((s, v, k) => s + v * fit.kernel[k * 3 + c]!, 0));
      const max = Math.max(...logits);
      const z = logits.reduce((s, v) => s + Math.exp(v - max), 0);
      logits.forEach((v, c) => {
        const e = (Math.exp(v - max) / z - (labels[i] === c ? 1 : 0)) / rows.length;
        gradB[c]! += e;
        for (let k = 0; k < d; k++) grad[k * 3 + c]! += e * row[k]!;
      });
    });
    let norm = 0;
    let wNorm = 0;
    for (let q = 0; q < grad.length; q++) {
      norm += (grad[q]! + lambda * fit.kernel[q]!) ** 2;
      wNorm += (lambda * fit.kernel[q]!) ** 2;
    }
    for (const g of gradB) norm += g * g;
    expect(Math.sqrt(norm)).toBeLessThan(1e-3 * Math.max(1e-3, Math.sqrt(wNorm)) + 1e-5);
  });

  it('chooses the strength by cross-validation and is the same on every fit', () => {
    const a = fitLinearHead(rows, labels, 3, { seed: 3 });
    const b = fitLinearHead(rows, labels, 3, { seed: 3 });
    expect(a.cv.length).toBeGreaterThan(2);
    expect(a.cv.find((c) => c.lambda === a.lambda)!.accuracy).toBe(Math.max(...a.cv.map((c) => c.accuracy)));
    expect(Array.from(a.kernel)).toEqual(Array.from(b.kernel));
    expect(a.train.acc).toBeGreaterThan(0.9);
  });

  it('becomes a Head whose saved layers predict what the fit predicts', () => {
    const { head, fit } = fitHead(rows, labels, 3, { seed: 1, lambdas: [1e-2] });
    try {
      const probs = tf.tidy(
        () =>
          head
            .apply(
              tf.tensor2d(
                rows.flatMap((r) => Array.from(r)),
                [rows.length, 150],
              ),
              false,
              0,
            )
            .arraySync() as number[][],
      );
      const { x } = standardised(rows, { mean: fit.mean, variance: fit.variance });
      x.forEach((row, i) => {
        const logits = [0, 1, 2].map((c) => fit.bias[c]! + row.reduce((s, v, k) => s + v * fit.kernel[k * 3 + c]!, 0));
        expect(probs[i]!.indexOf(Math.max(...probs[i]!))).toBe(logits.indexOf(Math.max(...logits)));
      });
    } finally {
      head.dispose();
    }
  });
});
