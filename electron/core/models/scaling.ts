// The one input-scaling type: a linear map of pixel values, uint8 [from0, from1] → [to0, to1].
// Read from the shapes folders and people write it in ("[0,1]", [lo, hi], {from, to}, {min,
// max}, {scale, offset}); applied as shift/divide/add (ONNX, tfjs) or as a Rescaling layer.
import { SCALING_CHOICES, type ScalingChoice } from '../../shared/contract-models.js';

export interface InputScaling {
  from: [number, number];
  to: [number, number];
}

export function scalingFromChoice(choice: ScalingChoice): InputScaling {
  const [lo, hi] = choice.slice(1, -1).split(',').map(Number) as [number, number];
  return { from: [0, 255], to: [lo, hi] };
}

/**
 * What a folder's metadata.json says about scaling. Undefined when it says nothing; throws when
 * it says something we cannot read (a guess here would silently ruin every prediction).
 */
export function readScaling(value: unknown): InputScaling | undefined {
  if (value === undefined || value === null) return undefined;
  const finite = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n);
  const range = (lo: unknown, hi: unknown): InputScaling | null =>
    finite(lo) && finite(hi) && lo !== hi ? { from: [0, 255], to: [lo, hi] } : null;
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
    } else if (finite(o.scale) && o.scale !== 0) {
      const offset = finite(o.offset) ? o.offset : 0;
      out = { from: [0, 255], to: [offset, offset + 255 * o.scale] };
    }
  }
  if (!out)
    throw new Error(`its input scaling ${JSON.stringify(value).slice(0, 80)} is not one we can read; use "[0,1]", "[-1,1]" or "[0,255]"`);
  return out;
}

/** The same map as shift → divide → add: the operations (and so the rounding) of the ONNX scaling node. */
export function scalingSteps(s: InputScaling): { shift: number; divisor: number; offset: number } {
  const span = s.from[1] - s.from[0];
  const target = s.to[1] - s.to[0];
  if (span === 0 || target === 0) throw new RangeError(`degenerate input scaling ${JSON.stringify(s)}`);
  return { shift: s.from[0], divisor: span / target, offset: s.to[0] };
}

/** The same map as y = x × scale + offset: a Keras Rescaling layer's parameters. */
export function scaleOffset(s: InputScaling): { scale: number; offset: number } {
  const scale = (s.to[1] - s.to[0]) / (s.from[1] - s.from[0]);
  if (!Number.isFinite(scale) || scale === 0) throw new RangeError(`degenerate input scaling ${JSON.stringify(s)}`);
  return { scale, offset: s.to[0] - s.from[0] * scale };
}
