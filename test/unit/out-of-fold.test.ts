// Out-of-fold predictions: training pictures always, and checking pictures too when the run's own
// fit learned from them (the convex head), each predicted by a refit that never trained on it.
import { describe, it, expect } from 'vitest';
import { outOfFold } from '../../electron/core/eval/out-of-fold.js';
import { evaluateRun } from '../../electron/core/eval/run-evaluation.js';
import { defaultConfig } from '../../electron/core/engine/config.js';
import { rng } from '../../electron/core/engine/seeded.js';

/** Two labels far apart in an 8-d feature space, with a little noise. */
function points(n: number, seed: number): { features: Float32Array[]; labels: number[] } {
  const r = rng(seed);
  const labels = Array.from({ length: n }, (_, i) => i % 2);
  const features = labels.map((l) => Float32Array.from({ length: 8 }, (_, d) => (d < 4 ? (l ? 2 : -2) : 0) + (r() - 0.5) * 0.6));
  return { features, labels };
}

const common = {
  classes: 2,
  head: { denseUnits: 0, dropout: 0 },
  seed: 3,
  lr: 0.05,
  batchSize: 16,
  l2: 0,
  patience: 5,
  classWeights: false,
  epochs: 15,
};

describe('out-of-fold refits', () => {
  it('predict the checking pictures too when asked, and a mislabeled one is judged by a refit that never learned it', async () => {
    const train = points(40, 1);
    const validation = points(10, 2);
    // A checking picture labeled 1 that looks like label 0: a refit that trained on it could
    // pull towards 1; one that never did says 0 with confidence.
    validation.labels[0] = 1;
    const plain = await outOfFold({ ...common, features: train.features, labels: train.labels, validation });
    expect(plain).toHaveLength(40);
    const all = await outOfFold({ ...common, features: train.features, labels: train.labels, validation, predictValidation: true });
    expect(all).toHaveLength(50);
    expect(all[40]![0]!).toBeGreaterThan(0.9);
    const right = all.slice(41).filter((p, k) => p[validation.labels[k + 1]!]! > 0.5).length;
    expect(right).toBe(9);
  });

  it('a run whose fit learned its checking pictures records them out-of-fold, others keep them held-out', async () => {
    const train = points(20, 4);
    const validation = points(6, 5);
    const samples = [
      ...train.labels.map((label) => ({ label, split: 'train' as const })),
      ...validation.labels.map((label) => ({ label, split: 'validation' as const })),
      { label: 0, split: 'test' as const },
    ];
    const features = [...train.features, ...validation.features, validation.features[0]!];
    const heldOut = new Map<number, Float32Array>(samples.map((s, i) => [i, Float32Array.from([1, 0])] as const).filter(([i]) => i >= 20));
    const run = (validationFitted: boolean) =>
      evaluateRun({
        samples,
        classes: 2,
        config: defaultConfig('head', { epochs: 10, seed: 3 }),
        heldOut,
        validationFitted,
        featuresOf: async (ids) => ids.map((i) => features[i]!),
        unlabeled: async () => [],
      });
    const fitted = await run(true);
    expect(fitted.kinds.slice(20, 26)).toEqual(new Array(6).fill('out-of-fold'));
    expect(fitted.kinds[26]).toBe('held-out');
    // Held-out answers said [1, 0] for every checking picture; out-of-fold ones follow the features.
    expect(fitted.probs.slice(20, 26).some((p) => p[1]! > 0.5)).toBe(true);
    const stopped = await run(false);
    expect(stopped.kinds.slice(20)).toEqual(new Array(7).fill('held-out'));
  });
});
