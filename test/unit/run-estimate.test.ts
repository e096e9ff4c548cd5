// The run estimate's strategy-3 terms (electron/shared/run-estimate.ts): the convex head's fit
// counted in multiply-adds at the engine's measured rate, and the frozen passes a fused run makes
// that the wizard did not cache. Without them a fused run of clip-art took twice its estimate.
import { describe, expect, it } from 'vitest';
import { CONVEX_WORK, convexHeadMacs, estimateRunMs, softmaxEvalMacs } from '../../electron/shared/run-estimate.js';
import { DEFAULT_FOLDS, LAMBDA_GRID, MAX_ITERATIONS } from '../../electron/core/engine/linear-head.js';
import { CONVEX_FOLDS, CONVEX_REPEATS } from '../../electron/core/eval/convex-out-of-fold.js';
import { measureFitRate } from '../../electron/core/engine/fit-rate.js';
import { fusedPassMsPerImage } from '../../electron/core/training/speeds.js';

describe('the convex head’s work', () => {
  it('counts what the fit and its refits do (a change there must change the estimate)', () => {
    expect(CONVEX_WORK.folds).toBe(DEFAULT_FOLDS);
    expect(CONVEX_WORK.strengths).toBe(LAMBDA_GRID.length);
    expect(CONVEX_WORK.maxIterations).toBe(MAX_ITERATIONS);
    expect(CONVEX_WORK.folds).toBe(CONVEX_FOLDS);
    expect(CONVEX_WORK.refitRepeats).toBe(CONVEX_REPEATS);
  });

  it('grows with the rows squared and the labels, and with the width only through its two Gram matrices', () => {
    const n = 400;
    expect(convexHeadMacs(n, 8, 2700) - convexHeadMacs(n, 8)).toBeCloseTo(n * n * 2700, -3);
    // The L-BFGS evaluations dominate: 4 strengths × 5 folds × 150 iterations, then 150 on every
    // row; refits 4 strengths × 5 folds then 3 more splits × 5 folds, at 100 iterations.
    const m = (n * 4) / 5;
    const evaluations = 20 * 150 * softmaxEvalMacs(m, 8) + 150 * softmaxEvalMacs(n, 8) + 35 * 100 * softmaxEvalMacs(m, 8);
    expect(convexHeadMacs(n, 8) / evaluations).toBeGreaterThan(1);
    expect(convexHeadMacs(n, 8) / evaluations).toBeLessThan(1.05);
  });

  it('is timed at the measured rate; without one, as before', () => {
    const speed = { msPerImage: { head: 0.1, partial: 5, full: 60 }, forwardMsPerImage: 10 };
    const shape = { images: 500, epochs: 80, warmupEpochs: 0, convexHead: true, classes: 8, featureWidth: 1000 };
    const rate = 1_000_000; // multiply-adds per ms
    const fit =
      estimateRunMs('head', shape, { ...speed, fitMacsPerMs: rate }) - estimateRunMs('head', shape, { ...speed, fitMacsPerMs: Infinity });
    expect(fit).toBeCloseTo(convexHeadMacs(500 * 0.85, 8, 1000) / rate, -1);
    expect(
      estimateRunMs('head', shape, { ...speed, fitMacsPerMs: rate / 2 }) - estimateRunMs('head', shape, { ...speed, fitMacsPerMs: rate }),
    ).toBeCloseTo(fit, -1);
    expect(estimateRunMs('head', shape, speed)).toBeGreaterThan(0);
  });
});

describe('a fused run’s uncached passes', () => {
  const sizes: Record<string, number> = { big: 299, small: 224 };
  const measured = [
    { baseId: 'big', speed: { engine: 'x', msPerImage: { head: 0.1, partial: 1, full: 1 }, forwardMsPerImage: 40 } },
    { baseId: 'small', speed: { engine: 'x', msPerImage: { head: 0.1, partial: 1, full: 1 }, forwardMsPerImage: 10 } },
  ];

  it('are the smaller trunks’ passes at the fused size, not the largest one’s (its probe cached it)', () => {
    const both = fusedPassMsPerImage(
      [
        { base: 'big', layer: 'a' },
        { base: 'small', layer: 'b' },
      ],
      measured,
      (id) => sizes[id]!,
    );
    expect(both).toBeGreaterThan(10);
    expect(both).toBeLessThan(40);
    // Two layers of one base read the probe's cache only.
    expect(
      fusedPassMsPerImage(
        [
          { base: 'big', layer: 'a' },
          { base: 'big', layer: 'c' },
        ],
        measured,
        (id) => sizes[id]!,
      ),
    ).toBe(0);
  });

  it('count once per picture in a fused strategy-3 run only', () => {
    const speed = { msPerImage: { head: 0.1, partial: 5, full: 60 }, forwardMsPerImage: 10, fitMacsPerMs: 1e6 };
    const shape = { images: 500, epochs: 80, warmupEpochs: 0, convexHead: true, classes: 8 };
    expect(estimateRunMs('head', { ...shape, fusedPassMsPerImage: 20 }, speed) - estimateRunMs('head', shape, speed)).toBe(500 * 20);
    expect(estimateRunMs('partial', { ...shape, fusedPassMsPerImage: 20 }, speed)).toBe(estimateRunMs('partial', shape, speed));
  });
});

describe('bench:estimates’ strategy-3 runs (clipart-8, 528 pictures, 8 labels)', () => {
  // The wizard's speeds of that run at load 12.8: InceptionV3's pass 511.8 ms a picture, the fit's
  // arithmetic 84 M multiply-adds/s, MobileNetV2's pass at 299 px 181 ms a picture.
  const speed = { msPerImage: { head: 0.1, partial: 293.6, full: 1150.1 }, forwardMsPerImage: 511.8 };
  const shape = { images: 528, epochs: 80, warmupEpochs: 0, convexHead: true, classes: 8 };

  it('hold within 2× for fused features (both bases’ best layers, about 2,700 features: 216.9 s); the fit and the second trunk’s pass were missing (2.4×)', () => {
    const fused = { ...shape, featureWidth: 2688, fusedPassMsPerImage: 181 };
    const ratio = 216_900 / estimateRunMs('head', fused, { ...speed, fitMacsPerMs: 84_000 });
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
    expect(216_900 / estimateRunMs('head', shape, speed)).toBeGreaterThan(2);
  });
});

describe('measureFitRate', () => {
  it('times the objective for about its budget and gives a rate', () => {
    const t = performance.now();
    const rate = measureFitRate(20);
    expect(performance.now() - t).toBeLessThan(1_000);
    expect(Number.isFinite(rate) && rate > 0).toBe(true);
  });
});

describe('the warm-up of strategies 1–2', () => {
  const speed = { msPerImage: { head: 2, partial: 40, full: 120 }, forwardMsPerImage: 10, fitMacsPerMs: 2e6 };
  const shape = { images: 400, epochs: 3, classes: 8 };

  it('is one convex fit by default: its epochs setting no longer multiplies it (it counted 5 Adam epochs)', () => {
    const fit = (warmupEpochs: number) => estimateRunMs('partial', { ...shape, warmupEpochs, convexHead: true }, speed);
    expect(fit(5)).toBe(fit(1));
    expect(fit(5) - fit(0)).toBeCloseTo(convexHeadMacs(400 * 0.7, 8) / speed.fitMacsPerMs, -1);
  });

  it('is epochs of steps with a hidden layer', () => {
    const adam = (warmupEpochs: number) => estimateRunMs('partial', { ...shape, warmupEpochs, convexHead: false }, speed);
    expect(adam(5) - adam(1)).toBeCloseTo(4 * 400 * 0.7 * speed.msPerImage.head, -1);
  });
});
