// Frozen forward passes with their on-disk cache: the frozen part of a network runs once per
// image (and augmented variant), never once per epoch.
import { augment, type Augmentation } from './augment.js';
import { FeatureCache } from './feature-cache.js';
import { subSeed } from './seeded.js';
import { Cancelled } from './loop.js';
import type { FrozenForward } from './forward.js';

export interface PixelSource {
  /** Stable content key (the image's sha256). */
  key: string;
  pixels: () => Promise<Uint8Array>;
}

export interface FrozenPart {
  /** A one-output frozen pass (see forward.ts). */
  forward: FrozenForward;
  /** What the cache key calls this output (base id + layer). */
  cacheName: string;
  size: number;
  /** Pooled features or the whole activation map (part of the cache key). */
  pool: boolean;
}

export interface Item {
  source: PixelSource;
  /** 0 = the image itself; 1.. = augmented variants. */
  variant: number;
}

const BATCH = 8;

function variantSeed(key: string, variant: number): number {
  return subSeed(parseInt(key.slice(0, 8), 16) || 0, `variant-${variant}`);
}

export async function variantPixels(item: Item, size: number, aug: Augmentation): Promise<Uint8Array> {
  const px = await item.source.pixels();
  return item.variant === 0 ? px : augment(px, size, aug, variantSeed(item.source.key, item.variant));
}

export function cacheKey(cacheName: string, pool: boolean, item: Item, aug: Augmentation): string {
  return FeatureCache.key(
    cacheName,
    pool ? 'pooled' : 'map',
    item.source.key,
    item.variant === 0 ? 'original' : `${JSON.stringify(aug)}#${item.variant}`,
  );
}

/** Outputs for every item, from the cache where present; computes and stores the rest. */
export async function cachedOutputs(
  part: FrozenPart,
  items: Item[],
  cache: FeatureCache,
  aug: Augmentation,
  opts: { half: boolean; isCancelled: () => boolean; onProgress?: (done: number, total: number) => void },
): Promise<Float32Array[]> {
  const keyOf = (it: Item) => cacheKey(part.cacheName, part.pool, it, aug);
  const out: (Float32Array | null)[] = items.map((it) => cache.get(keyOf(it), opts.half));
  const missing = items.map((_, i) => i).filter((i) => out[i] === null);
  let done = items.length - missing.length;
  opts.onProgress?.(done, items.length);
  for (let b = 0; b < missing.length; b += BATCH) {
    if (opts.isCancelled()) throw new Cancelled();
    const idx = missing.slice(b, b + BATCH);
    const pixels = await Promise.all(idx.map((i) => variantPixels(items[i]!, part.size, aug)));
    const rows = (await part.forward.run(pixels))[0]!;
    idx.forEach((i, k) => {
      cache.put(keyOf(items[i]!), rows[k]!, opts.half);
      // Read back through float16 when stored as such, so a warm run sees the same numbers as a cold one.
      out[i] = opts.half ? (cache.get(keyOf(items[i]!), true) ?? rows[k]!) : rows[k]!;
    });
    done += idx.length;
    opts.onProgress?.(done, items.length);
    await new Promise<void>((r) => setImmediate(r));
  }
  return out as Float32Array[];
}
