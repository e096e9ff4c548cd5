// The engine process's side of labeling suggestions. The process stays alive between requests,
// so the bases, their frozen passes, every picture's features and their Gram matrix stay in
// memory: a refresh after the first costs one convex fit on rows already at hand, plus the
// frozen pass of new pictures only.
//
// What the quick model reads: the average and the maximum of a layer of each base it is given
// (the built-in bases both, see service.ts), concatenated. The average says how much of a
// pattern, the maximum whether it occurs at all; two networks trained differently see different
// things. The same cache entries as the wizard's probe (transition.ts's names), so a project the
// wizard measured reads no picture twice.
import fs from 'node:fs';
import { disposeBase, isGraphBase, loadBase, type Base, type GraphBase } from '../engine/base.js';
import { frozenPass, type ComputeSettings } from '../engine/compute-plan.js';
import { FeatureCache } from '../engine/feature-cache.js';
import { cachedRows, pooledCacheName } from '../engine/transition.js';
import type { FrozenForward } from '../engine/forward.js';
import { decodeForModel } from '../import/preprocess.js';
import { SuggestSpace } from './fit.js';
import type { SuggestRequest, SuggestResult } from '../engine/protocol.js';
import { concatRows } from '../engine/rows.js';

interface Part {
  base: Base | GraphBase;
  forward: FrozenForward;
  /** Cache names of the pass's outputs, in its output order. */
  names: string[];
}

interface Loaded {
  id: string;
  parts: Part[];
  features: Map<string, Float32Array>;
  /** The Gram matrix of the pictures in `keys` (in that order); rebuilt when a request brings others. */
  space: { keys: Map<string, number>; model: SuggestSpace } | null;
}

let loaded: Loaded | null = null;

/** Pictures read per step of the frozen pass between progress reports. */
const CHUNK = 32;

async function prepare(msg: SuggestRequest, compute: ComputeSettings): Promise<Loaded> {
  const id = msg.parts.map((p) => `${p.base.dir}|${p.layers.join(',')}`).join(';');
  if (loaded?.id === id) return loaded;
  if (loaded) {
    for (const p of loaded.parts) {
      await p.forward.dispose();
      disposeBase(p.base);
    }
    loaded = null;
  }
  const parts: Part[] = [];
  for (const p of msg.parts) {
    const base = await loadBase(p.base);
    // A graph model has no maximum output (transition.ts): its average alone.
    const pools = isGraphBase(base) ? (['avg'] as const) : (['avg', 'max'] as const);
    const outputs = p.layers.flatMap((layer) => pools.map((pool) => ({ layer, pool })));
    parts.push({
      base,
      forward: await frozenPass(compute, base, outputs),
      names: outputs.map((o) => pooledCacheName(base.id, o.layer, o.pool)),
    });
  }
  loaded = { id, parts, features: new Map(), space: null };
  return loaded;
}

export async function handleSuggest(msg: SuggestRequest, onProgress: (done: number, total: number) => void): Promise<SuggestResult> {
  const m = await prepare(msg, msg.compute);
  const all = [...msg.labeled, ...msg.unlabeled];
  const missing = [...new Map(all.filter((p) => !m.features.has(p.key)).map((p) => [p.key, p])).values()];
  const started = performance.now();
  if (missing.length) {
    const cache = new FeatureCache(msg.cacheDir);
    for (let at = 0; at < missing.length; at += CHUNK) {
      const chunk = missing.slice(at, at + CHUNK);
      const blocks: Float32Array[][] = [];
      for (const part of m.parts) {
        const size = part.base.inputSize;
        const sources = chunk.map((p) => ({ key: p.key, pixels: async () => (await decodeForModel(fs.readFileSync(p.file), size)).data }));
        const { features } = await cachedRows(sources, part.names, cache, async () => part.forward);
        blocks.push(...features);
      }
      chunk.forEach((p, i) => m.features.set(p.key, concatRows(blocks.map((b) => b[i]!))));
      onProgress(Math.min(at + CHUNK, missing.length), missing.length);
    }
  }
  const featureMs = performance.now() - started;
  const t = performance.now();
  if (!m.space || all.some((p) => !m.space!.keys.has(p.key))) {
    // Every picture seen so far (a picture labeled or removed since keeps its row: the matrix only grows).
    const ordered = [...new Set([...(m.space?.keys.keys() ?? []), ...all.map((p) => p.key)])];
    m.space = {
      keys: new Map(ordered.map((k, i) => [k, i])),
      model: new SuggestSpace(
        ordered.map((k) => m.features.get(k)!),
        m.space?.model,
      ),
    };
  }
  const { keys, model } = m.space;
  const fit = model.fit(
    msg.labeled.map((p) => keys.get(p.key)!),
    msg.labeled.map((p) => p.label),
    msg.unlabeled.map((p) => keys.get(p.key)!),
    msg.classes,
  );
  return {
    probabilities: fit.probabilities.map((p) => Array.from(p)),
    newFeatures: missing.length,
    featureMs,
    fitMs: performance.now() - t,
  };
}
