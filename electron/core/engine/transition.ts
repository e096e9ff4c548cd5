// The wizard's transition point: where this base's features stop being general and start being
// specialised for its original task, measured on this dataset. One frozen pass gives the pooled
// activations at every probe point (cached, and shared with strategy 3's feature cache); a
// cross-validated linear probe scores each; the best is the strategy-3 feature layer.
import type { Base, GraphBase } from './base.js';
import { FeatureCache } from './feature-cache.js';
import { cacheKey, type PixelSource } from './frozen.js';
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

export async function findTransitionPoint(
  base: Base | GraphBase,
  samples: ProbeSample[],
  cache: FeatureCache,
  opts: { seed?: number; folds?: number; points?: string[]; compute?: ComputeSettings } = {},
): Promise<ProbeResult> {
  // The test split stays unseen, as it will be for the run the wizard recommends.
  const used = samples.filter((s) => s.split !== 'test');
  const points = opts.points ?? base.probePoints;
  const keyOf = (layer: string, s: ProbeSample) => cacheKey(`${base.id}/${layer}`, true, { source: s, variant: 0 }, NO_AUGMENTATION);
  const features: Float32Array[][] = points.map(() => new Array<Float32Array>(used.length));
  const missing: number[] = [];
  used.forEach((s, i) => {
    let complete = true;
    points.forEach((p, k) => {
      const hit = cache.get(keyOf(p, s), false);
      if (hit) features[k]![i] = hit;
      else complete = false;
    });
    if (!complete) missing.push(i);
  });
  let forwardMs = 0;
  let runtime = 'cache';
  if (missing.length) {
    const forward = await frozenPass(
      opts.compute ?? DEFAULT_COMPUTE_SETTINGS,
      base,
      points.map((layer) => ({ layer, pool: true })),
    );
    runtime = forward.runtime;
    const started = performance.now();
    for (let b = 0; b < missing.length; b += BATCH) {
      const idx = missing.slice(b, b + BATCH);
      const pixels = await Promise.all(idx.map((i) => used[i]!.pixels()));
      const outs = await forward.run(pixels);
      outs.forEach((rows, k) => {
        idx.forEach((i, j) => {
          features[k]![i] = rows[j]!;
          cache.put(keyOf(points[k]!, used[i]!), rows[j]!, false);
        });
      });
      await new Promise<void>((r) => setImmediate(r));
    }
    forwardMs = (performance.now() - started) / missing.length;
  }
  const labels = used.map((s) => s.label);
  const scores = points.map((layer, k) => ({
    layer,
    score: probeAccuracy(features[k]!, labels, { seed: opts.seed ?? 1, folds: opts.folds ?? 5 }),
  }));
  const best = scores.reduce((a, b) => (b.score > a.score ? b : a)).layer;
  return { scores, best, forwardMsPerImage: forwardMs, runtime };
}
