// The quick model behind suggestions fits in the span of the labeled rows (one Gram matrix of
// every picture): the same answer as the softmax fitted on the feature columns themselves, at a
// cost that does not grow with the feature width.
import { describe, it, expect } from 'vitest';
import { SuggestSpace, SUGGEST_LAMBDA } from '../../electron/core/suggest/fit.js';
import { solveSoftmax, standardised } from '../../electron/core/engine/linear-head.js';
import { rng } from '../../electron/core/engine/seeded.js';

function clouds(n: number, width: number, classes: number, seed: number, signal = 1.5): { rows: Float32Array[]; labels: number[] } {
  const r = rng(seed);
  const labels = Array.from({ length: n }, (_, i) => i % classes);
  const rows = labels.map((l) => Float32Array.from({ length: width }, (_, d) => (d % classes === l ? signal : 0) + (r() - 0.5) * 2));
  return { rows, labels };
}

describe('suggestion fit', () => {
  it('gives the feature-space softmax answer, and suggests the right labels for the unlabeled', () => {
    // Wider than the pictures are many, as pooled features are.
    const { rows, labels } = clouds(30, 60, 3, 4);
    const labeled = [...Array(12).keys()];
    const unlabeled = [...Array(18).keys()].map((i) => i + 12);
    const fit = new SuggestSpace(rows).fit(
      labeled,
      labeled.map((i) => labels[i]!),
      unlabeled,
      3,
    );

    // The reference: the same objective on the standardised feature columns.
    const { x } = standardised(rows);
    const d = 60;
    const flat = new Float64Array(labeled.length * d);
    labeled.forEach((i, k) => flat.set(x[i]!, k * d));
    const theta = new Float64Array(d * 3 + 3);
    solveSoftmax(
      flat,
      { rows: 12, width: d, classes: 3 },
      labeled.map((i) => labels[i]!),
      SUGGEST_LAMBDA * d,
      theta,
      {
        classWeights: [1, 1, 1],
        maxIterations: 500,
      },
    );
    unlabeled.forEach((row, k) => {
      const logits = [0, 1, 2].map((c) => theta[d * 3 + c]! + x[row]!.reduce((s, v, j) => s + v * theta[j * 3 + c]!, 0));
      const max = Math.max(...logits);
      const sum = logits.reduce((s, v) => s + Math.exp(v - max), 0);
      logits.forEach((v, c) => expect(fit.probabilities[k]![c]!).toBeCloseTo(Math.exp(v - max) / sum, 3));
    });
    const right = unlabeled.filter((row, k) => fit.probabilities[k]!.indexOf(Math.max(...fit.probabilities[k]!)) === labels[row]).length;
    expect(right).toBeGreaterThanOrEqual(16);
  });
});

describe('suggestion refits', () => {
  it('start from the previous fit: the same suggestions as a fit from scratch, in no more steps', () => {
    const { rows, labels } = clouds(160, 200, 4, 7, 0.3);
    const first = [...Array(100).keys()];
    const grown = [...Array(106).keys()];
    const rest = (labeled: number[]) => [...Array(160).keys()].filter((i) => !labeled.includes(i));
    const warm = new SuggestSpace(rows);
    warm.fit(
      first,
      first.map((i) => labels[i]!),
      rest(first),
      4,
    );
    const again = warm.fit(
      grown,
      grown.map((i) => labels[i]!),
      rest(grown),
      4,
    );
    const cold = new SuggestSpace(rows).fit(
      grown,
      grown.map((i) => labels[i]!),
      rest(grown),
      4,
    );
    expect(again.warm).toBe(true);
    expect(cold.warm).toBe(false);
    expect(again.iterations).toBeLessThanOrEqual(cold.iterations);
    again.probabilities.forEach((p, k) => p.forEach((v, c) => expect(v).toBeCloseTo(cold.probabilities[k]![c]!, 3)));

    // New pictures arrive: the space is rebuilt with more rows, and still starts from the last fit.
    const more = clouds(170, 200, 4, 7, 0.3).rows;
    const rebuilt = new SuggestSpace(more, warm);
    const after = rebuilt.fit(
      grown,
      grown.map((i) => labels[i]!),
      [...Array(170).keys()].filter((i) => !grown.includes(i)),
      4,
    );
    expect(after.warm).toBe(true);
    // A different set of labels (class count) starts from zero.
    expect(
      rebuilt.fit(
        first,
        first.map((i) => labels[i]! % 2),
        rest(first),
        2,
      ).warm,
    ).toBe(false);
  });
});
