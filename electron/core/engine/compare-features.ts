// The wizard's comparison of feature candidates (feature-choice.ts), inside the engine process:
// each candidate's pooled features of the training + validation images (from the probe's cache,
// at each base's own size), scored by the probe's own cross-validated ridge on the probe's own
// folds — the same folds for every candidate, so two candidates compare image by image, and a
// candidate of one layer scores exactly what the probe said of it. A concatenation's Gram matrix
// is the sum of its parts' (each standardised on its own), so each part's Gram is computed once
// and a candidate costs one inverse per strength, whatever its width. The test split is never read.
import type { Base, GraphBase } from './base.js';
import { FeatureCache } from './feature-cache.js';
import type { PixelSource } from './frozen.js';
import { pooledFeatures, type PooledRequest } from './transition.js';
import { gramOf, probeFolds, ridgeScoreFromGram, standardize } from './probe.js';
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
  // classWeights: kept in the message for the run; ridge on centred one-hot targets weighs every image alike.
  opts: { seed: number; classWeights: boolean; compute?: ComputeSettings },
): Promise<ScoredCandidate[]> {
  const used = samples.filter((s) => s.split !== 'test');
  const labels = used.map((s) => s.label);
  // Every (base, layer, pool) any candidate reads, fetched once.
  const wanted = new Map<string, PooledRequest[]>();
  for (const c of candidates)
    for (const t of trunksOf(c.parts)) {
      const list = wanted.get(t.base) ?? [];
      for (const layer of t.layers)
        for (const pool of ['avg', 'max'] as const) if (!list.some((r) => r.layer === layer && r.pool === pool)) list.push({ layer, pool });
      wanted.set(t.base, list);
    }
  const partRows = new Map<string, Float32Array[]>();
  for (const [baseId, requests] of wanted) {
    const { features } = await pooledFeatures(
      () => loadBase(baseId),
      baseId,
      used.map((s) => s.source(baseId)),
      requests,
      cache,
      opts.compute,
    );
    requests.forEach((r, k) => partRows.set(`${baseId}/${r.layer}/${r.pool}`, features[k]!));
  }
  const draws = probeFolds(labels, { seed: opts.seed });
  const grams = new Map<string, { gram: Float64Array; width: number }>();
  const gramOfPart = (key: string) => {
    let g = grams.get(key);
    if (!g) {
      const rows = partRows.get(key)!;
      const width = rows[0]!.length;
      g = { gram: gramOf(standardize(rows, width), width), width };
      grams.set(key, g);
    }
    return g;
  };
  return candidates.map((c) => {
    const pools = c.pools === 'avg' ? ['avg'] : ['avg', 'max'];
    // The order fused.ts concatenates in: trunk by trunk, layer by layer, average before max.
    const keys = trunksOf(c.parts).flatMap((t) => t.layers.flatMap((layer) => pools.map((pool) => `${t.base}/${layer}/${pool}`)));
    const n = labels.length;
    const gram = new Float64Array(n * n);
    let width = 0;
    for (const key of keys) {
      const part = gramOfPart(key);
      for (let i = 0; i < gram.length; i++) gram[i]! += part.gram[i]!;
      width += part.width;
    }
    const score = ridgeScoreFromGram(gram, labels, draws, width);
    return { ...c, accuracy: score.accuracy, correct: Array.from(score.correct), width };
  });
}
