// The fine-tuning recipe of strategies 1–2 (engine/recipe.ts) and their warm-up in words, one
// wording for the Train tab and for the exported model card. Runs recorded before the recipe
// existed have none of its settings, and get no words for it.
import { convexWarmup, type EstimateStrategy } from './run-estimate.js';

export interface RecipeSettings {
  lrSchedule?: 'constant' | 'cosine' | undefined;
  lowestLayerLr?: number | undefined;
  labelSmoothing?: number | undefined;
}

/** "learning rate falling smoothly to zero (cosine), lowest trained layer at 0.3× the rate, …", or null. */
export function recipeWords(c: RecipeSettings): string | null {
  if (c.lrSchedule === undefined && c.lowestLayerLr === undefined && c.labelSmoothing === undefined) return null;
  const parts: string[] = [];
  if (c.lrSchedule !== undefined)
    parts.push(c.lrSchedule === 'cosine' ? 'learning rate falling smoothly to zero (cosine)' : 'the same learning rate throughout');
  if (c.lowestLayerLr !== undefined)
    parts.push(
      c.lowestLayerLr < 1
        ? `lowest trained layer at ${Number(c.lowestLayerLr.toPrecision(3))}× the rate, rising to 1× at the top`
        : 'every trained layer at the same rate',
    );
  if (c.labelSmoothing !== undefined) parts.push(c.labelSmoothing > 0 ? `label smoothing ${c.labelSmoothing}` : 'no label smoothing');
  return parts.join(', ');
}

/** Strategies 1–2's warm-up in words: one convex fit of the classifier (the default), or its epochs. */
export function warmupWords(
  strategy: EstimateStrategy,
  c: { warmupEpochs?: number; headFit?: 'convex' | 'adam'; denseUnits?: number },
): string {
  if (convexWarmup(strategy, c)) return 'the classifier fitted first';
  const n = c.warmupEpochs ?? 0;
  return n === 0 ? 'no warm-up' : `${n} warm-up epoch${n === 1 ? '' : 's'}`;
}
