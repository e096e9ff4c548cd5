// The convex head's out-of-fold predictions: the run's own head refitted per fold (in the span of
// the fold's rows), its strength chosen on held-out log loss, several fold splits averaged. A
// planted wrong label among tiny generated data comes first in the doubt ranking.
import { describe, it, expect } from 'vitest';
import { convexOutOfFold } from '../../electron/core/eval/convex-out-of-fold.js';
import { evaluateRun } from '../../electron/core/eval/run-evaluation.js';
import { rankDoubts } from '../../electron/core/eval/label-errors.js';
import { defaultConfig } from '../../electron/core/engine/config.js';
import { rng } from '../../electron/core/engine/seeded.js';

/** `classes` labels, each a cloud around its own corner of a 12-d space, wider than the gaps in some directions. */
function clouds(perLabel: number, classes: number, seed: number, spread = 1.2): { rows: Float32Array[]; labels: number[] } {
  const r = rng(seed);
  const labels = Array.from({ length: perLabel * classes }, (_, i) => i % classes);
  const rows = labels.map((l) => Float32Array.from({ length: 12 }, (_, d) => (d % classes === l ? 2 : 0) + (r() - 0.5) * 2 * spread));
  return { rows, labels };
}

describe('convex out-of-fold refits', () => {
  it('rank a planted wrong label first, with the label it looks like', async () => {
    const { rows, labels } = clouds(16, 3, 1);
    const given = [...labels];
    // Picture 0 looks like label 0 and is given label 2.
    given[0] = 2;
    const oof = await convexOutOfFold({ rows, labels: given, classes: 3, seed: 5, classWeights: null });
    expect(oof.probs).toHaveLength(48);
    expect(oof.probs[0]![0]!).toBeGreaterThan(0.5);
    const doubts = rankDoubts(
      oof.probs.map((p, i) => ({ imageId: i, given: given[i]!, probs: Array.from(p) })),
      3,
    );
    expect(doubts[0]).toMatchObject({ imageId: 0, given: 2, suggested: 0 });
    // Every candidate strength was scored; the one used is the lowest held-out log loss.
    expect(oof.logLoss).toHaveLength(4);
    expect(oof.lambda).toBe(oof.logLoss.reduce((a, b) => (b.loss < a.loss ? b : a)).lambda);
  });

  it('never judge a picture by a fit that learned it: a lone outlier is not explained by its own label', async () => {
    // Two tight clouds and one picture on label 0's side, far out, given label 1: weakly
    // regularised, a fit that saw it could carve room for it; fits without it say what the clouds say.
    const { rows, labels } = clouds(12, 2, 2, 0.3);
    rows.push(Float32Array.from({ length: 12 }, (_, d) => (d % 2 === 0 ? 4 : -2)));
    labels.push(1);
    const oof = await convexOutOfFold({ rows, labels, classes: 2, seed: 1, classWeights: null, lambdas: [1e-5] });
    expect(oof.probs[24]![1]!).toBeLessThan(0.2);
  });

  it('a fused run (the convex head, which learns its checking pictures) records them out-of-fold by default, refitted to convergence', async () => {
    const { rows, labels } = clouds(8, 2, 3);
    const samples = labels.map((label, i) => ({
      label,
      split: i < 10 ? ('validation' as const) : i < 14 ? ('test' as const) : ('train' as const),
    }));
    const heldOut = new Map(samples.flatMap((s, i) => (s.split === 'train' ? [] : [[i, Float32Array.from([1, 0])] as const])));
    const evaluation = await evaluateRun({
      samples,
      classes: 2,
      config: defaultConfig('head', { seed: 3, fused: [{ base: 'a', layer: 'x' }] }),
      heldOut,
      featuresOf: async (ids) => ids.map((i) => rows[i]!),
      unlabeled: async () => [],
    });
    expect(evaluation.kinds.slice(0, 10)).toEqual(new Array(10).fill('out-of-fold'));
    expect(evaluation.kinds.slice(10, 14)).toEqual(new Array(4).fill('held-out'));
    expect(evaluation.refitEpochs).toBeNull();
    // Out-of-fold answers follow the features, not the held-out [1, 0] the run's own (in-sample) answers said.
    expect(evaluation.probs.slice(0, 10).filter((p, i) => p[labels[i]!]! > 0.5).length).toBeGreaterThanOrEqual(8);
  });
});
