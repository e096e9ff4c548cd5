// Which pictures are near-duplicates of each other, and which groups leak across splits. Pure:
// hashes and (optional) features in, groups out, so the thresholds can be tested on their own.

/**
 * Hash distance (bits of 64) that alone makes two pictures near-duplicates. Measured on clipart-8
 * (npm run bench:duplicates): resized and recompressed copies land at 0–4 (rarely up to 12 for a
 * halved clip-art drawing), while unrelated drawings on white start at 8 — small objects on a
 * white ground share their low frequencies. 6 keeps unrelated pictures apart.
 */
export const HASH_ALONE = 6;
/**
 * With cached features, a looser hash distance is only a candidate that the features must
 * confirm: slightly cropped copies move the hash by up to ~20 bits but keep what the network sees.
 */
export const HASH_CANDIDATE = 20;
/**
 * Cosine similarity of centred pooled features (see `centred`) that confirms a candidate. On
 * clipart-8 with MobileNetV2 block-13 features (npm run bench:duplicates with
 * DUPLICATES_FEATURES=1): 90% of 3–5% crops found (51–55% by the hash alone); unrelated candidate
 * pairs reach 0.95 only at their 99th percentile.
 */
export const FEATURE_CONFIRM = 0.95;
/** Below this, features overrule even a close hash (two different drawings with the same layout). */
export const FEATURE_VETO = 0.5;

export interface Hashed {
  imageId: number;
  phash: string;
  /** Pooled features, when a run cached them for this picture. */
  features: Float32Array | null;
}

export interface Group {
  imageIds: number[];
  distance: number;
  similarity: number | null;
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}

/** Whether two pictures are near-duplicates; the similarity used, if any. */
export function linked(a: Hashed, b: Hashed, distance: number, confirm = FEATURE_CONFIRM): { yes: boolean; similarity: number | null } {
  if (distance > HASH_CANDIDATE) return { yes: false, similarity: null };
  if (a.features && b.features && a.features.length === b.features.length) {
    const s = cosine(a.features, b.features);
    return { yes: distance <= HASH_ALONE ? s >= FEATURE_VETO : s >= confirm, similarity: s };
  }
  return { yes: distance <= HASH_ALONE, similarity: null };
}

/**
 * Features minus their mean over the pictures compared. Pooled activations after a ReLU are all
 * positive, so any two pictures score a raw cosine near 0.97 (clipart-8, MobileNetV2 block 13);
 * centred, unrelated pictures spread around 0.16 and copies stay near 0.9.
 */
export function centred(items: Hashed[]): Hashed[] {
  const withFeatures = items.filter((i) => i.features);
  if (withFeatures.length < 2) return items.map((i) => ({ ...i, features: null }));
  const dim = withFeatures[0]!.features!.length;
  const mean = new Float64Array(dim);
  for (const it of withFeatures)
    if (it.features!.length === dim) for (let k = 0; k < dim; k++) mean[k]! += it.features![k]! / withFeatures.length;
  return items.map((it) => ({ ...it, features: it.features?.length === dim ? it.features.map((v, k) => v - mean[k]!) : null }));
}

/**
 * Connected components of the near-duplicate relation, each sorted by image id; groups ordered by
 * first id. Features, where given, are centred over `items` first (see `centred`).
 */
export function nearDuplicateGroups(input: Hashed[], confirm = FEATURE_CONFIRM): Group[] {
  const items = centred(input);
  const parent = items.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  const distance = new Map<number, number>();
  const similarity = new Map<number, number>();
  // All pairs: 10,000 pictures are 50 M popcounts of 8 bytes, under a second; fine for a view a person opens.
  const words = items.map((it) => [parseInt(it.phash.slice(0, 8), 16), parseInt(it.phash.slice(8), 16)] as const);
  for (let i = 0; i < items.length; i++)
    for (let j = i + 1; j < items.length; j++) {
      const d = popcount(words[i]![0] ^ words[j]![0]) + popcount(words[i]![1] ^ words[j]![1]);
      if (d > HASH_CANDIDATE) continue;
      const l = linked(items[i]!, items[j]!, d, confirm);
      if (!l.yes) continue;
      const [ri, rj] = [find(i), find(j)];
      const root = Math.min(ri, rj);
      const merged = Math.max(d, distance.get(ri) ?? 0, distance.get(rj) ?? 0);
      const sims = [l.similarity, similarity.get(ri), similarity.get(rj)].filter((x): x is number => typeof x === 'number');
      parent[ri] = parent[rj] = root;
      distance.set(root, merged);
      if (sims.length) similarity.set(root, Math.min(...sims));
    }
  const members = new Map<number, number[]>();
  items.forEach((it, i) => {
    const r = find(i);
    members.set(r, [...(members.get(r) ?? []), it.imageId]);
  });
  return [...members]
    .filter(([, ids]) => ids.length > 1)
    .map(([root, ids]) => ({
      imageIds: ids.sort((a, b) => a - b),
      distance: distance.get(root) ?? 0,
      similarity: similarity.has(root) ? Math.round(similarity.get(root)! * 1e4) / 1e4 : null,
    }))
    .sort((a, b) => a.imageIds[0]! - b.imageIds[0]!);
}

function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

export type SplitName = 'train' | 'validation' | 'test';
const ORDER: SplitName[] = ['train', 'validation', 'test'];

/** A group leaks when training shares it with checking or test pictures. Where it would move on acceptance: its most common split, train on a tie. */
export function leakOf(splits: (SplitName | null)[]): { splits: SplitName[]; moveTo: SplitName } | null {
  const present = ORDER.filter((s) => splits.includes(s));
  if (!present.includes('train') || present.length < 2) return null;
  const count = (s: SplitName) => splits.filter((x) => x === s).length;
  const moveTo = present.reduce((best, s) => (count(s) > count(best) ? s : best), 'train' as SplitName);
  return { splits: present, moveTo };
}
