// Every setting of a run, with its defaults: the one table of them. The wizard's recommendations,
// `studio train` and the Train tab (through the `training.defaults` call) all start from here.
// Stored whole in runs.config so a run can be repeated and compared.
import { DEFAULT_AUGMENTATION, type Augmentation } from './augment.js';
import type { Strategy } from './wizard.js';
import type { FusedPart } from './fused.js';
import type { LrSchedule } from './recipe.js';

export type HeadFit = 'convex' | 'adam';

export interface TrainConfig {
  strategy: Strategy;
  /** Layer whose pooled output feeds the head; default: the base's (or the wizard's best block). */
  featureLayer: string | null;
  /** Strategy 2: layers above this one train; default: the block below the feature layer. */
  boundary: string | null;
  /** Epochs of the main phase (the head for strategy 3, fine-tuning for 1–2). */
  epochs: number;
  /** Strategies 1–2: epochs training the head alone first, base frozen. */
  warmupEpochs: number;
  /** Learning rate of the main phase (small for 1–2). */
  lr: number;
  /** Learning rate of the head warm-up. */
  headLr: number;
  /** The main phase's learning rate over its steps: constant, or cosine decay towards 0 (recipe.ts). */
  lrSchedule: LrSchedule;
  /**
   * Strategies 1–2: the lowest trained layer's learning rate as a fraction of `lr`, rising
   * geometrically layer by layer to `lr` at the top (the head learns at `lr`); 1 = one rate.
   */
  lowestLayerLr: number;
  /** Label smoothing ε of the training loss in the epoch loop's phases: targets (1 − ε)·one-hot + ε/labels. */
  labelSmoothing: number;
  batchSize: number;
  denseUnits: number;
  /**
   * How a head without a hidden layer is fitted: 'convex' = L2-regularised softmax to
   * convergence, strength by cross-validation (linear-head.ts) — strategy 3's on training +
   * validation, 1–2's warm-up on training images only; 'adam' = the epoch loop with early
   * stopping on validation (also every MLP head).
   */
  headFit: HeadFit;
  dropout: number;
  /**
   * Strategy 3 on fused features (fused.ts): the probe points of one or more bases whose pooled
   * averages and maxima, concatenated, feed the head; null = `featureLayer` of the run's base alone.
   */
  fused: FusedPart[] | null;
  /** L2 penalty on the head's weights (a ridge-like pull, like the wizard's linear probe). */
  l2: number;
  augmentation: Augmentation;
  /** Strategies 2–3: augmented variants cached per training image (besides the original). */
  augmentedVariants: number;
  classWeights: boolean;
  /** Early stopping: epochs without a better validation loss before stopping. */
  patience: number;
  seed: number;
  /** Strategy 1: start from the architecture only (random weights). */
  resetWeights: boolean;
}

type StrategyDefaults = Pick<
  TrainConfig,
  'epochs' | 'warmupEpochs' | 'lr' | 'batchSize' | 'patience' | 'lrSchedule' | 'lowestLayerLr' | 'labelSmoothing'
>;

/** What differs between strategies. */
export const STRATEGY_DEFAULTS: Readonly<Record<Strategy, Readonly<StrategyDefaults>>> = {
  // Epochs on cached features cost milliseconds: large batches and more epochs are cheap.
  head: { epochs: 80, warmupEpochs: 0, lr: 2e-3, batchSize: 64, patience: 12, lrSchedule: 'constant', lowestLayerLr: 1, labelSmoothing: 0 },
  // The fine-tuning recipe (recipe.ts): smoothed labels, cosine decay, lower layers slower.
  partial: {
    epochs: 10,
    warmupEpochs: 5,
    lr: 1e-4,
    batchSize: 16,
    patience: 3,
    lrSchedule: 'cosine',
    lowestLayerLr: 0.3,
    labelSmoothing: 0.1,
  },
  full: {
    epochs: 10,
    warmupEpochs: 5,
    lr: 1e-5,
    batchSize: 16,
    patience: 3,
    lrSchedule: 'cosine',
    lowestLayerLr: 0.1,
    labelSmoothing: 0.1,
  },
};

/**
 * A run's whole config: the strategy's defaults under `overrides`. Also how a stored config
 * written before a setting existed is read (it lacks that key, so the default fills it in).
 */
export function defaultConfig(strategy: Strategy, overrides: Partial<TrainConfig> = {}): TrainConfig {
  const set = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as Partial<TrainConfig>;
  return {
    strategy,
    featureLayer: null,
    boundary: null,
    ...STRATEGY_DEFAULTS[strategy],
    headLr: 1e-3,
    denseUnits: 0,
    headFit: 'convex',
    dropout: 0.2,
    fused: null,
    l2: 0,
    augmentation: DEFAULT_AUGMENTATION,
    augmentedVariants: 2,
    classWeights: true,
    seed: 1,
    resetWeights: false,
    ...set,
  };
}

/** Every strategy's defaults, as the Train tab shows them before anything is changed. */
export function trainingDefaults(): Record<Strategy, TrainConfig> {
  return { head: defaultConfig('head'), partial: defaultConfig('partial'), full: defaultConfig('full') };
}
