// The engine process's side of labeling suggestions. The process stays alive between requests,
// so the base, its frozen pass and every picture's features stay in memory: a refresh after the
// first costs one convex fit on rows already at hand, plus the frozen pass of new pictures only.
import fs from 'node:fs';
import { disposeBase, loadBase, type Base, type GraphBase } from '../engine/base.js';
import { frozenPass, type ComputeSettings } from '../engine/compute-plan.js';
import { FeatureCache } from '../engine/feature-cache.js';
import { cachedOutputs } from '../engine/frozen.js';
import { NO_AUGMENTATION } from '../engine/augment.js';
import type { FrozenForward } from '../engine/forward.js';
import { decodeForModel } from '../import/preprocess.js';
import { fitAndPredict } from './fit.js';
import type { SuggestRequest, SuggestResult } from '../engine/protocol.js';

interface Loaded {
  id: string;
  layer: string;
  base: Base | GraphBase;
  forward: FrozenForward;
  features: Map<string, Float32Array>;
  /** The last fit, to start the next one from (same width and classes). */
  warm: { classes: string; theta: Float64Array } | null;
}

let loaded: Loaded | null = null;

async function prepare(msg: SuggestRequest, compute: ComputeSettings): Promise<Loaded> {
  const id = `${msg.base.dir}|${msg.layer}`;
  if (loaded?.id === id) return loaded;
  if (loaded) {
    await loaded.forward.dispose();
    disposeBase(loaded.base);
    loaded = null;
  }
  const base = await loadBase(msg.base);
  const forward = await frozenPass(compute, base, [{ layer: msg.layer, pool: true }]);
  loaded = { id, layer: msg.layer, base, forward, features: new Map(), warm: null };
  return loaded;
}

export async function handleSuggest(msg: SuggestRequest, onProgress: (done: number, total: number) => void): Promise<SuggestResult> {
  const m = await prepare(msg, msg.compute);
  const all = [...msg.labeled, ...msg.unlabeled];
  const missing = all.filter((p) => !m.features.has(p.key));
  const started = performance.now();
  if (missing.length) {
    const cache = new FeatureCache(msg.cacheDir);
    const size = m.base.inputSize;
    const rows = await cachedOutputs(
      { forward: m.forward, cacheName: `${m.base.id}/${m.layer}`, pool: true, size },
      missing.map((p) => ({
        source: { key: p.key, pixels: async () => (await decodeForModel(fs.readFileSync(p.file), size)).data },
        variant: 0,
      })),
      cache,
      NO_AUGMENTATION,
      { half: false, isCancelled: () => false, onProgress },
    );
    missing.forEach((p, i) => m.features.set(p.key, rows[i]!));
  }
  const featureMs = performance.now() - started;
  const t = performance.now();
  const classesKey = msg.classKey;
  const fit = fitAndPredict({
    labeled: msg.labeled.map((p) => m.features.get(p.key)!),
    labels: msg.labeled.map((p) => p.label),
    unlabeled: msg.unlabeled.map((p) => m.features.get(p.key)!),
    classes: msg.classes,
    warm: m.warm?.classes === classesKey ? m.warm.theta : null,
  });
  m.warm = { classes: classesKey, theta: fit.theta };
  return {
    probabilities: fit.probabilities.map((p) => Array.from(p)),
    newFeatures: missing.length,
    featureMs,
    fitMs: performance.now() - t,
  };
}
