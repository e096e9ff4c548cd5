// Scores in context: 58% among 8 labels is better than guessing but far from good, and says so.
import { describe, it, expect } from 'vitest';
import { inTen, scoreInWords, scoreTone, wrongInWords } from '../../renderer/src/components/training/score-words.js';

describe('scores in words', () => {
  it('puts a middling score against guessing and counts the errors', () => {
    expect(scoreInWords({ accuracy: 0.67, labels: 8 })).toBe('Better than guessing (13%), but 1 in 3 pictures is wrong.');
    expect(scoreTone(0.58, 8)).toBe('fair');
  });

  it('calls a score near chance a failure, however large the percentage', () => {
    expect(scoreTone(0.55, 2)).toBe('poor');
    expect(scoreInWords({ accuracy: 0.55, labels: 2 })).toMatch(/^Hardly better than guessing \(50% with 2 labels\)/);
  });

  it('says a good score in tenths, and compares with the best earlier run', () => {
    expect(scoreTone(0.9, 4)).toBe('good');
    expect(scoreInWords({ accuracy: 0.9, labels: 4, best: { runId: 2, accuracy: 0.8 } })).toBe(
      'Good: about 9 in 10 pictures right (guessing would get 25%). Better than your best earlier run, run 2 (80%).',
    );
    expect(scoreInWords({ accuracy: 0.6, labels: 8, best: { runId: 3, accuracy: 0.7 } })).toMatch(
      /Worse than your best earlier run, run 3 \(70%\)\.$/,
    );
  });

  it('words fractions a person can picture', () => {
    expect(inTen(0.68)).toBe('about 7 in 10');
    expect(inTen(0.97)).toBe('almost every');
    expect(wrongInWords(0.75)).toBe('1 in 4 pictures is wrong');
    expect(wrongInWords(0.3)).toBe('about 7 in 10 pictures are wrong');
    expect(wrongInWords(1)).toBe('no picture was wrong');
  });
});
