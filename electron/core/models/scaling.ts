// Input scaling as the import dialog offers it ("[0,1]", "[-1,1]", "[0,255]") and as folders
// may state it in their metadata.json, mapped to the bases' InputScaling.
import type { InputScaling } from '../engine/bases/types.js';
import { SCALING_CHOICES, type ScalingChoice } from '../../shared/contract-models.js';

export function scalingFromChoice(choice: ScalingChoice): InputScaling {
  const [lo, hi] = choice.slice(1, -1).split(',').map(Number) as [number, number];
  return { from: [0, 255], to: [lo, hi] };
}

/**
 * What a folder's metadata.json says about scaling, in the shapes people write: "[0,1]",
 * [lo, hi], {from, to}, {min, max}. Undefined when it says nothing; throws when it says
 * something we cannot read (a guess here would silently ruin every prediction).
 */
export function readScaling(value: unknown): InputScaling | undefined {
  if (value === undefined || value === null) return undefined;
  const range = (lo: unknown, hi: unknown): InputScaling | null =>
    typeof lo === 'number' && typeof hi === 'number' && Number.isFinite(lo) && Number.isFinite(hi) && lo !== hi
      ? { from: [0, 255], to: [lo, hi] }
      : null;
  let out: InputScaling | null = null;
  if (typeof value === 'string') {
    const compact = value.replace(/\s+/g, '');
    if ((SCALING_CHOICES as readonly string[]).includes(compact)) out = scalingFromChoice(compact as ScalingChoice);
  } else if (Array.isArray(value) && value.length === 2) {
    out = range(value[0], value[1]);
  } else if (typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (Array.isArray(o.from) && Array.isArray(o.to) && o.from.length === 2 && o.to.length === 2) {
      const from = range(o.from[0], o.from[1]);
      const to = range(o.to[0], o.to[1]);
      if (from && to) out = { from: from.to, to: to.to };
    } else if ('min' in o || 'max' in o) {
      out = range(o.min, o.max);
    }
  }
  if (!out)
    throw new Error(`its input scaling ${JSON.stringify(value).slice(0, 80)} is not one we can read; use "[0,1]", "[-1,1]" or "[0,255]"`);
  return out;
}
