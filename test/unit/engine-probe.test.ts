// The linear probe scores separable features high and label-free noise near chance, and the
// float16 cache format round-trips what a frozen pass produces.
import { describe, it, expect } from 'vitest';
import {
  gramOf,
  probeAccuracy,
  probeFolds,
  ridgeScore,
  ridgeScoreFromGram,
  standardize,
  stratifiedFolds,
} from '../../electron/core/engine/probe.js';
import { rng } from '../../electron/core/engine/seeded.js';
import { toFloat16, fromFloat16 } from '../../electron/core/engine/float16.js';

function data(n: number, d: number, classes: number, signal: number, seed: number) {
  const r = rng(seed);
  const labels = Array.from({ length: n }, (_, i) => i % classes);
  const features = labels.map((l) => Float32Array.from({ length: d }, (_, k) => (k % classes === l ? signal : 0) + (r() - 0.5)));
  return { features, labels };
}

describe('probe', () => {
  it('tells separable features from noise', () => {
    const good = data(120, 64, 4, 1.5, 1);
    const noise = data(120, 64, 4, 0, 2);
    expect(probeAccuracy(good.features, good.labels, { seed: 1 })).toBeGreaterThan(0.9);
    expect(probeAccuracy(noise.features, noise.labels, { seed: 1 })).toBeLessThan(0.45);
  });

  it('stratifies folds and repeats them for a seed', () => {
    const labels = Array.from({ length: 50 }, (_, i) => (i < 40 ? 0 : 1));
    const folds = stratifiedFolds(labels, 5, 3);
    expect(folds.flat().sort((a, b) => a - b)).toEqual(labels.map((_, i) => i));
    for (const f of folds) expect(f.filter((i) => labels[i] === 1)).toHaveLength(2);
    expect(stratifiedFolds(labels, 5, 3)).toEqual(folds);
  });
});

/** The probe as first written: one ridge fit per fold and strength, in the dual. The fast paths must answer the same. */
function referenceHeldOut(features: Float32Array[], labels: number[], lambdaPerWidth: number): number[][] {
  const n = features.length;
  const d = features[0]!.length;
  const classes = Math.max(...labels) + 1;
  const x = standardize(features, d);
  const k = (i: number, j: number) => x[i]!.reduce((s, v, q) => s + v * x[j]![q]!, 0);
  return probeFolds(labels).map((folds) => {
    const pred = new Array<number>(n).fill(-1);
    for (const test of folds) {
      const train = labels.map((_, i) => i).filter((i) => !test.includes(i));
      const m = train.length;
      // Gaussian elimination on (K + λI) α = Y, plainly.
      const a = train.map((i, r) => [
        ...train.map((j, c) => k(i, j) + (r === c ? lambdaPerWidth * d : 0)),
        ...Array.from({ length: classes }, (_, c) => (labels[i] === c ? 1 : 0) - 1 / classes),
      ]);
      for (let c = 0; c < m; c++) {
        for (let r = c + 1; r < m; r++) {
          const f = a[r]![c]! / a[c]![c]!;
          for (let q = c; q < m + classes; q++) a[r]![q]! -= f * a[c]![q]!;
        }
      }
      const alpha = Array.from({ length: m }, () => new Array<number>(classes).fill(0));
      for (let r = m - 1; r >= 0; r--)
        for (let c = 0; c < classes; c++) {
          let s = a[r]![m + c]!;
          for (let q = r + 1; q < m; q++) s -= a[r]![q]! * alpha[q]![c]!;
          alpha[r]![c] = s / a[r]![r]!;
        }
      for (const t of test) {
        const f = Array.from({ length: classes }, (_, c) => train.reduce((s, j, q) => s + k(t, j) * alpha[q]![c]!, 0));
        pred[t] = f.indexOf(Math.max(...f));
      }
    }
    return pred;
  });
}

describe("the probe's fast solvers", () => {
  for (const [what, d, signal] of [
    ['narrow rows (primal)', 6, 0.35],
    ['wide rows (dual, one inverse for every fold)', 50, 0.1],
  ] as const)
    it(`give every held-out row the answer of a fit without its fold: ${what}`, () => {
      const { features, labels } = data(40, d, 3, signal, 5);
      const score = ridgeScore(features, labels);
      // The best of the grid, recomputed from the reference's answers.
      const draws = probeFolds(labels);
      const accuracies = [0.1, 1, 10].map((l) => {
        const pred = referenceHeldOut(features, labels, l);
        return pred.flat().filter((p, i) => p === labels[i % labels.length]).length / (labels.length * draws.length);
      });
      expect(score.accuracy).toBeCloseTo(Math.max(...accuracies), 12);
      expect(score.accuracy).toBeGreaterThan(0.4);
      expect(score.accuracy).toBeLessThan(1);
    });
});

describe('candidates scored from their parts (compare-features.ts)', () => {
  it("a concatenation's score from the sum of its parts' Gram matrices is the concatenated rows' score, row by row", () => {
    const a = data(40, 30, 3, 0.12, 8);
    const b = data(40, 45, 3, 0.08, 9);
    const concat = a.features.map((r, i) => Float32Array.from([...r, ...b.features[i]!]));
    const whole = ridgeScore(concat, a.labels);
    const n = a.labels.length;
    const sum = new Float64Array(n * n);
    for (const part of [a.features, b.features]) {
      const g = gramOf(standardize(part, part[0]!.length), part[0]!.length);
      g.forEach((v, i) => (sum[i]! += v));
    }
    const fromParts = ridgeScoreFromGram(sum, a.labels, probeFolds(a.labels), 75);
    expect(fromParts.accuracy).toBeCloseTo(whole.accuracy, 12);
    expect(Array.from(fromParts.correct)).toEqual(Array.from(whole.correct));
    expect(whole.accuracy).toBeLessThan(1);
  });
});

describe('float16', () => {
  it('round-trips activations within half precision', () => {
    const x = Float32Array.from([0, 1, -2.5, 6, 0.0001, 1234.5, 65504, -0.333]);
    const back = fromFloat16(toFloat16(x));
    x.forEach((v, i) => expect(Math.abs(back[i]! - v)).toBeLessThanOrEqual(Math.abs(v) * 1e-3 + 1e-7));
  });
});
