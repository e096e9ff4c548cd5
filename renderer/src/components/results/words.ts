// Results in plain words, shared by the gallery and its preview.
import type { EvalImage } from '../../../../electron/shared/contract-eval';

export const pct = (x: number): string => `${Math.round(x * 100)}%`;

/** "model: bird 87%", or "model agrees 91%" when it says the given label. */
export function answerWords(i: Pick<EvalImage, 'label' | 'predicted' | 'confidence'>): string {
  return i.predicted === i.label ? `model agrees, ${pct(i.confidence)}` : `model: ${i.predicted} ${pct(i.confidence)}`;
}
