// How long a run will take, from the engine's measured speeds (the wizard's report): one formula
// for the wizard's recommendation, the Train tab's estimate of whatever strategy the user picks,
// and the run page's time left before an epoch of a phase has been seen. Pure, so the renderer
// and the engine share it (electron/shared imports nothing from Node).

export type EstimateStrategy = 'head' | 'partial' | 'full';

export interface MeasuredSpeed {
  /** ms per image of one training step of each strategy, as measured by the wizard. */
  msPerImage: Record<EstimateStrategy, number>;
  /** ms per image of a frozen forward pass (feature caching, testing, checking). */
  forwardMsPerImage?: number;
}

export interface RunShape {
  /** Every labelled picture the run uses (train + validation + test). */
  images: number;
  /** Share of them that trains (default 0.7). */
  trainFraction?: number;
  epochs: number;
  /** Strategies 1–2: epochs of the classifier alone first. */
  warmupEpochs: number;
  /** Strategy 3's one-shot convex fit (the default) instead of epochs of steps. */
  convexHead?: boolean;
}

/**
 * What every run costs besides its epochs: starting the engine process, loading the base and
 * opening its sessions, testing, and judging every picture with classifiers that did not learn
 * from it. Measured with `npm run bench:estimates` (clipart-8, 2 cores): 8–12 s unloaded.
 */
export const RUN_OVERHEAD_MS = 8_000;
/** Passes over the pictures outside training: features once, testing, the out-of-fold check. */
const FORWARD_PASSES = 2;
/** A convex fit costs about this many Adam epochs of the same head (cross-validated strengths). */
const CONVEX_FIT_EPOCHS = 40;

/** ms one epoch of `phase` takes on `trainImages` pictures. */
export function epochMs(strategy: EstimateStrategy, phase: 'head' | 'finetune', trainImages: number, speed: MeasuredSpeed): number {
  return trainImages * (phase === 'head' ? speed.msPerImage.head : speed.msPerImage[strategy]);
}

/** The whole run, start to finished, at most (early stopping can end it sooner). */
export function estimateRunMs(strategy: EstimateStrategy, shape: RunShape, speed: MeasuredSpeed): number {
  const train = shape.images * (shape.trainFraction ?? 0.7);
  const forward = FORWARD_PASSES * shape.images * (speed.forwardMsPerImage ?? 0);
  const headEpochs = strategy === 'head' ? (shape.convexHead ? CONVEX_FIT_EPOCHS : shape.epochs) : shape.warmupEpochs;
  const head = headEpochs * epochMs(strategy, 'head', train, speed);
  const finetune = strategy === 'head' ? 0 : shape.epochs * epochMs(strategy, 'finetune', train, speed);
  return Math.round(RUN_OVERHEAD_MS + forward + head + finetune);
}
