// Test-split results as a person reads them: accuracy, per-label precision and recall, and the
// confusion matrix (rows = true label, columns = predicted).
import { argMax } from './loop.js';

export interface PerClass {
  label: string;
  precision: number | null;
  recall: number | null;
  support: number;
}

export interface FinalMetrics {
  testAccuracy: number | null;
  valAccuracy: number | null;
  testCount: number;
  labels: string[];
  perClass: PerClass[];
  confusion: number[][];
}

export function confusionMetrics(labels: string[], truth: number[], probs: Float32Array, valAccuracy: number | null): FinalMetrics {
  const k = labels.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  truth.forEach((t, i) => {
    confusion[t]![argMax(probs.subarray(i * k, (i + 1) * k))]!++;
  });
  const correct = confusion.reduce((s, row, i) => s + row[i]!, 0);
  const perClass = labels.map((label, c) => {
    const predicted = confusion.reduce((s, row) => s + row[c]!, 0);
    const support = confusion[c]!.reduce((s, v) => s + v, 0);
    return {
      label,
      precision: predicted === 0 ? null : confusion[c]![c]! / predicted,
      recall: support === 0 ? null : confusion[c]![c]! / support,
      support,
    };
  });
  return { testAccuracy: truth.length ? correct / truth.length : null, valAccuracy, testCount: truth.length, labels, perClass, confusion };
}
