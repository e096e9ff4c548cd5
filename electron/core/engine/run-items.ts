// What a run trains on, shared by layers-base runs (run.ts) and graph-base runs (graph-run.ts):
// the split's sample indices, and the cached items — every image as itself, training images also
// as their augmented variants — with the seeded choice of which variant an epoch shows.
import type { Item, PixelSource } from './frozen.js';
import { rng, subSeed } from './seeded.js';

export interface Splits {
  train: number[];
  validation: number[];
  test: number[];
}

export function splitIndices(samples: readonly { split: string }[]): Splits {
  const idx = (split: keyof Splits) => samples.map((s, i) => (s.split === split ? i : -1)).filter((i) => i >= 0);
  return { train: idx('train'), validation: idx('validation'), test: idx('test') };
}

export interface RunItems {
  items: Item[];
  /** The item ids of each sample: [itself, …its augmented variants]. */
  itemOf: number[][];
  /** Which cached variant a training image shows in an epoch (seeded; 0 outside training). */
  pick(sample: number, epoch: number, training: boolean): number;
}

export function runItems(samples: readonly (PixelSource & { split: string })[], augmentedVariants: number, seed: number): RunItems {
  const items: Item[] = [];
  const itemOf = samples.map((s) => {
    const count = s.split === 'train' ? 1 + augmentedVariants : 1;
    const ids: number[] = [];
    for (let v = 0; v < count; v++) ids.push(items.push({ source: s, variant: v }) - 1);
    return ids;
  });
  const pick = (sample: number, epoch: number, training: boolean) => {
    const ids = itemOf[sample]!;
    if (!training || ids.length === 1) return ids[0]!;
    return ids[Math.floor(rng(subSeed(seed, `variant-${epoch}-${sample}`))() * ids.length)]!;
  };
  return { items, itemOf, pick };
}
