// The wizard's transition point: where this base's features stop being general and start being
// specialised for its original task, measured on this dataset. One frozen pass gives the pooled
// activations at every probe point (cached, and shared with strategy 3's feature cache); a
// cross-validated linear probe scores each; the best is the strategy-3 feature layer.
import { isGraphBase, type Base, type GraphBase } from './base.js';
import { FeatureCache } from './feature-cache.js';
import { cacheKey, type PixelSource } from './frozen.js';
import type { FrozenForward } from './forward.js';
import { Cancelled } from './loop.js';
import { below } from './graph.js';
import { NO_AUGMENTATION } from './augment.js';
import { probeAccuracy } from './probe.js';
import type { ProbeResult } from './protocol.js';
import { frozenPass } from './compute-plan.js';
import { DEFAULT_COMPUTE_SETTINGS, type ComputeSettings } from './compute-settings.js';

export interface ProbeSample extends PixelSource {
  label: number;
  split: 'train' | 'validation' | 'test';
}

const BATCH = 8;

/**
 * What the cache calls a pooled output of a base at its own input size: `<base>/<layer>` for the
 * average (the key strategy 3's run reads too), `<base>/<layer>#max` for the maximum.
 */
export function pooledCacheName(baseId: string, layer: string, pool: 'avg' | 'max'): string {
  return `${baseId}/${layer}${pool === 'max' ? '#max' : ''}`;
}

export interface PooledRequest {
  layer: string;
  pool: 'avg' | 'max';
}

/**
 * Pooled features of these samples at these outputs (each sample decoded at the base's own
 * size): from the cache where present, else one frozen pass for every output of the samples
 * missing any. Returns [request][sample] and the pass's ms per image (0 when all were cached).
 */
export async function pooledFeatures(
  base: Base | GraphBase | (() => Promise<Base | GraphBase>),
  baseId: string,
  samples: PixelSource[],
  requests: PooledRequest[],
  cache: FeatureCache,
  compute: ComputeSettings = DEFAULT_COMPUTE_SETTINGS,
): Promise<{ features: Float32Array[][]; forwardMs: number; runtime: string }> {
  return cachedRows(
    samples,
    requests.map((r) => pooledCacheName(baseId, r.layer, r.pool)),
    cache,
    async () =>
      frozenPass(
        compute,
        typeof base === 'function' ? await base() : base,
        requests.map((r) => ({ layer: r.layer, pool: r.pool })),
      ),
  );
}

/**
 * Rows of several pooled outputs per sample (cache names in `names`, one per output of the
 * pass): from the cache where present; the pass opens only when some sample misses any.
 */
export async function cachedRows(
  samples: PixelSource[],
  names: string[],
  cache: FeatureCache,
  open: () => Promise<Pick<FrozenForward, 'run' | 'runtime'>>,
  isCancelled: () => boolean = () => false,
): Promise<{ features: Float32Array[][]; forwardMs: number; runtime: string }> {
  const keyOf = (name: string, s: PixelSource) => cacheKey(name, true, { source: s, variant: 0 }, NO_AUGMENTATION);
  const features: Float32Array[][] = names.map(() => new Array<Float32Array>(samples.length));
  const missing: number[] = [];
  samples.forEach((s, i) => {
    let complete = true;
    names.forEach((name, k) => {
      const hit = cache.get(keyOf(name, s), false);
      if (hit) features[k]![i] = hit;
      else complete = false;
    });
    if (!complete) missing.push(i);
  });
  if (!missing.length) return { features, forwardMs: 0, runtime: 'cache' };
  const forward = await open();
  const started = performance.now();
  for (let b = 0; b < missing.length; b += BATCH) {
    if (isCancelled()) throw new Cancelled();
    const idx = missing.slice(b, b + BATCH);
    const pixels = await Promise.all(idx.map((i) => samples[i]!.pixels()));
    const outs = await forward.run(pixels);
    outs.forEach((rows, k) => {
      idx.forEach((i, j) => {
        features[k]![i] = rows[j]!;
        cache.put(keyOf(names[k]!, samples[i]!), rows[j]!, false);
      });
    });
    await new Promise<void>((r) => setImmediate(r));
  }
  return { features, forwardMs: (performance.now() - started) / missing.length, runtime: forward.runtime };
}

export async function findTransitionPoint(
  base: Base | GraphBase,
  samples: ProbeSample[],
  cache: FeatureCache,
  opts: { seed?: number; folds?: number; points?: string[]; compute?: ComputeSettings } = {},
): Promise<ProbeResult> {
  // The test split stays unseen, as it will be for the run the wizard recommends.
  const used = samples.filter((s) => s.split !== 'test');
  const points = opts.points ?? base.probePoints;
  // The maxima come in the same pass, for the wizard's fused candidates (a graph base has none: it trains alone).
  const pools: ('avg' | 'max')[] = isGraphBase(base) ? ['avg'] : ['avg', 'max'];
  const requests = points.flatMap((layer) => pools.map((pool) => ({ layer, pool })));
  const { features, forwardMs, runtime } = await pooledFeatures(base, base.id, used, requests, cache, opts.compute);
  const labels = used.map((s) => s.label);
  const scores = points.map((layer, k) => ({
    layer,
    score: probeAccuracy(features[k * pools.length]!, labels, { seed: opts.seed ?? 1, folds: opts.folds ?? 5 }),
  }));
  const best = scores.reduce((a, b) => (b.score > a.score ? b : a)).layer;
  // What a trunk cut at each point weighs: the wizard's cost of a fused candidate.
  const bytesTo = isGraphBase(base) ? undefined : Object.fromEntries(points.map((p) => [p, below(base.model, p).countParams() * 4]));
  return { scores, best, forwardMsPerImage: forwardMs, runtime, ...(bytesTo ? { bytesTo } : {}) };
}
