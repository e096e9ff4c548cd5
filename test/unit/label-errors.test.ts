// The doubted-label ranking: as many pictures as confident learning counts, the ones whose given
// label is least likely first — also a wrong label whose right label the model is unsure of.
import { describe, it, expect } from 'vitest';
import { doubtCount, rankDoubts, type Judged } from '../../electron/core/eval/label-errors.js';

describe('doubted labels', () => {
  it('list the lowest given-label probabilities first, as many as the confident joint counts', () => {
    const rows: Judged[] = [];
    let id = 100;
    for (let c = 0; c < 3; c++)
      for (let k = 0; k < 10; k++) rows.push({ imageId: id++, given: c, probs: [0, 1, 2].map((j) => (j === c ? 0.85 : 0.075)) });
    // Given 0, and label 1 is as sure as on its own pictures: counted.
    rows.push({ imageId: 1, given: 0, probs: [0.1, 0.85, 0.05] });
    // Given 1, and label 0 reaches its threshold: counted.
    rows.push({ imageId: 2, given: 1, probs: [0.8, 0.15, 0.05] });
    // Given 0, almost surely wrong, but torn between 1 and 2 (neither reaches its threshold): not
    // counted, yet its given label is the least likely of all.
    rows.push({ imageId: 3, given: 0, probs: [0.02, 0.5, 0.48] });
    expect(doubtCount(rows, 3)).toBe(2);
    const doubts = rankDoubts(rows, 3);
    expect(doubts.map((d) => d.imageId)).toEqual([3, 1]);
    expect(doubts[0]).toMatchObject({ given: 0, suggested: 1, confidence: 0.5, selfConfidence: 0.02 });
    expect(doubts[1]).toMatchObject({ given: 0, suggested: 1, confidence: 0.85 });
  });

  it('list nothing when every picture sits on its own label', () => {
    const rows: Judged[] = [0, 1, 0, 1].map((given, i) => ({ imageId: i, given, probs: given ? [0.2, 0.8] : [0.7, 0.3] }));
    expect(rankDoubts(rows, 2)).toEqual([]);
  });
});
