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
  /**
   * Multiply-adds per ms of the convex head's arithmetic (the softmax objective of its L-BFGS fits),
   * timed by the wizard on this computer as loaded then (engine/fit-rate.ts).
   */
  fitMacsPerMs?: number;
}

export interface RunShape {
  /** Every labelled picture the run uses (train + validation + test). */
  images: number;
  /** Share of them that trains (default 0.7). */
  trainFraction?: number;
  epochs: number;
  /** Strategies 1–2: epochs of the classifier alone first. */
  warmupEpochs: number;
  /**
   * The classifier is one convex fit (the default: no hidden layer) instead of epochs of steps:
   * strategy 3's whole head, and the warm-up of strategies 1–2 when it has any epochs (engine/run.ts).
   */
  convexHead?: boolean;
  /** Augmented copies of each training picture that strategies 2–3 (Adam) cache (the engine's default: 2). */
  augmentedVariants?: number;
  /** Labels the head tells apart: the convex fit's cost grows with them (default DEFAULT_CLASSES). */
  classes?: number;
  /** Width of the convex head's feature rows, for its Gram matrix; unknown, that term is left out (a few % for one layer). */
  featureWidth?: number;
  /**
   * Strategy 3 on fused features: ms per picture of the frozen passes the run makes beyond what the
   * wizard cached — each trunk smaller than the fused input is fed the fused size (the in-graph
   * resize, then the trunk), so its probe's features at its own size are not reused. The wizard
   * says it per feature candidate.
   */
  fusedPassMsPerImage?: number;
}

/** Labels assumed when a caller does not say (the fit's cost is linear in them). */
const DEFAULT_CLASSES = 10;
/** Share of the pictures the convex head fits: training + validation (the default split's 0.7 + 0.15). */
const FIT_FRACTION = 0.85;

/**
 * What every run costs besides its epochs: starting the engine process, loading the base and
 * opening its sessions. The rest of a run's fixed work grows with the pictures (below).
 */
export const RUN_OVERHEAD_MS = 8_000;
/**
 * Passes over the pictures outside the epochs, in frozen forwards per picture. Strategy 3 reads
 * the features the wizard's probe cached, so only testing and the out-of-fold check remain (0.3);
 * strategy 1 tests through the whole fine-tuned network (0.6). Strategy 2 is counted from its
 * parts instead (partialPassesMs). The feature pass itself is not counted for strategy 3: the
 * estimate is shown once the wizard has measured, which caches it.
 */
const FORWARD_PASSES: Record<'head' | 'full', number> = { head: 0.3, full: 0.6 };
/** The share of a frozen forward that lies below strategy 2's boundary (its cached maps). */
const BELOW_BOUNDARY = 0.8;

/**
 * Strategy 2 outside its epochs. Measured with `npm run bench:estimates` (clipart-8, InceptionV3,
 * 3 epochs): caching the maps below the boundary took 50 s — every picture plus each training
 * picture's augmented copies, at most of a forward each — and the part above the boundary, run
 * over those same maps for the warm-up's features and again over every picture for testing and
 * checking, took about as long per picture as a training step of it. Counted as 0.8 passes per
 * picture, the estimate was 56 s against 153 s.
 */
function partialPassesMs(images: number, train: number, variants: number, speed: MeasuredSpeed): number {
  const items = images + variants * train;
  return items * BELOW_BOUNDARY * (speed.forwardMsPerImage ?? 0) + (items + images) * speed.msPerImage.partial;
}
/** Without a measured fit rate (an older engine): a convex fit costs about this many Adam epochs of the same head. */
const CONVEX_FIT_EPOCHS = 40;

/**
 * The convex head's work, as its code does it: the fit (linear-head.ts) — `folds` × `strengths`
 * L-BFGS fits for the cross-validation, then one on every row — and the run's out-of-fold
 * refits (eval/convex-out-of-fold.ts): `folds` × `strengths` on the first split, one strength on
 * each further split. Iterations are counted at their caps (the estimate is "at most"; on wide
 * fused features the weaker strengths run to them). test/unit/run-estimate.test.ts pins these
 * numbers to the code's own.
 */
export const CONVEX_WORK = { folds: 5, strengths: 4, maxIterations: 150, refitRepeats: 4, refitMaxIterations: 100 } as const;

/**
 * One evaluation of the softmax objective and its gradient on m rows in span coordinates: the
 * rows are a Cholesky factor, so half its m² entries are zero and skipped, and each of the other
 * half costs a multiply-add per class twice (logits, then gradient).
 */
export function softmaxEvalMacs(m: number, classes: number): number {
  return m * m * classes;
}

/** Multiply-adds of the convex head on n fitted rows of `width` features (undefined: the Gram matrices left out). */
export function convexHeadMacs(n: number, classes: number, width?: number): number {
  const { folds, strengths, maxIterations, refitRepeats, refitMaxIterations } = CONVEX_WORK;
  const m = (n * (folds - 1)) / folds;
  const gramMacs = width ? (n * n * width) / 2 : 0;
  const factor = (rows: number) => rows ** 3 / 6;
  const fit =
    gramMacs +
    folds * (factor(m) + strengths * maxIterations * softmaxEvalMacs(m, classes)) +
    factor(n) +
    maxIterations * softmaxEvalMacs(n, classes);
  const refits =
    gramMacs + refitRepeats * folds * factor(m) + (strengths + refitRepeats - 1) * folds * refitMaxIterations * softmaxEvalMacs(m, classes);
  return fit + refits;
}

/** ms one epoch of `phase` takes on `trainImages` pictures. */
export function epochMs(strategy: EstimateStrategy, phase: 'head' | 'finetune', trainImages: number, speed: MeasuredSpeed): number {
  return trainImages * (phase === 'head' ? speed.msPerImage.head : speed.msPerImage[strategy]);
}

/** The whole run, start to finished, at most (early stopping can end it sooner). */
export function estimateRunMs(strategy: EstimateStrategy, shape: RunShape, speed: MeasuredSpeed): number {
  const train = shape.images * (shape.trainFraction ?? 0.7);
  const variants = strategy === 'full' || (strategy === 'head' && shape.convexHead) ? 0 : (shape.augmentedVariants ?? 2);
  const forward =
    strategy === 'partial'
      ? partialPassesMs(shape.images, train, variants, speed)
      : (FORWARD_PASSES[strategy] * shape.images + variants * train) * (speed.forwardMsPerImage ?? 0);
  const fusedPasses = strategy === 'head' ? shape.images * (shape.fusedPassMsPerImage ?? 0) : 0;
  // A warm-up fit reads the training pictures only (validation stays held out for early stopping).
  const convex = shape.convexHead === true && (strategy === 'head' || shape.warmupEpochs > 0);
  const fitted = strategy === 'head' ? shape.images * FIT_FRACTION : train;
  const head =
    convex && speed.fitMacsPerMs
      ? convexHeadMacs(fitted, shape.classes ?? DEFAULT_CLASSES, shape.featureWidth) / speed.fitMacsPerMs
      : (convex ? CONVEX_FIT_EPOCHS : strategy === 'head' ? shape.epochs : shape.warmupEpochs) * epochMs(strategy, 'head', train, speed);
  const finetune = strategy === 'head' ? 0 : shape.epochs * epochMs(strategy, 'finetune', train, speed);
  return Math.round(RUN_OVERHEAD_MS + forward + fusedPasses + head + finetune);
}

/** Strategies 1–2 warm the classifier up with one convex fit, recorded as one epoch (engine/run.ts's convexWarmup). */
export function convexWarmup(
  strategy: EstimateStrategy,
  c: { warmupEpochs?: number; headFit?: 'convex' | 'adam'; denseUnits?: number },
): boolean {
  return strategy !== 'head' && (c.headFit ?? 'convex') === 'convex' && (c.denseUnits ?? 0) === 0 && (c.warmupEpochs ?? 0) > 0;
}
