// The fine-tuning recipe in words (electron/shared/recipe-words.ts), as the Train tab's run
// settings and the exported model card say it.
import { describe, expect, it } from 'vitest';
import { recipeWords, warmupWords } from '../../electron/shared/recipe-words.js';

describe('recipeWords', () => {
  it("says strategy 2's defaults in words", () => {
    expect(recipeWords({ lrSchedule: 'cosine', lowestLayerLr: 0.3, labelSmoothing: 0.1 })).toBe(
      'learning rate falling smoothly to zero (cosine), lowest trained layer at 0.3× the rate, rising to 1× at the top, label smoothing 0.1',
    );
  });

  it('says when a setting is off', () => {
    expect(recipeWords({ lrSchedule: 'constant', lowestLayerLr: 1, labelSmoothing: 0 })).toBe(
      'the same learning rate throughout, every trained layer at the same rate, no label smoothing',
    );
  });

  it('has no words for a run recorded before the recipe existed', () => {
    expect(recipeWords({})).toBeNull();
  });
});

describe('warmupWords', () => {
  it('says the default warm-up of strategies 1–2 is one fit, and an Adam warm-up its epochs', () => {
    expect(warmupWords('partial', { warmupEpochs: 5, headFit: 'convex', denseUnits: 0 })).toBe('the classifier fitted first');
    expect(warmupWords('full', { warmupEpochs: 5, headFit: 'convex', denseUnits: 64 })).toBe('5 warm-up epochs');
    expect(warmupWords('partial', { warmupEpochs: 0 })).toBe('no warm-up');
  });
});
