// A small seeded PRNG (mulberry32): shuffles, folds and augmentation draws must repeat for a
// seed, which Math.random (what tf.util.shuffle uses) cannot give.
export type Rng = () => number;

export function rng(seed: number): Rng {
  let a = seed >>> 0 || 0x9e3779b9;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffled<T>(items: readonly T[], random: Rng): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Derives an independent integer seed for a named purpose, so adding a draw elsewhere changes nothing here. */
export function subSeed(seed: number, purpose: string): number {
  let h = seed ^ 0x811c9dc5;
  for (let i = 0; i < purpose.length; i++) h = Math.imul(h ^ purpose.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
