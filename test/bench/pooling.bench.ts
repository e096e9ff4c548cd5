// npm run bench:pooling — would other poolings of the frozen features help the wizard's default
// (strategy 3)? Offline, on the same features the app computes: one ONNX Runtime frozen pass per
// base (the engine's own converter and session) returns every probe point's whole map, of each
// picture and of its mirror image; from those maps this script derives, per probe point,
//   avg   global average (today's)          max   global maximum (today's fused candidates)
//   grid  2×2 spatial pyramid: the average of each quadrant (odd sizes: the middle row/column in both)
//   gem   generalised mean, p = 3, of the positive part (between avg and max)
// and "flip" variants: each pooled vector averaged over the picture and its mirror.
// Each variant then goes through the wizard's own choice, as the app makes it, per split seed:
// the probe (probe.ts) on training + validation ranks every base's probe points on the global
// average, the ladder of candidates (feature-choice.ts), scored by the probe's ridge on the probe's
// folds (as compare-features.ts), the one-standard-error rule, then the convex head
// (linear-head.ts) on training + validation, scored on test. Splits are the app's (resetSplits).
//   POOLING_DATASETS=clipart-8,clipart-b   datasets under ../shared/datasets (default: both)
//   POOLING_SEEDS=1,2,3,4,5                split seeds (default 1–5)
//   POOLING_BASES=mobilenet_v2,inception_v3 the bases the wizard may read (default: both built-ins)
//   POOLING_EVERY=1                       also fit and score every candidate at every pooling (slower)
//   POOLING_CACHE=dir                      keep the derived features there between runs (default: none)
// Prints a table per dataset and, last, one JSON line.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import * as tf from '@tensorflow/tfjs';
import { openDatabase } from '../../electron/core/db/connection.js';
import { DataPaths } from '../../electron/core/paths.js';
import { resetSplits } from '../../electron/core/training/splits.js';
import { runDataset } from '../../electron/core/training/run-dataset.js';
import { loadBaseFolder, type Base } from '../../electron/core/engine/base.js';
import { onnxFrozenForward } from '../../electron/core/engine/forward.js';
import { below } from '../../electron/core/engine/graph.js';
import { probeAccuracy, probeFolds, gramOf, ridgeScoreFromGram, standardize } from '../../electron/core/engine/probe.js';
import { chooseFeatures, featureCandidates, type ProbedBase, type ScoredCandidate } from '../../electron/core/engine/feature-choice.js';
import { trunksOf } from '../../electron/core/engine/fused.js';
import { fitHead } from '../../electron/core/engine/linear-head.js';
import { classWeightsFor } from '../../electron/core/engine/loop.js';
import { subSeed } from '../../electron/core/engine/seeded.js';
import { selectEngine } from '../../electron/core/engine/backend.js';
import { concatRows } from '../../electron/core/engine/rows.js';
import { decodeForModel } from '../../electron/core/import/preprocess.js';
import { testTrainingOptions } from '../fixtures/environment.js';
import { CLIPART } from '../fixtures/datasets.js';
import { importDataset } from './import-dataset.js';

const DATASETS_DIR = path.dirname(CLIPART);
const datasets = (process.env.POOLING_DATASETS ?? 'clipart-8,clipart-b').split(',').filter(Boolean);
const seeds = (process.env.POOLING_SEEDS ?? '1,2,3,4,5').split(',').map(Number);
const cacheDir = process.env.POOLING_CACHE ?? null;
const every = process.env.POOLING_EVERY === '1';
const BASE_IDS = (process.env.POOLING_BASES ?? 'mobilenet_v2,inception_v3').split(',').filter(Boolean);
await selectEngine();
await tf.ready();

type Pool = 'avg' | 'max' | 'grid' | 'gem';
const POOLS: Pool[] = ['avg', 'max', 'grid', 'gem'];
type View = 'orig' | 'flip';

/** Every derived pooling of one map [h, w, c] (NHWC, one picture). */
function poolings(map: Float32Array, h: number, w: number, c: number): Record<Pool, Float32Array> {
  const avg = new Float32Array(c);
  const max = new Float32Array(c).fill(-Infinity);
  const gem = new Float32Array(c);
  const grid = new Float32Array(4 * c);
  // Quadrant bounds: [0, ceil(n/2)) and [floor(n/2), n) — equal halves, the middle line in both when n is odd.
  const lo = (n: number) => [0, Math.ceil(n / 2)] as const;
  const hi = (n: number) => [Math.floor(n / 2), n] as const;
  const rows = [lo(h), hi(h)];
  const cols = [lo(w), hi(w)];
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const at = (y * w + x) * c;
      for (let k = 0; k < c; k++) {
        const v = map[at + k]!;
        avg[k]! += v;
        if (v > max[k]!) max[k] = v;
        if (v > 0) gem[k]! += v * v * v;
      }
      for (let qy = 0; qy < 2; qy++) {
        if (y < rows[qy]![0] || y >= rows[qy]![1]) continue;
        for (let qx = 0; qx < 2; qx++) {
          if (x < cols[qx]![0] || x >= cols[qx]![1]) continue;
          const o = (qy * 2 + qx) * c;
          for (let k = 0; k < c; k++) grid[o + k]! += map[at + k]!;
        }
      }
    }
  for (let k = 0; k < c; k++) {
    avg[k]! /= h * w;
    gem[k] = Math.cbrt(gem[k]! / (h * w));
  }
  for (let qy = 0; qy < 2; qy++)
    for (let qx = 0; qx < 2; qx++) {
      const n = (rows[qy]![1] - rows[qy]![0]) * (cols[qx]![1] - cols[qx]![0]);
      const o = (qy * 2 + qx) * c;
      for (let k = 0; k < c; k++) grid[o + k]! /= n;
    }
  return { avg, max, grid, gem };
}

function mirror(px: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(px.length);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const a = (y * size + x) * 3;
      const b = (y * size + (size - 1 - x)) * 3;
      out[a] = px[b]!;
      out[a + 1] = px[b + 1]!;
      out[a + 2] = px[b + 2]!;
    }
  return out;
}

/** features[`${layer}/${pool}/${view}`][sample]; the flip view is the mean of the picture's and its mirror's. */
type Features = Map<string, Float32Array[]>;

interface BaseFeatures {
  features: Features;
  /** ms per picture of one frozen pass (all probe points' maps), and of the mirror's. */
  passMs: number;
  probePoints: string[];
  bytesTo: Record<string, number>;
  layerNames: string[];
}

async function extract(base: Base, files: string[]): Promise<BaseFeatures> {
  const points = base.probePoints;
  const forward = await onnxFrozenForward(
    base,
    points.map((layer) => ({ layer, pool: false })),
  );
  const shapes = points.map((p) => base.model.getLayer(p).outputShape as number[]);
  const features: Features = new Map();
  for (const p of points) for (const pool of POOLS) for (const view of ['orig', 'flip'] as View[]) features.set(`${p}/${pool}/${view}`, []);
  let passMs = 0;
  const BATCH = 4;
  for (let b = 0; b < files.length; b += BATCH) {
    const pixels = await Promise.all(
      files.slice(b, b + BATCH).map(async (f) => (await decodeForModel(fs.readFileSync(f), base.inputSize)).data),
    );
    const t0 = performance.now();
    const orig = await forward.run(pixels);
    const flipped = await forward.run(pixels.map((px) => mirror(px, base.inputSize)));
    passMs += performance.now() - t0;
    points.forEach((p, k) => {
      const [, h, w, c] = shapes[k]!;
      pixels.forEach((_, i) => {
        const a = poolings(orig[k]![i]!, h!, w!, c!);
        const m = poolings(flipped[k]![i]!, h!, w!, c!);
        for (const pool of POOLS) {
          features.get(`${p}/${pool}/orig`)!.push(a[pool]);
          // The mirror's quadrants are mirrored too: left and right swap before averaging.
          const mm =
            pool === 'grid'
              ? Float32Array.from([
                  ...m.grid.subarray(c!, 2 * c!),
                  ...m.grid.subarray(0, c!),
                  ...m.grid.subarray(3 * c!),
                  ...m.grid.subarray(2 * c!, 3 * c!),
                ])
              : m[pool];
          features.get(`${p}/${pool}/flip`)!.push(Float32Array.from(a[pool], (v, j) => (v + mm[j]!) / 2));
        }
      });
    });
    if (b % 64 === 0) process.stderr.write(`  ${base.id}: ${b + pixels.length}/${files.length}\n`);
  }
  return {
    features,
    passMs: passMs / files.length / 2,
    probePoints: points,
    bytesTo: Object.fromEntries(points.map((p) => [p, below(base.model, p).countParams() * 4])),
    layerNames: base.model.layers.filter((l) => l.getClassName() !== 'InputLayer').map((l) => l.name),
  };
}

/** How a variant pools a candidate's probe points: today's pools, with some replaced or added. */
interface Variant {
  name: string;
  view: View;
  pools: (today: Pool[]) => Pool[];
}
const VARIANTS: Variant[] = [
  { name: 'today (avg | avg+max)', view: 'orig', pools: (t) => t },
  { name: '(a) + 2×2 grid', view: 'orig', pools: (t) => [...t, 'grid'] },
  // What fits the app's graphs as they are: `single` stays one layer's average (the base's own model).
  { name: '(a) grid, fused only', view: 'orig', pools: (t) => (t.length > 1 ? [...t, 'grid'] : t) },
  { name: '(b) flip-averaged', view: 'flip', pools: (t) => t },
  { name: '(a+b) grid, flip-averaged', view: 'flip', pools: (t) => [...t, 'grid'] },
  { name: '(c) gem for max', view: 'orig', pools: (t) => t.map((p) => (p === 'max' ? 'gem' : p)) },
];

const meanSd = (xs: number[]) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return { mean: m, sd: Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1)) };
};
const f3 = (x: number) => x.toFixed(3);

const out: Record<
  string,
  {
    passMs: Record<string, number>;
    variants: Record<string, { test: number[]; cv: number[]; chosen: string[] }>;
    every: Record<string, number[]>;
  }
> = {};
for (const name of datasets) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `bench-pooling-${name}-`));
  const paths = new DataPaths(root);
  const db = openDatabase(paths.database);
  try {
    const projectId = importDataset(db, paths, path.join(DATASETS_DIR, name));
    const files = runDataset(db, paths, projectId).samples.map((s) => s.file);
    const keys = runDataset(db, paths, projectId).samples.map((s) => s.key);
    const perBase = new Map<string, BaseFeatures>();
    for (const baseId of BASE_IDS) {
      const file = cacheDir ? path.join(cacheDir, `${name}-${baseId}.v8`) : null;
      if (file && fs.existsSync(file)) {
        perBase.set(baseId, v8.deserialize(fs.readFileSync(file)) as BaseFeatures);
        continue;
      }
      const found = testTrainingOptions(root).models.base(baseId);
      const base = await loadBaseFolder(found.dir, found.spec);
      const f = await extract(base, files);
      base.model.dispose();
      perBase.set(baseId, f);
      if (file) {
        fs.mkdirSync(cacheDir!, { recursive: true });
        fs.writeFileSync(file, v8.serialize(f));
      }
      console.log(`${name} ${baseId}: ${f.passMs.toFixed(1)} ms per picture per pass (load ${os.loadavg()[0]!.toFixed(1)})`);
    }
    const result: (typeof out)[string] = {
      passMs: Object.fromEntries([...perBase].map(([id, f]) => [id, f.passMs])),
      variants: Object.fromEntries(VARIANTS.map((v) => [v.name, { test: [], cv: [], chosen: [] }])),
      every: {},
    };
    out[name] = result;
    for (const seed of seeds) {
      resetSplits(db, projectId, { seed });
      const samples = runDataset(db, paths, projectId).samples;
      // Same order as `files` (content order): checked, since the features are indexed by it.
      if (samples.some((s, i) => s.key !== keys[i])) throw new Error('sample order changed');
      const fitIdx = samples.map((_, i) => i).filter((i) => samples[i]!.split !== 'test');
      const testIdx = samples.map((_, i) => i).filter((i) => samples[i]!.split === 'test');
      const labels = fitIdx.map((i) => samples[i]!.label);
      const classes = Math.max(...samples.map((s) => s.label)) + 1;
      const draws = probeFolds(labels, { seed: 1 });
      const probes = new Map<View, ProbedBase[]>();
      // Each part's Gram matrix once per split, whichever variants read it.
      const grams = new Map<string, { gram: Float64Array; width: number }>();
      for (const v of VARIANTS) {
        const row = (base: string, layer: string, pool: Pool, i: number) =>
          perBase.get(base)!.features.get(`${layer}/${pool}/${v.view}`)![i]!;
        // The wizard's probe: every probe point's global average, ridge on the probe's folds; bases ordered by their best.
        // The probe ranks layers on the picture's own global average for every variant (flip
        // included: a second probe per split would double this benchmark's time for a ranking
        // that barely moves); the candidates are then scored on the variant's own features.
        let probed = probes.get('orig');
        if (!probed) {
          probed = BASE_IDS.map((id) => {
            const f = perBase.get(id)!;
            const scores = f.probePoints.map((layer) => ({
              layer,
              score: probeAccuracy(
                fitIdx.map((i) => perBase.get(id)!.features.get(`${layer}/avg/orig`)![i]!),
                labels,
                { seed: 1, folds: 5 },
              ),
            }));
            const best = scores.reduce((a, b) => (b.score > a.score ? b : a)).layer;
            return { base: id, inputSize: 0, scores, best, bytesTo: f.bytesTo, layerNames: f.layerNames };
          }).sort((a, b) => Math.max(...b.scores.map((s) => s.score)) - Math.max(...a.scores.map((s) => s.score)));
          probes.set('orig', probed);
        }
        const candidates = featureCandidates(probed);
        const partsOf = (c: (typeof candidates)[number]) => {
          const pools = v.pools(c.pools === 'avg' ? ['avg'] : ['avg', 'max']);
          return trunksOf(c.parts).flatMap((t) => t.layers.flatMap((layer) => pools.map((pool) => ({ base: t.base, layer, pool }))));
        };
        const scored: ScoredCandidate[] = candidates.map((c) => {
          const n = labels.length;
          const gram = new Float64Array(n * n);
          let width = 0;
          for (const p of partsOf(c)) {
            const key = `${p.base}/${p.layer}/${p.pool}/${v.view}`;
            let g = grams.get(key);
            if (!g) {
              const rows = fitIdx.map((i) => row(p.base, p.layer, p.pool, i));
              g = { gram: gramOf(standardize(rows, rows[0]!.length), rows[0]!.length), width: rows[0]!.length };
              grams.set(key, g);
            }
            for (let i = 0; i < gram.length; i++) gram[i]! += g.gram[i]!;
            width += g.width;
          }
          const s = ridgeScoreFromGram(gram, labels, draws, width);
          return { ...c, accuracy: s.accuracy, correct: Array.from(s.correct), width };
        });
        const { chosen } = chooseFeatures(scored);
        const testAccuracy = (c: ScoredCandidate) => {
          const feat = (i: number) => concatRows(partsOf(c).map((p) => row(p.base, p.layer, p.pool, i)));
          const { head } = fitHead(fitIdx.map(feat), labels, classes, {
            seed: subSeed(1, 'head'),
            classWeights: classWeightsFor(labels, classes),
          });
          const x = testIdx.map(feat);
          const probs = tf.tidy(() => head.apply(tf.tensor2d(concatRows(x), [x.length, x[0]!.length]), false, 0).arraySync() as number[][]);
          head.dispose();
          return probs.filter((p, k) => p.indexOf(Math.max(...p)) === samples[testIdx[k]!]!.label).length / testIdx.length;
        };
        const acc = testAccuracy(chosen);
        // Every candidate at this pooling, chosen or not: the features compared without the choice's noise.
        if (every)
          for (const c of scored) {
            const a = c === chosen ? acc : testAccuracy(c);
            (result.every[`${v.name} @ ${c.name}`] ??= []).push(a);
            console.log(`${name} seed ${seed} ${v.name.padEnd(28)} candidate ${c.name.padEnd(6)} test ${f3(a)}  cv ${f3(c.accuracy)}`);
          }
        const r = result.variants[v.name]!;
        r.test.push(acc);
        r.cv.push(chosen.accuracy);
        r.chosen.push(`${chosen.name}(${chosen.width})`);
        console.log(
          `${name} seed ${seed} ${v.name.padEnd(28)} test ${f3(acc)}  cv ${f3(chosen.accuracy)}  ${chosen.name}: ${chosen.parts.map((p) => `${p.base}/${p.layer}`).join(' + ')} width ${chosen.width}`,
        );
      }
    }
  } finally {
    db.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

console.log(
  `\nload average at the end: ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(', ')}`,
);
for (const [name, r] of Object.entries(out)) {
  console.log(
    `\n${name} (split seeds ${seeds.join(',')}); frozen pass ${Object.entries(r.passMs)
      .map(([b, ms]) => `${b} ${ms.toFixed(1)} ms/picture`)
      .join(', ')}; flip doubles it`,
  );
  console.log('variant                        test accuracy (mean ± sd)   wizard cv (mean)   chosen');
  for (const [v, { test, cv, chosen }] of Object.entries(r.variants)) {
    const t = meanSd(test);
    const counts = new Map<string, number>();
    for (const c of chosen) counts.set(c.replace(/\(.*/, ''), (counts.get(c.replace(/\(.*/, '')) ?? 0) + 1);
    console.log(
      `${v.padEnd(30)} ${f3(t.mean)} ± ${f3(t.sd)}               ${f3(meanSd(cv).mean)}              ${[...counts].map(([c, k]) => `${c} ×${k}`).join(', ')}`,
    );
  }
  for (const [key, accs] of Object.entries(r.every)) {
    const t = meanSd(accs);
    console.log(`${key.padEnd(40)} ${f3(t.mean)} ± ${f3(t.sd)}`);
  }
}
console.log(JSON.stringify({ bench: 'pooling', seeds, datasets: out }));
