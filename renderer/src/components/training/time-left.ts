// A run's time left, recomputed every second from what the run has shown so far: epochs of each
// phase at their own observed pace (warm-up epochs on cached features cost milliseconds, fine-tuning
// epochs seconds — one average of both said "a few seconds left" for over a minute), the epoch in
// progress from its batches or its elapsed time, and phases the wizard measured but the run has not
// reached yet from the measured estimate. When the work in progress runs well past what was
// expected, it says so instead of showing a time that has run out.

import { convexWarmup } from '../../../../electron/shared/run-estimate.js';

export type EpochPhase = 'head' | 'finetune';

export interface TimeLeftInput {
  /** Epochs finished so far. */
  epochs: { phase: EpochPhase; ms: number }[];
  /** Epochs planned per phase (early stopping can end a phase sooner). */
  planned: Record<EpochPhase, number>;
  /** The engine's latest progress, and when it arrived (ms, same clock as `now`). */
  progress: { phase: string; done: number; total: number; etaMs: number | null; at: number } | null;
  /** When the epoch in progress began: the last epoch's record, or the start of training. */
  epochStartedAt: number | null;
  /** Before an epoch of a phase has been seen: ms per epoch from the wizard's measured speeds. */
  estimatedEpochMs?: Partial<Record<EpochPhase, number>>;
  now: number;
}

export interface TimeLeft {
  etaMs: number | null;
  /** The work in progress has run well past what was expected: what it is, and for how long so far. */
  slow: { what: 'epoch' | 'first-finetune-step' | 'phase' | 'unmeasured'; epoch: number; sinceMs: number } | null;
}

/** Past this multiple of the expected time (and at least MIN_SLOW_MS), the work in progress is called slow. */
const SLOW_FACTOR = 2;
const MIN_SLOW_MS = 10_000;

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

export function timeLeft(input: TimeLeftInput): TimeLeft {
  const { progress, now } = input;
  if (!progress) return { etaMs: null, slow: null };
  const sinceNews = Math.max(0, now - progress.at);
  if (progress.phase !== 'training') {
    // The engine's own estimate for this phase, counted down between its messages.
    // A phase with no estimate (it reports no steps): after a while, at least how long it has run.
    if (progress.etaMs === null)
      return { etaMs: null, slow: sinceNews > MIN_SLOW_MS ? { what: 'unmeasured', epoch: 0, sinceMs: sinceNews } : null };
    const left = progress.etaMs - sinceNews;
    const expected = progress.etaMs + (progress.done > 0 ? 0 : MIN_SLOW_MS);
    if (left < 0 && sinceNews > Math.max(MIN_SLOW_MS, SLOW_FACTOR * expected))
      return { etaMs: null, slow: { what: 'phase', epoch: 0, sinceMs: sinceNews } };
    return { etaMs: Math.max(0, left), slow: null };
  }

  const done = (p: EpochPhase) => input.epochs.filter((e) => e.phase === p).length;
  const perEpoch = (p: EpochPhase) =>
    mean(input.epochs.filter((e) => e.phase === p).map((e) => e.ms)) ?? input.estimatedEpochMs?.[p] ?? null;
  const current: EpochPhase | null =
    done('head') < input.planned.head ? 'head' : done('finetune') < input.planned.finetune ? 'finetune' : null;
  if (current === null) return { etaMs: 0, slow: null };

  const expected = perEpoch(current);
  const elapsed = input.epochStartedAt === null ? 0 : Math.max(0, now - input.epochStartedAt);
  // The epoch in progress: from its batches when it reports them, else from the usual epoch.
  let rest: number | null;
  if (progress.total > 1 && progress.done > 0 && progress.done < progress.total && input.epochStartedAt !== null) {
    const perBatch = Math.max(1, progress.at - input.epochStartedAt) / progress.done;
    rest = perBatch * (progress.total - progress.done) - sinceNews;
  } else rest = expected === null ? null : expected - elapsed;

  const after = Math.max(0, input.planned[current] - done(current) - 1) * (expected ?? 0);
  // Warming up: the fine-tuning epochs still to come, at their measured (or observed) pace.
  const laterEpochs = current === 'head' ? input.planned.finetune : 0;
  const laterPerEpoch = laterEpochs > 0 ? perEpoch('finetune') : 0;
  const epoch = input.epochs.length + 1;
  const firstFinetune = current === 'finetune' && done('finetune') === 0 && progress.done === 0;
  const slow =
    elapsed > Math.max(MIN_SLOW_MS, SLOW_FACTOR * (expected ?? 0)) && (rest === null || rest < 0)
      ? { what: firstFinetune ? ('first-finetune-step' as const) : ('epoch' as const), epoch, sinceMs: elapsed }
      : null;
  if (slow || expected === null || laterPerEpoch === null) return { etaMs: null, slow };
  return { etaMs: Math.round(Math.max(0, rest ?? 0) + after + laterEpochs * laterPerEpoch), slow: null };
}

/** The slow note in words, e.g. "Epoch 6 is taking longer than the ones before (1 min 10 s so far)". */
export function slowWords(slow: NonNullable<TimeLeft['slow']>, phaseText: string): string {
  const s = Math.round(slow.sinceMs / 1000);
  const so = s < 60 ? `${s} s so far` : `${Math.floor(s / 60)} min ${s % 60} s so far`;
  if (slow.what === 'first-finetune-step') return `Preparing the fine-tuning: the first step sets up the network (${so})`;
  if (slow.what === 'unmeasured') return `still working (${so})`;
  if (slow.what === 'epoch') return `Still working: epoch ${slow.epoch} is taking longer than expected (${so})`;
  return `Still working: ${phaseText.charAt(0).toLowerCase()}${phaseText.slice(1)} is taking longer than expected (${so})`;
}

/** Epochs a run plans per phase; a convex classifier (strategy 3's default, the warm-up of 1–2) is one fit, one record. */
export function plannedEpochs(run: {
  strategy: 'head' | 'partial' | 'full';
  config: { epochs?: number; warmupEpochs?: number; headFit?: 'convex' | 'adam'; denseUnits?: number };
}): Record<EpochPhase, number> {
  const c = run.config;
  if (run.strategy === 'head') return { head: c.headFit === 'convex' && (c.denseUnits ?? 0) === 0 ? 1 : (c.epochs ?? 0), finetune: 0 };
  return { head: convexWarmup(run.strategy, c) ? 1 : (c.warmupEpochs ?? 0), finetune: c.epochs ?? 0 };
}
