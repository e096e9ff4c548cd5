// What the next run will use: the engine's defaults (the `training.defaults` call), the wizard's
// recommendation, then whatever the user changed under "Advanced". Every value is sent with an
// explicit strategy, so starting never re-runs the wizard. The values logic is in planValues.ts.
import type { Overrides, StrategyName } from './trainingApi.svelte';
import { overridesOf, recommendedValues, strategyValues, type Advice, type Defaults, type PlanValues } from './planValues';

type Augmentation = NonNullable<Overrides['augmentation']>;

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
  /** The engine's defaults; null until `training.defaults` has answered (nothing can start before). */
  defaults = $state.raw<Defaults | null>(null);
  baseId = $state<string | null>(null);
  strategy = $state<StrategyName>('head');
  featureLayer = $state<string | null>(null);
  boundary = $state<string | null>(null);
  // Placeholders until the defaults arrive (the form is not shown before).
  epochs = $state(1);
  warmupEpochs = $state(0);
  lr = $state(1e-3);
  batchSize = $state(1);
  patience = $state(1);
  /** The fine-tuning recipe of strategies 1–2 (engine/recipe.ts). */
  lrSchedule = $state<'constant' | 'cosine'>('constant');
  lowestLayerLr = $state(1);
  labelSmoothing = $state(0);
  denseUnits = $state(0);
  dropout = $state(0);
  augmentation = $state<Augmentation>({ flip: false, rotateDeg: 0, zoom: 0, brightness: 0, contrast: 0 });
  classWeights = $state(true);
  seed = $state(1);
  resetWeights = $state(false);
  /** Not under "Advanced": sent as the defaults give them. */
  private hidden: { headLr: number; l2: number; augmentedVariants: number; headFit: 'convex' | 'adam'; fused: PlanValues['fused'] } = {
    headLr: 1e-3,
    l2: 0,
    augmentedVariants: 0,
    headFit: 'convex',
    fused: null,
  };
  /** Labels (ids) this run leaves out: their pictures stay in the project, untouched. */
  leaveOut = $state<number[]>([]);
  /** True once the user changed anything: a fresh wizard answer then no longer overwrites it. */
  edited = $state(false);

  /** The base the host trains on when none is chosen. */
  get defaultBase(): string | null {
    return this.defaults?.baseId ?? null;
  }

  /** Takes the engine's defaults, and with them the wizard's recommendation if it has answered. */
  useDefaults(defaults: Defaults, wizard: Advice | null): void {
    this.defaults = defaults;
    if (!this.edited) this.assign(recommendedValues(defaults, wizard));
  }

  /** Takes the wizard's recommendation (unless the user already chose otherwise). */
  adopt(wizard: Advice, force = false): void {
    if ((this.edited && !force) || !this.defaults) return;
    const r = recommendedValues(this.defaults, wizard);
    this.setStrategy(r.strategy, wizard);
    this.featureLayer = r.featureLayer;
    this.boundary = r.boundary;
    this.hidden = { ...this.hidden, fused: r.fused ?? null };
    this.edited = false;
  }

  /** A new strategy brings its own sensible learning rate, epochs, batch size and patience. */
  setStrategy(strategy: StrategyName, wizard?: Advice | null): void {
    this.strategy = strategy;
    if (this.defaults) {
      const d = strategyValues(this.defaults, strategy, wizard ?? null);
      this.epochs = d.epochs;
      this.warmupEpochs = d.warmupEpochs;
      this.lr = d.lr;
      this.batchSize = d.batchSize;
      this.patience = d.patience;
      this.lrSchedule = d.lrSchedule;
      this.lowestLayerLr = d.lowestLayerLr;
      this.labelSmoothing = d.labelSmoothing;
    }
    if (strategy === 'partial' && !this.boundary)
      this.boundary = wizard?.recommendation.boundary ?? wizard?.recommendation.featureLayer ?? null;
    if (strategy !== 'partial') this.boundary = null;
  }

  reset(wizard: Advice | null): void {
    if (!this.defaults) return;
    this.assign(recommendedValues(this.defaults, wizard));
    this.edited = false;
  }

  private assign(v: PlanValues): void {
    this.strategy = v.strategy;
    this.featureLayer = v.featureLayer;
    this.boundary = v.boundary;
    this.epochs = v.epochs;
    this.warmupEpochs = v.warmupEpochs;
    this.lr = v.lr;
    this.batchSize = v.batchSize;
    this.patience = v.patience;
    this.lrSchedule = v.lrSchedule ?? 'constant';
    this.lowestLayerLr = v.lowestLayerLr ?? 1;
    this.labelSmoothing = v.labelSmoothing ?? 0;
    this.denseUnits = v.denseUnits;
    this.dropout = v.dropout;
    this.augmentation = { ...v.augmentation };
    this.classWeights = v.classWeights;
    this.seed = v.seed;
    this.resetWeights = v.resetWeights;
    this.hidden = { headLr: v.headLr, l2: v.l2, augmentedVariants: v.augmentedVariants, headFit: v.headFit, fused: v.fused ?? null };
  }

  overrides(): Overrides {
    return overridesOf({
      strategy: this.strategy,
      featureLayer: this.featureLayer,
      boundary: this.boundary,
      epochs: this.epochs,
      warmupEpochs: this.warmupEpochs,
      lr: this.lr,
      batchSize: this.batchSize,
      patience: this.patience,
      lrSchedule: this.lrSchedule,
      lowestLayerLr: this.lowestLayerLr,
      labelSmoothing: this.labelSmoothing,
      denseUnits: this.denseUnits,
      dropout: this.dropout,
      augmentation: this.augmentation,
      classWeights: this.classWeights,
      seed: this.seed,
      resetWeights: this.resetWeights,
      ...this.hidden,
    });
  }
}
