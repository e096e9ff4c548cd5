// A score in context: against guessing among the labels, and against the earlier runs. 58% of
// 8 labels is far better than guessing, yet 4 in 10 pictures are still wrong; neither number
// alone says that to a newcomer.

export type ScoreTone = 'poor' | 'fair' | 'good';

export interface ScoreContext {
  /** Accuracy on the pictures kept aside, 0..1. */
  accuracy: number;
  labels: number;
  /** The best earlier finished run, if any. */
  best?: { runId: number; accuracy: number } | null;
}

/** "about 7 in 10": a fraction in tenths a person can picture. */
export function inTen(x: number): string {
  const n = Math.max(0, Math.min(10, Math.round(x * 10)));
  return n === 10 && x < 1 ? 'almost every' : n === 0 && x > 0 ? 'almost none' : `about ${n} in 10`;
}

/** "1 in 3 pictures is wrong": the errors, as one in k when they are few. */
export function wrongInWords(accuracy: number): string {
  const wrong = 1 - accuracy;
  if (wrong <= 0.005) return 'no picture was wrong';
  if (wrong <= 0.5) {
    const k = Math.round(1 / wrong);
    return `1 in ${k} pictures is wrong`;
  }
  return `${inTen(wrong)} pictures are wrong`;
}

export function scoreTone(accuracy: number, labels: number): ScoreTone {
  const chance = 1 / Math.max(labels, 1);
  // Barely above guessing is a failure whatever the percentage looks like.
  if (accuracy < Math.min(chance * 1.5, chance + 0.2)) return 'poor';
  return accuracy >= 0.85 ? 'good' : 'fair';
}

export function scoreInWords({ accuracy, labels, best }: ScoreContext): string {
  const chance = 1 / Math.max(labels, 1);
  const guess = `${Math.round(chance * 100)}%`;
  const tone = scoreTone(accuracy, labels);
  const main =
    tone === 'poor'
      ? `Hardly better than guessing (${guess} with ${labels} labels): ${wrongInWords(accuracy)}.`
      : tone === 'fair'
        ? `Better than guessing (${guess}), but ${wrongInWords(accuracy)}.`
        : accuracy >= 0.995
          ? `Every picture kept aside was right.`
          : `Good: ${inTen(accuracy)} pictures right (guessing would get ${guess}).`;
  if (!best) return main;
  const diff = Math.round((accuracy - best.accuracy) * 100);
  const than = `run ${best.runId} (${Math.round(best.accuracy * 100)}%)`;
  const compared =
    diff > 0
      ? `Better than your best earlier run, ${than}.`
      : diff < 0
        ? `Worse than your best earlier run, ${than}.`
        : `As good as ${than}.`;
  return `${main} ${compared}`;
}

interface RunScore {
  id: number;
  status: string;
  metrics: { testAccuracy: number | null } | null;
}

/** The finished run with the best test score, among those started before `beforeId` when given. */
export function bestRun(runs: readonly RunScore[], beforeId?: number): { runId: number; accuracy: number } | null {
  let best: { runId: number; accuracy: number } | null = null;
  for (const r of runs) {
    const acc = r.metrics?.testAccuracy;
    if (r.status !== 'done' || acc === null || acc === undefined || (beforeId !== undefined && r.id >= beforeId)) continue;
    if (!best || acc > best.accuracy) best = { runId: r.id, accuracy: acc };
  }
  return best;
}
