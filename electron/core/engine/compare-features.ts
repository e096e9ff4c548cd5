// The wizard's comparison of feature candidates (feature-choice.ts), inside the engine process:
// each candidate's pooled features of the training + validation images (from the probe's cache,
// at each base's own size), and the convex head's cross-validated score on them — the same head
// and the same folds for every candidate. The test split is never read.
import type { Base, GraphBase } from './base.js';
import { FeatureCache } from './feature-cache.js';
import type { PixelSource } from './frozen.js';
import { pooledFeatures, type PooledRequest } from './transition.js';
import { crossValidatedScore } from './linear-head.js';
import { classWeightsFor } from './loop.js';
import { trunksOf } from './fused.js';
import type { FeatureCandidate, ScoredCandidate } from './feature-choice.js';
import type { ComputeSettings } from './compute-settings.js';

interface CompareSample {
  label: number;
  split: 'train' | 'validation' | 'test';
  /** The picture decoded at this base's input size (keyed by base id). */
  source: (baseId: string) => PixelSource;
}

export async function compareFeatures(
  candidates: FeatureCandidate[],
  samples: CompareSample[],
  loadBase: (baseId: string) => Promise<Base | GraphBase>,
  cache: FeatureCache,
  opts: { seed: number; classWeights: boolean; compute?: ComputeSettings },
): Promise<ScoredCandidate[]> {
  const used = samples.filter((s) => s.split !== 'test');
  const labels = used.map((s) => s.label);
  const classes = Math.max(...labels) + 1;
  // Every (base, layer, pool) any candidate reads, fetched once.
  const wanted = new Map<string, PooledRequest[]>();
  for (const c of candidates)
    for (const t of trunksOf(c.parts)) {
      const list = wanted.get(t.base) ?? [];
      for (const layer of t.layers)
        for (const pool of ['avg', 'max'] as const) if (!list.some((r) => r.layer === layer && r.pool === pool)) list.push({ layer, pool });
      wanted.set(t.base, list);
    }
  const rows = new Map<string, Float32Array[]>();
  for (const [baseId, requests] of wanted) {
    const { features } = await pooledFeatures(
      () => loadBase(baseId),
      baseId,
      used.map((s) => s.source(baseId)),
      requests,
      cache,
      opts.compute,
    );
    requests.forEach((r, k) => rows.set(`${baseId}/${r.layer}/${r.pool}`, features[k]!));
  }
  const classWeights = opts.classWeights ? classWeightsFor(labels, classes) : null;
  return candidates.map((c) => {
    const pools = c.pools === 'avg' ? ['avg'] : ['avg', 'max'];
    // The order fused.ts concatenates in: trunk by trunk, layer by layer, average before max.
    const parts = trunksOf(c.parts).flatMap((t) =>
      t.layers.flatMap((layer) => pools.map((pool) => rows.get(`${t.base}/${layer}/${pool}`)!)),
    );
    const features = used.map((_, i) => concat(parts.map((p) => p[i]!)));
    const score = crossValidatedScore(features, labels, classes, { seed: opts.seed, classWeights });
    return { ...c, accuracy: score.accuracy, correct: Array.from(score.correct) };
  });
}

function concat(rows: Float32Array[]): Float32Array {
  if (rows.length === 1) return rows[0]!;
  const out = new Float32Array(rows.reduce((n, r) => n + r.length, 0));
  let at = 0;
  for (const r of rows) {
    out.set(r, at);
    at += r.length;
  }
  return out;
}
