// What the next run will use: the wizard's recommendation, then whatever the user changed under
// "Advanced". Every value is sent with an explicit strategy, so starting never re-runs the wizard.
import type { Overrides, StrategyName, Wizard } from './trainingApi.svelte';

type Augmentation = NonNullable<Overrides['augmentation']>;

/** The engine's own defaults per strategy (electron/core/engine/config.ts), shown before the wizard answers. */
const BY_STRATEGY: Record<StrategyName, { epochs: number; warmupEpochs: number; lr: number; batchSize: number; patience: number }> = {
  head: { epochs: 40, warmupEpochs: 0, lr: 1e-3, batchSize: 32, patience: 8 },
  partial: { epochs: 10, warmupEpochs: 5, lr: 1e-4, batchSize: 16, patience: 3 },
  full: { epochs: 10, warmupEpochs: 5, lr: 1e-5, batchSize: 16, patience: 3 },
};
/** The base the host trains on when none is named (electron/core/training/service.ts). */
export const DEFAULT_BASE = 'mobilenet_v2';
const AUGMENTATION: Augmentation = { flip: true, rotateDeg: 10, zoom: 0.1, brightness: 0.1, contrast: 0.1 };

export const STRATEGY_WORDS: Record<StrategyName, { title: string; what: string; number: number }> = {
  head: {
    number: 3,
    title: 'Train a new classifier only',
    what: 'The pretrained network stays as it is; only a small new classifier on top learns your labels. Fast, and best with few pictures.',
  },
  partial: {
    number: 2,
    title: 'Fine-tune the top',
    what: 'The top layers of the network adjust to your pictures with a small learning rate; the lower layers stay as they are.',
  },
  full: {
    number: 1,
    title: 'Train the whole network',
    what: 'Every layer adjusts to your pictures. Needs many pictures per label, and takes the longest.',
  },
};

export class TrainingPlan {
  baseId = $state<string | null>(null);
  strategy = $state<StrategyName>('head');
  featureLayer = $state<string | null>(null);
  boundary = $state<string | null>(null);
  epochs = $state(BY_STRATEGY.head.epochs);
  warmupEpochs = $state(BY_STRATEGY.head.warmupEpochs);
  lr = $state(BY_STRATEGY.head.lr);
  batchSize = $state(BY_STRATEGY.head.batchSize);
  patience = $state(BY_STRATEGY.head.patience);
  denseUnits = $state(0);
  dropout = $state(0.2);
  augmentation = $state<Augmentation>({ ...AUGMENTATION });
  classWeights = $state(true);
  seed = $state(1);
  resetWeights = $state(false);
  /** True once the user changed anything: a fresh wizard answer then no longer overwrites it. */
  edited = $state(false);

  /** Takes the wizard's recommendation (unless the user already chose otherwise). */
  adopt(wizard: Wizard, force = false): void {
    if (this.edited && !force) return;
    const r = wizard.recommendation;
    this.setStrategy(r.strategy);
    this.featureLayer = r.featureLayer;
    this.boundary = r.boundary;
    this.epochs = r.epochs;
    this.warmupEpochs = r.warmupEpochs;
    this.lr = r.lr;
    this.edited = false;
  }

  /** A new strategy brings its own sensible learning rate, epochs and batch size. */
  setStrategy(strategy: StrategyName, wizard?: Wizard | null): void {
    this.strategy = strategy;
    const d = BY_STRATEGY[strategy];
    const rec = wizard?.recommendation.strategy === strategy ? wizard.recommendation : null;
    this.epochs = rec?.epochs ?? d.epochs;
    this.warmupEpochs = rec?.warmupEpochs ?? d.warmupEpochs;
    this.lr = rec?.lr ?? d.lr;
    this.batchSize = d.batchSize;
    this.patience = d.patience;
    if (strategy === 'partial' && !this.boundary)
      this.boundary = wizard?.recommendation.boundary ?? wizard?.recommendation.featureLayer ?? null;
    if (strategy !== 'partial') this.boundary = null;
  }

  reset(wizard: Wizard | null): void {
    this.denseUnits = 0;
    this.dropout = 0.2;
    this.augmentation = { ...AUGMENTATION };
    this.classWeights = true;
    this.seed = 1;
    this.resetWeights = false;
    if (wizard) this.adopt(wizard, true);
    else this.setStrategy('head');
    this.edited = false;
  }

  overrides(): Overrides {
    return {
      featureLayer: this.featureLayer,
      boundary: this.strategy === 'partial' ? this.boundary : null,
      epochs: this.epochs,
      warmupEpochs: this.strategy === 'head' ? 0 : this.warmupEpochs,
      lr: this.lr,
      batchSize: this.batchSize,
      patience: this.patience,
      denseUnits: this.denseUnits,
      dropout: this.dropout,
      augmentation: { ...this.augmentation },
      classWeights: this.classWeights,
      seed: this.seed,
      resetWeights: this.strategy === 'full' && this.resetWeights,
    };
  }
}
