// The linear probe scores separable features high and label-free noise near chance, and the
// float16 cache format round-trips what a frozen pass produces.
import { describe, it, expect } from 'vitest';
import { probeAccuracy, stratifiedFolds } from '../../electron/core/engine/probe.js';
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

describe('float16', () => {
  it('round-trips activations within half precision', () => {
    const x = Float32Array.from([0, 1, -2.5, 6, 0.0001, 1234.5, 65504, -0.333]);
    const back = fromFloat16(toFloat16(x));
    x.forEach((v, i) => expect(Math.abs(back[i]! - v)).toBeLessThanOrEqual(Math.abs(v) * 1e-3 + 1e-7));
  });
});
