// The next run's settings as plain values, from the engine's defaults (the `training.defaults`
// call: electron/core/engine/config.ts is the one table) and the wizard's recommendation. Kept
// free of Svelte so a test can build exactly the `training.start` arguments the Train tab sends.
import type { z } from 'zod';
// (.js and no Svelte imports: tests import this file under Node's own module resolution.)
import type {
  Strategy,
  TrainConfig,
  TrainingDefaults,
  TrainOverrides,
  WizardReport,
} from '../../../../electron/shared/contract-training.js';

type Overrides = z.output<typeof TrainOverrides>;
type StrategyName = z.output<typeof Strategy>;
type Recommendation = z.output<typeof WizardReport>['recommendation'];
/** What a plan follows: the wizard's full answer, or the quick one from picture counts (same fields). */
export type Advice = {
  recommendation: Pick<Recommendation, 'strategy' | 'featureLayer' | 'boundary' | 'lr' | 'epochs' | 'warmupEpochs'> &
    Partial<Pick<Recommendation, 'fused'>>;
};

export type Defaults = z.output<typeof TrainingDefaults>;
export type PlanValues = z.output<typeof TrainConfig>;
type RecipeKey = 'lrSchedule' | 'lowestLayerLr' | 'labelSmoothing';

/** What a strategy brings along when chosen: its epochs, learning rate, batch size and patience (the wizard's where it recommended this strategy). */
export function strategyValues(
  defaults: Defaults,
  strategy: StrategyName,
  wizard: Advice | null,
): Pick<PlanValues, 'epochs' | 'warmupEpochs' | 'lr' | 'batchSize' | 'patience'> & Required<Pick<PlanValues, RecipeKey>> {
  const d = defaults.byStrategy[strategy];
  const rec = wizard?.recommendation.strategy === strategy ? wizard.recommendation : null;
  return {
    epochs: rec?.epochs ?? d.epochs,
    warmupEpochs: rec?.warmupEpochs ?? d.warmupEpochs,
    lr: rec?.lr ?? d.lr,
    batchSize: d.batchSize,
    patience: d.patience,
    // The fine-tuning recipe (engine/recipe.ts): each strategy has its own.
    lrSchedule: d.lrSchedule ?? 'constant',
    lowestLayerLr: d.lowestLayerLr ?? 1,
    labelSmoothing: d.labelSmoothing ?? 0,
  };
}

/** Every setting as the wizard recommends it (the defaults alone before it has answered). */
export function recommendedValues(defaults: Defaults, wizard: Advice | null): PlanValues {
  const r = wizard?.recommendation;
  const strategy = r?.strategy ?? 'head';
  return {
    ...defaults.byStrategy[strategy],
    strategy,
    featureLayer: r?.featureLayer ?? null,
    fused: strategy === 'head' ? (r?.fused ?? null) : null,
    boundary: strategy === 'partial' ? (r?.boundary ?? r?.featureLayer ?? null) : null,
    ...strategyValues(defaults, strategy, wizard),
    augmentation: { ...defaults.byStrategy[strategy].augmentation },
  };
}

/** The `overrides` of `training.start`: every value, so starting never re-runs the wizard. */
export function overridesOf(v: PlanValues): Overrides {
  return {
    featureLayer: v.featureLayer,
    // The wizard's fused features hold while the plan stays at its choice: a new classifier fitted
    // to convergence, reading the layer it named first. Another layer or head trains that alone.
    fused:
      v.strategy === 'head' && v.headFit === 'convex' && v.denseUnits === 0 && v.fused?.length && v.fused[0]!.layer === v.featureLayer
        ? v.fused.map((p) => ({ ...p }))
        : null,
    boundary: v.strategy === 'partial' ? v.boundary : null,
    epochs: v.epochs,
    warmupEpochs: v.strategy === 'head' ? 0 : v.warmupEpochs,
    lr: v.lr,
    headLr: v.headLr,
    batchSize: v.batchSize,
    denseUnits: v.denseUnits,
    headFit: v.headFit,
    dropout: v.dropout,
    l2: v.l2,
    augmentation: { ...v.augmentation },
    augmentedVariants: v.augmentedVariants,
    classWeights: v.classWeights,
    patience: v.patience,
    ...(v.lrSchedule !== undefined ? { lrSchedule: v.lrSchedule } : {}),
    ...(v.lowestLayerLr !== undefined ? { lowestLayerLr: v.lowestLayerLr } : {}),
    ...(v.labelSmoothing !== undefined ? { labelSmoothing: v.labelSmoothing } : {}),
    seed: v.seed,
    resetWeights: v.strategy === 'full' && v.resetWeights,
  };
}
