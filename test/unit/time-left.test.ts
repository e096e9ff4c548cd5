// A run's time left (renderer/src/components/training/time-left.ts): each phase at its own pace,
// a time that keeps moving, and a stalled epoch that says so instead of "a few seconds left".
import { describe, expect, it } from 'vitest';
import { plannedEpochs, timeLeft, slowWords, type TimeLeftInput } from '../../renderer/src/components/training/time-left.js';
import { estimateRunMs } from '../../electron/shared/run-estimate.js';

const base = (over: Partial<TimeLeftInput>): TimeLeftInput => ({
  epochs: [],
  planned: { head: 5, finetune: 10 },
  progress: { phase: 'training', done: 0, total: 1, etaMs: null, at: 0 },
  epochStartedAt: 0,
  now: 0,
  ...over,
});
const warmup = Array.from({ length: 5 }, () => ({ phase: 'head' as const, ms: 200 }));

describe('timeLeft', () => {
  it('counts fine-tuning epochs at their measured pace, not at the warm-up epochs’ (the "a few seconds left" for 70 s)', () => {
    const t = timeLeft(
      base({
        epochs: warmup,
        progress: { phase: 'training', done: 3, total: 20, etaMs: null, at: 6_000 },
        now: 6_000,
        estimatedEpochMs: { finetune: 40_000 },
      }),
    );
    // 3 of 20 batches in 6 s: 34 s left of this epoch, then 9 epochs of ~40 s.
    expect(t.etaMs!).toBeGreaterThan(9 * 40_000);
    expect(t.slow).toBeNull();
  });

  it('corrects the estimate from the epochs it has seen', () => {
    const seen = [...warmup, { phase: 'finetune' as const, ms: 10_000 }, { phase: 'finetune' as const, ms: 12_000 }];
    const t = timeLeft(base({ epochs: seen, estimatedEpochMs: { finetune: 40_000 }, now: 0 }));
    expect(t.etaMs).toBe(8 * 11_000);
  });

  it('keeps changing while nothing new arrives, then says what it is doing when it runs late', () => {
    const seen = [...warmup, { phase: 'finetune' as const, ms: 10_000 }];
    const at = (now: number) => timeLeft(base({ epochs: seen, now }));
    expect(at(1_000).etaMs).toBe(9_000 + 8 * 10_000);
    expect(at(5_000).etaMs).toBe(5_000 + 8 * 10_000);
    const late = at(25_000);
    expect(late.etaMs).toBeNull();
    expect(late.slow).toMatchObject({ what: 'epoch', epoch: 7 });
    expect(slowWords(late.slow!, 'Fine-tuning the network')).toBe('Still working: epoch 7 is taking longer than expected (25 s so far)');
  });

  it('names the slow first fine-tuning step for what it is', () => {
    const t = timeLeft(base({ epochs: warmup, now: 30_000, estimatedEpochMs: { finetune: 5_000 } }));
    expect(slowWords(t.slow!, '')).toMatch(/^Preparing the fine-tuning/);
  });

  it('counts the engine’s estimate down in other phases, and says so when it runs out long ago', () => {
    const progress = { phase: 'testing', done: 10, total: 40, etaMs: 6_000, at: 1_000 };
    expect(timeLeft(base({ progress, now: 3_000 })).etaMs).toBe(4_000);
    const stuck = timeLeft(base({ progress, now: 40_000 }));
    expect(stuck.slow?.what).toBe('phase');
    expect(slowWords(stuck.slow!, 'Testing on pictures kept aside')).toMatch(
      /^Still working: testing on pictures kept aside is taking longer/,
    );
  });

  it('a phase without an estimate says how long it has been working', () => {
    const progress = { phase: 'checking', done: 0, total: 40, etaMs: null, at: 0 };
    expect(timeLeft(base({ progress, now: 5_000 })).slow).toBeNull();
    expect(slowWords(timeLeft(base({ progress, now: 65_000 })).slow!, 'Judging')).toBe('still working (1 min 5 s so far)');
  });

  it('says nothing it does not know: no fine-tuning pace yet and none measured', () => {
    expect(timeLeft(base({ epochs: warmup.slice(0, 2), now: 100 })).etaMs).toBeNull();
  });
});

describe('estimateRunMs', () => {
  const speed = { msPerImage: { head: 0.1, partial: 5, full: 60 }, forwardMsPerImage: 10 };
  it('grows with the epochs the user picks and with the strategy’s measured step', () => {
    const shape = { images: 528, epochs: 3, warmupEpochs: 1 };
    expect(estimateRunMs('partial', { ...shape, epochs: 6 }, speed)).toBeGreaterThan(estimateRunMs('partial', shape, speed));
    expect(estimateRunMs('full', shape, speed)).toBeGreaterThan(estimateRunMs('partial', shape, speed));
    // Never "under a second": starting the engine, testing and checking cost seconds on their own.
    expect(estimateRunMs('head', { images: 30, epochs: 80, warmupEpochs: 0, convexHead: true }, speed)).toBeGreaterThan(5_000);
  });

  it('holds within 2× for the strategy-2 run bench:estimates timed (InceptionV3, clipart-8, 1 + 3 epochs: 153 s)', () => {
    // The wizard's speeds of that bench run. Counting the maps below the boundary (with each training
    // picture's augmented copies) and the passes above it once each had given 56 s.
    const measured = { msPerImage: { head: 0.1, partial: 25, full: 293 }, forwardMsPerImage: 47.4 };
    const ratio = 152_900 / estimateRunMs('partial', { images: 528, epochs: 3, warmupEpochs: 1 }, measured);
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });
});

describe('plannedEpochs', () => {
  it('counts the convex warm-up of strategies 1–2 as the one record it makes ("epoch 1 of at most 5005")', () => {
    const config = { epochs: 20, warmupEpochs: 5, headFit: 'convex' as const, denseUnits: 0 };
    expect(plannedEpochs({ strategy: 'partial', config })).toEqual({ head: 1, finetune: 20 });
    expect(plannedEpochs({ strategy: 'full', config: { ...config, denseUnits: 64 } })).toEqual({ head: 5, finetune: 20 });
    expect(plannedEpochs({ strategy: 'partial', config: { ...config, warmupEpochs: 0 } })).toEqual({ head: 0, finetune: 20 });
    expect(plannedEpochs({ strategy: 'head', config })).toEqual({ head: 1, finetune: 0 });
  });
});
