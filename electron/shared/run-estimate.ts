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
 * opening its sessions. The rest of a run's fixed work grows with the pictures (below).
 */
export const RUN_OVERHEAD_MS = 8_000;
/**
 * Passes over the pictures outside the epochs, in frozen forwards per picture. Strategy 3 reads
 * the features the wizard's probe cached, so only testing and the out-of-fold check remain (0.3);
 * strategy 2 first computes the maps below its boundary (about half a forward); strategy 1 tests
 * through the whole fine-tuned network. The feature pass itself is not counted: the estimate is
 * shown once the wizard has measured, which caches it. `npm run bench:estimates` (clipart-8, a
 * 2-core machine at load 21): strategy 3 took 99.5 s against 0.3 passes + overhead = 76 s.
 */
const FORWARD_PASSES: Record<EstimateStrategy, number> = { head: 0.3, partial: 0.8, full: 0.6 };
/** A convex fit costs about this many Adam epochs of the same head (cross-validated strengths). */
const CONVEX_FIT_EPOCHS = 40;

/** ms one epoch of `phase` takes on `trainImages` pictures. */
export function epochMs(strategy: EstimateStrategy, phase: 'head' | 'finetune', trainImages: number, speed: MeasuredSpeed): number {
  return trainImages * (phase === 'head' ? speed.msPerImage.head : speed.msPerImage[strategy]);
}

/** The whole run, start to finished, at most (early stopping can end it sooner). */
export function estimateRunMs(strategy: EstimateStrategy, shape: RunShape, speed: MeasuredSpeed): number {
  const train = shape.images * (shape.trainFraction ?? 0.7);
  const forward = FORWARD_PASSES[strategy] * shape.images * (speed.forwardMsPerImage ?? 0);
  const headEpochs = strategy === 'head' ? (shape.convexHead ? CONVEX_FIT_EPOCHS : shape.epochs) : shape.warmupEpochs;
  const head = headEpochs * epochMs(strategy, 'head', train, speed);
  const finetune = strategy === 'head' ? 0 : shape.epochs * epochMs(strategy, 'finetune', train, speed);
  return Math.round(RUN_OVERHEAD_MS + forward + head + finetune);
}
