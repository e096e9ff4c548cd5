// The strategy wizard's rules. Inputs are what the user can see on the wizard page (images per
// label, the linear-probe score of the best block, the engine and its measured speed); the
// output is a choice the user can override, with the reason in plain words.
import { estimateRunMs } from '../../shared/run-estimate.js';
import { STRATEGY_DEFAULTS } from './config.js';
import type { FusedPart } from './fused.js';

export type Strategy = 'head' | 'partial' | 'full';

export interface EngineSpeed {
  engine: string;
  /** Measured ms per image of one training step of each strategy on this engine. */
  msPerImage: Record<Strategy, number>;
  /** ms per image of a frozen forward pass (feature caching); 0 when already cached. */
  forwardMsPerImage?: number;
}

export interface WizardInput {
  /** The smallest label's image count: the model is only as good as its weakest label. */
  imagesPerLabel: number;
  labels: number;
  /** Best cross-validated linear-probe accuracy over the base's blocks (0..1). */
  probeScore: number;
  speed: EngineSpeed;
  /** Block ends, input side first. */
  blocks: string[];
  /** The best-probing layer: the strategy-3 feature layer. */
  bestBlock: string;
  /** The block end at or below `bestBlock` (when that is mid-block, e.g. an expansion); default bestBlock. */
  anchorBlock?: string;
  trainFraction?: number;
  /** How long a run may take before the wizard prefers a cheaper strategy. */
  budgetMs?: number;
  /** The base computes features only (a graph model): strategy 3 is the one choice. */
  featuresOnly?: boolean;
  /** Images the probe scored (training + validation; never test): the estimate's sample size. */
  probeImages?: number;
  /** Every labelled image a run will use (with test): what the time estimate counts. Default imagesPerLabel × labels. */
  images?: number;
}

/** Expected accuracy on new pictures, as a range. */
export interface Estimate {
  low: number;
  high: number;
}

export interface Recommendation {
  strategy: Strategy;
  featureLayer: string;
  /** Strategy 3 on fused features (the wizard's choice among feature candidates), or null. */
  fused: FusedPart[] | null;
  boundary: string | null;
  lr: number;
  epochs: number;
  warmupEpochs: number;
  estimatedMs: number;
  /** From the cross-validated probe on training + validation images only (see estimateAccuracy). */
  estimate: Estimate;
  reason: string;
}

/**
 * Optimism of the best of many probe points: the maximum of noisy cross-validation scores
 * overstates the chosen one's accuracy on new pictures by a few points.
 */
const SELECTION_OPTIMISM = 0.03;

/**
 * The range a new picture's accuracy should fall in: the best probe score, less the selection's
 * optimism, ± two binomial standard errors over the images the probe held out in turn.
 */
export function estimateAccuracy(probeScore: number, images: number): Estimate {
  const p = Math.min(1, Math.max(0, probeScore - SELECTION_OPTIMISM));
  const se = Math.sqrt((p * (1 - p)) / Math.max(1, images));
  const round = (x: number) => Math.round(Math.min(1, Math.max(0, x)) * 1000) / 1000;
  return { low: round(p - 2 * se), high: round(p + 2 * se) };
}

export const DEFAULT_BUDGET_MS = 20 * 60_000;
/**
 * Below this many images in the smallest label, a new classifier fitted to convergence on frozen
 * features beat fine-tuning the top of the base on every dataset measured (clipart-8 and clipart-b
 * at 45–66 per label: strategy 2 scored 0.51 against 0.65+ for strategy 3, see `npm run
 * bench:quality`), and fine-tuning costs minutes, not seconds. With the fine-tuning recipe
 * (recipe.ts: convex warm-up, label smoothing, cosine decay, lower layers slower) strategy 2 on
 * clipart-8 (split seeds 1–3, MobileNetV2 block_13_expand_relu above block_12_add) scored 0.603,
 * 0.679, 0.564 against strategy 3's 0.590, 0.667, 0.577 on the same features — a tie within a
 * test picture or two, and on one seed no fine-tuning epoch beat the warm-up at all — and on
 * clipart-b (split seeds 1–2) 0.739, 0.667 against 0.754, 0.725 (`npm run bench:recipes`). The wizard cannot measure fine-tuning within its work budget, so it asks for
 * clearly more data before recommending it; a run that fine-tunes still measures it, and keeps
 * the fine-tuned network only when validation says it helped.
 */
export const MIN_PER_LABEL_TO_FINETUNE = 100;
const PROBE_GOOD_ENOUGH = 0.85;
const FULL_NEEDS_PER_LABEL = 500;
const FULL_ONLY_BELOW_PROBE = 0.6;
const LOWER_BOUNDARY_FROM_PER_LABEL = 300;

/** The epochs and learning rate a recommendation carries: the run's own defaults (config.ts). */
function plan(strategy: Strategy): { lr: number; epochs: number; warmupEpochs: number } {
  const { lr, epochs, warmupEpochs } = STRATEGY_DEFAULTS[strategy];
  return { lr, epochs, warmupEpochs };
}

/**
 * The run's duration at most, from the measured speeds: the one formula the Train tab also uses
 * for any strategy the user picks (electron/shared/run-estimate.ts).
 */
export function estimateMs(
  strategy: Strategy,
  input: Pick<WizardInput, 'imagesPerLabel' | 'labels' | 'speed' | 'trainFraction' | 'images'>,
): number {
  const p = plan(strategy);
  return estimateRunMs(
    strategy,
    {
      images: input.images ?? input.imagesPerLabel * input.labels,
      ...(input.trainFraction !== undefined ? { trainFraction: input.trainFraction } : {}),
      epochs: p.epochs,
      warmupEpochs: p.warmupEpochs,
      convexHead: true,
      classes: input.labels,
    },
    input.speed,
  );
}

export function recommend(input: WizardInput): Recommendation {
  const budget = input.budgetMs ?? DEFAULT_BUDGET_MS;
  const per = input.imagesPerLabel;
  const probe = Math.round(input.probeScore * 100);
  const fits = (s: Strategy) => estimateMs(s, input) <= budget;
  const minutes = (ms: number) => (ms < 60_000 ? `${Math.max(1, Math.round(ms / 1000))} s` : `${Math.round(ms / 60_000)} min`);
  const pick = (strategy: Strategy, reason: string): Recommendation => {
    const bestIndex = Math.max(0, input.blocks.indexOf(input.anchorBlock ?? input.bestBlock));
    // More data can afford to retrain more of the base: move the boundary one block down.
    const boundaryIndex = per >= LOWER_BOUNDARY_FROM_PER_LABEL ? Math.max(0, bestIndex - 1) : bestIndex;
    return {
      strategy,
      featureLayer: input.bestBlock,
      fused: null,
      boundary: strategy === 'partial' ? (input.blocks[boundaryIndex] ?? input.anchorBlock ?? input.bestBlock) : null,
      ...plan(strategy),
      estimatedMs: estimateMs(strategy, input),
      estimate: estimateAccuracy(input.probeScore, input.probeImages ?? input.imagesPerLabel * input.labels),
      reason,
    };
  };

  if (input.featuresOnly)
    return pick(
      'head',
      `This base is a graph model: it can compute features but not be retrained, so a new classifier is trained on its features (${probe}% in a quick test).`,
    );
  if (per < MIN_PER_LABEL_TO_FINETUNE)
    return pick(
      'head',
      `With ${per} images per label (fewer than ${MIN_PER_LABEL_TO_FINETUNE}), retraining the base would memorise your photos, so only a new classifier is trained on the base's features (${probe}% in a quick test).`,
    );
  if (input.probeScore >= PROBE_GOOD_ENOUGH)
    return pick(
      'head',
      `The base's features already tell your labels apart (${probe}% in a quick test at ${input.bestBlock}), so a new classifier on top is enough and trains in seconds.`,
    );
  const engineNote = `on this computer's engine (${input.speed.engine})`;
  if (per >= FULL_NEEDS_PER_LABEL && input.probeScore < FULL_ONLY_BELOW_PROBE && fits('full'))
    return pick(
      'full',
      `You have ${per} images per label and your photos look unlike what the base learned from (${probe}% in a quick test), so the whole network is retrained with a small learning rate, kept only if it beats a new classifier alone on your checking pictures — about ${minutes(estimateMs('full', input))} ${engineNote}.`,
    );
  if (fits('partial'))
    return pick(
      'partial',
      `With ${per} images per label and features that fit your labels partly (${probe}% in a quick test), the top of the base is fine-tuned above ${pick('partial', '').boundary} with a small learning rate, kept only if it beats a new classifier alone on your checking pictures — about ${minutes(estimateMs('partial', input))} ${engineNote}.`,
    );
  return pick(
    'head',
    `Fine-tuning the base would take about ${minutes(estimateMs('partial', input))} ${engineNote}, longer than ${minutes(budget)}, so a new classifier is trained on the base's features instead (${probe}% in a quick test); a faster engine would allow more.`,
  );
}
