// Fused features: pooled activations of several probe points of one or more bases, concatenated
// (each a global average and a global max), for one new classifier. A fused model has one input,
// the largest trunk's size (prepared by the one input contract); a smaller trunk gets its picture
// resized inside the graph, by two fixed matrix products written as standard layers (Permute +
// Dense), because tfjs-layers' own Resizing layer cannot be built into a model (its output shape
// drops the batch axis) and a custom layer would not load in anyone else's TF.js. The same
// sub-graph serves the frozen pass (features for the head, converted to ONNX), the saved model,
// and so the app's prediction and every export.
import * as tf from '@tensorflow/tfjs';
import type { Base } from './base.js';
import { reapplyTo } from './graph.js';
import { scaleOffset } from '../models/scaling.js';

/** One probe point of a fused model: a base (by id) and one of its layers. Plain data: stored in the run's config. */
export interface FusedPart {
  base: string;
  layer: string;
}

/** Both poolings per probe point: the average says how much of a pattern, the max whether it occurs at all. */
export const FUSED_POOLS = ['avg', 'max'] as const;
type FusedPool = (typeof FUSED_POOLS)[number];

/** The one input size of a fused model: its largest trunk's. */
export function fusedInputSize(bases: Pick<Base, 'inputSize'>[]): number {
  return Math.max(...bases.map((b) => b.inputSize));
}

/**
 * The resize from `from` to `to` pixels along one axis as a [from, to] matrix (a Dense kernel):
 * a triangle (bilinear) filter with half-pixel centres, widened by the scale when shrinking so
 * every input pixel counts (antialiased, as image libraries downscale). Columns sum to 1.
 */
export function resizeMatrix(from: number, to: number): Float32Array {
  const scale = from / to;
  const support = Math.max(1, scale);
  const m = new Float32Array(from * to);
  for (let j = 0; j < to; j++) {
    const centre = (j + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - support));
    const hi = Math.min(from, Math.ceil(centre + support));
    let total = 0;
    const w: number[] = [];
    for (let i = lo; i < hi; i++) {
      const v = Math.max(0, 1 - Math.abs((i + 0.5 - centre) / support));
      w.push(v);
      total += v;
    }
    for (let i = lo; i < hi; i++) m[i * to + j] = w[i - lo]! / total;
  }
  return m;
}

function fixedDense(x: tf.SymbolicTensor, kernel: Float32Array, from: number, to: number, name: string): tf.SymbolicTensor {
  const layer = tf.layers.dense({ units: to, useBias: false, trainable: false, name });
  const out = layer.apply(x) as tf.SymbolicTensor;
  const k = tf.tensor2d(kernel, [from, to]);
  layer.setWeights([k]);
  k.dispose();
  return out;
}

/** Pixels [size, size, 3] (0..255) → the base's scaled input at its own size. */
function baseInput(x: tf.SymbolicTensor, base: Pick<Base, 'id' | 'inputSize' | 'scaling'>, size: number, tag: string): tf.SymbolicTensor {
  const { scale, offset } = scaleOffset(base.scaling);
  let y = tf.layers.rescaling({ scale, offset, name: `${tag}_scaling` }).apply(x) as tf.SymbolicTensor;
  const to = base.inputSize;
  if (to === size) return y;
  const r = resizeMatrix(size, to);
  // (H, W, C) → (H, C, W) → resize W → (W', C, H) → resize H → (H', W', C).
  y = tf.layers.permute({ dims: [1, 3, 2], name: `${tag}_resize_p1` }).apply(y) as tf.SymbolicTensor;
  y = fixedDense(y, r, size, to, `${tag}_resize_w`);
  y = tf.layers.permute({ dims: [3, 2, 1], name: `${tag}_resize_p2` }).apply(y) as tf.SymbolicTensor;
  y = fixedDense(y, r, size, to, `${tag}_resize_h`);
  return tf.layers.permute({ dims: [3, 1, 2], name: `${tag}_resize_p3` }).apply(y) as tf.SymbolicTensor;
}

/** The name of one pooled output of a fused graph: `<tag>_<layer>_<pool>`. */
const pooledName = (tag: string, layer: string, pool: FusedPool) => `${tag}_${layer}_${pool}`;

/** A short, layer-name-safe tag per trunk: the part's position among the bases. */
const trunkTag = (index: number) => `trunk${index}`;

/**
 * The pooled features of `layers` of one base from the fused input `x` ([size, size, 3], 0..255):
 * per layer its average then its max, in the order asked. Shares the base's weights.
 */
export function trunkFeatures(
  x: tf.SymbolicTensor,
  base: Base,
  size: number,
  layers: string[],
  tag: string,
): { name: string; layer: string; pool: FusedPool; tensor: tf.SymbolicTensor }[] {
  const input = baseInput(x, base, size, tag);
  const maps = reapplyTo(base.model, null, layers, input);
  return layers.flatMap((layer, k) =>
    FUSED_POOLS.map((pool) => {
      const name = pooledName(tag, layer, pool);
      const make = pool === 'avg' ? tf.layers.globalAveragePooling2d({ name }) : tf.layers.globalMaxPooling2d({ name });
      return { name, layer, pool, tensor: make.apply(maps[k]!) as tf.SymbolicTensor };
    }),
  );
}

/** The bases of a fused model in part order (first appearance), each with its layers. */
export function trunksOf(parts: FusedPart[]): { base: string; layers: string[] }[] {
  const out: { base: string; layers: string[] }[] = [];
  for (const p of parts) {
    const t = out.find((o) => o.base === p.base) ?? (out.push({ base: p.base, layers: [] }), out[out.length - 1]!);
    if (!t.layers.includes(p.layer)) t.layers.push(p.layer);
  }
  return out;
}

/**
 * The fused feature vector of a fused model: every trunk's pooled outputs concatenated, trunk by
 * trunk, layer by layer, average before max (the order the head's weights expect).
 */
export function fusedFeatures(x: tf.SymbolicTensor, bases: Map<string, Base>, parts: FusedPart[], size: number): tf.SymbolicTensor {
  const names = trunksOf(parts).map((t) =>
    bases
      .get(t.base)!
      .model.layers.filter((l) => l.getClassName() !== 'InputLayer')
      .map((l) => l.name),
  );
  if (!layerNamesDisjoint(names))
    throw new Error('These bases share layer names, so one model cannot hold both: fuse features of one base only, or rename its layers.');
  const pooled = trunksOf(parts).flatMap((t, i) => trunkFeatures(x, bases.get(t.base)!, size, t.layers, trunkTag(i)));
  const tensors = pooled.map((p) => p.tensor);
  return tensors.length === 1 ? tensors[0]! : (tf.layers.concatenate({ name: 'fused_features' }).apply(tensors) as tf.SymbolicTensor);
}

/** Whether trunks' layer names (input layers aside, which a fused model replaces) never repeat: one model can hold them all. */
export function layerNamesDisjoint(names: string[][]): boolean {
  const seen = new Set<string>();
  for (const list of names)
    for (const n of new Set(list)) {
      if (seen.has(n)) return false;
      seen.add(n);
    }
  return true;
}
