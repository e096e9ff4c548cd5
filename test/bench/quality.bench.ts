// npm run bench:quality — the model a new user gets, measured as they would get it: for each
// dataset and split seed, a fresh data folder, the whole `train --strategy auto` run with no base
// named (the wizard's default: probes, choice of base and layer, training, test metrics) timed end
// to end from a cold feature cache, with the candidate the wizard chose. Then candidates compared
// on cached features of both built-in bases: ridge at every probe point (λ = feature count, the
// middle of the probe's grid), the convex head (linear-head.ts) at each base's probe pick, and the
// convex head on both picks concatenated. Every fit uses train + validation only; test scores.
//   QUALITY_DATASETS=clipart-8,clipart-b   datasets under ../shared/datasets (default: both)
//   QUALITY_SEEDS=1,2,3,4,5                split seeds (default: 1–5)
// Prints a table per dataset and, last, one JSON line.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../electron/core/db/connection.js';
import { DataPaths } from '../../electron/core/paths.js';
import { resetSplits } from '../../electron/core/training/splits.js';
import { TrainingService } from '../../electron/core/training/service.js';
import { loadBaseFolder } from '../../electron/core/engine/base.js';
import { FeatureCache } from '../../electron/core/engine/feature-cache.js';
import { cacheKey } from '../../electron/core/engine/frozen.js';
import { NO_AUGMENTATION } from '../../electron/core/engine/augment.js';
import { findTransitionPoint, pooledCacheName, pooledFeatures } from '../../electron/core/engine/transition.js';
import { featureCandidates, type ProbedBase } from '../../electron/core/engine/feature-choice.js';
import { trunksOf } from '../../electron/core/engine/fused.js';
import { decodeForModel } from '../../electron/core/import/preprocess.js';
import { testTrainingOptions } from '../fixtures/environment.js';
import * as tf from '@tensorflow/tfjs';
import { selectEngine } from '../../electron/core/engine/backend.js';
import { fitHead } from '../../electron/core/engine/linear-head.js';
import { classWeightsFor } from '../../electron/core/engine/loop.js';
import { CLIPART } from '../fixtures/datasets.js';
import { mlpTestAccuracy } from './mlp-head.js';
import { concatRows } from '../../electron/core/engine/rows.js';
import { importDataset } from './import-dataset.js';

const DATASETS_DIR = path.dirname(CLIPART);
const datasets = (process.env.QUALITY_DATASETS ?? 'clipart-8,clipart-b').split(',').filter(Boolean);
const seeds = (process.env.QUALITY_SEEDS ?? '1,2,3,4,5').split(',').map(Number);
if (seeds.some((s) => !Number.isInteger(s) || s < 0)) throw new Error('QUALITY_SEEDS must be whole numbers, e.g. 1,2,3');
const BASE_IDS = ['mobilenet_v2', 'inception_v3'];
// The candidates below build layers models in this process: its tfjs backend must be ready first.
// On the engine the app trains heads on (wasm here): the MLP's fits take minutes on tfjs's plain-JS backend.
await selectEngine();
await tf.ready();
const candidateMs: Record<string, number> = {};

/** A cached pooled feature; `layer` may carry the maximum's suffix (`<layer>#max`, transition.ts). */
function featureOf(cache: FeatureCache, baseId: string, layer: string, s: { key: string }): Float32Array {
  const item = { source: { key: s.key, pixels: async () => new Uint8Array() }, variant: 0 };
  const hit = cache.get(cacheKey(`${baseId}/${layer}`, true, item, NO_AUGMENTATION), false);
  if (!hit) throw new Error(`No cached feature for ${baseId}/${layer}`);
  return hit;
}

/** Ridge regression on one-hot targets (standardised on the fitting rows), scored on `test`. */
function ridgeTestAccuracy(fit: Float32Array[], fitLabels: number[], test: Float32Array[], testLabels: number[], lambda: number): number {
  const d = fit[0]!.length;
  const n = fit.length;
  const classes = Math.max(...fitLabels, ...testLabels) + 1;
  const mean = new Float64Array(d);
  const inv = new Float64Array(d);
  for (const r of fit) for (let k = 0; k < d; k++) mean[k]! += r[k]! / n;
  for (const r of fit) for (let k = 0; k < d; k++) inv[k]! += (r[k]! - mean[k]!) ** 2 / n;
  for (let k = 0; k < d; k++) inv[k] = 1 / Math.sqrt(inv[k]! + 1e-8);
  const z = (r: Float32Array) => Float64Array.from(r, (v, k) => (v - mean[k]!) * inv[k]!);
  const x = fit.map(z);
  // Dual form: α = (K + λI)⁻¹ Y, K = X Xᵀ (n ≪ d); predictions K(test, fit)·α.
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += x[i]![k]! * x[j]![k]!;
      a[i * n + j] = s + (i === j ? lambda : 0);
      a[j * n + i] = a[i * n + j]!;
    }
  for (let j = 0; j < n; j++) {
    let s = a[j * n + j]!;
    for (let k = 0; k < j; k++) s -= a[j * n + k]! ** 2;
    const ljj = Math.sqrt(Math.max(s, 1e-12));
    a[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let t = a[i * n + j]!;
      for (let k = 0; k < j; k++) t -= a[i * n + k]! * a[j * n + k]!;
      a[i * n + j] = t / ljj;
    }
  }
  const y = new Float64Array(n * classes);
  for (let i = 0; i < n; i++) for (let c = 0; c < classes; c++) y[i * classes + c] = (fitLabels[i] === c ? 1 : 0) - 1 / classes;
  for (let c = 0; c < classes; c++) {
    for (let i = 0; i < n; i++) {
      let s = y[i * classes + c]!;
      for (let k = 0; k < i; k++) s -= a[i * n + k]! * y[k * classes + c]!;
      y[i * classes + c] = s / a[i * n + i]!;
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = y[i * classes + c]!;
      for (let k = i + 1; k < n; k++) s -= a[k * n + i]! * y[k * classes + c]!;
      y[i * classes + c] = s / a[i * n + i]!;
    }
  }
  let correct = 0;
  test.forEach((t, ti) => {
    const zt = z(t);
    const dots = x.map((r) => r.reduce((s, v, k) => s + v * zt[k]!, 0));
    let best = 0;
    let bestV = -Infinity;
    for (let c = 0; c < classes; c++) {
      let v = 0;
      for (let i = 0; i < n; i++) v += dots[i]! * y[i * classes + c]!;
      if (v > bestV) [best, bestV] = [c, v];
    }
    if (best === testLabels[ti]) correct++;
  });
  return correct / test.length;
}

interface SeedResult {
  seed: number;
  /** The wizard's feature candidate (engine/feature-choice.ts), as matched against this bench's own probes. */
  chosen: string | null;
  testAccuracy: number;
  ms: number;
  strategy: string;
  featureLayer: string;
  candidates: Record<string, number>;
}

const meanSd = (xs: number[]) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1));
  return { mean: m, sd };
};
const f3 = (x: number) => x.toFixed(3);

const results: Record<string, { runs: SeedResult[]; default: { mean: number; sd: number; msMean: number; msSd: number; msMax: number } }> =
  {};
for (const name of datasets)
  if (!fs.existsSync(path.join(DATASETS_DIR, name))) throw new Error(`No dataset ${path.join(DATASETS_DIR, name)}`);
const runsOf = new Map(datasets.map((name) => [name, [] as SeedResult[]]));
// Seed by seed, each dataset in turn: a benchmark cut short still has numbers for every dataset.
for (const seed of seeds) {
  for (const name of datasets) {
    const dir = path.join(DATASETS_DIR, name);
    const runs = runsOf.get(name)!;
    // A fresh data folder per run: a cold feature cache, as a new user's first run has.
    const root = fs.mkdtempSync(path.join(os.tmpdir(), `bench-quality-${name}-${seed}-`));
    const paths = new DataPaths(root);
    const db = openDatabase(paths.database);
    try {
      const projectId = importDataset(db, paths, dir);
      resetSplits(db, projectId, { seed });
      const service = new TrainingService(db, paths, testTrainingOptions(root));
      const started = performance.now();
      let run;
      try {
        // No base named: the wizard's default chooses it, as a new user's first run does.
        run = await (await service.start(projectId, { strategy: 'auto' })).done;
      } finally {
        service.close();
      }
      const ms = performance.now() - started;
      if (run.status !== 'done') throw new Error(`${name} seed ${seed}: run ${run.status}: ${run.error}`);
      // Printed now, before the candidates: a long benchmark cut short still says what the default scored.
      console.log(
        `${name} split seed ${seed}: default run ${run.metrics?.testAccuracy?.toFixed(3)} in ${(ms / 1000).toFixed(1)} s (${run.strategy}${run.config.fused?.length ? `, fused ${run.config.fused.map((p) => `${p.base}/${p.layer}`).join(' + ')}` : ` at ${run.baseId}/${run.config.featureLayer}`})`,
      );

      // Candidates on cached features, for each built-in base: the probe's pick (cross-validated on
      // training + validation only, as the wizard does) and a frozen pass adding the test images
      // under the same cache keys. Then, on those features: ridge at every probe point (λ fixed
      // at the middle of the probe's grid), the convex head at the base's pick, and the convex
      // head on both bases' picks concatenated (the fused candidate).
      const { samples } = service.dataset(projectId);
      const cache = new FeatureCache(path.join(root, 'cache', 'features'));
      const candidates: Record<string, number> = {};
      const fitRows = samples.filter((s) => s.split !== 'test');
      const testRows = samples.filter((s) => s.split === 'test');
      const picks: { base: string; layer: string }[] = [];
      const probed: (ProbedBase & { top: number })[] = [];
      for (const baseId of BASE_IDS) {
        const found = testTrainingOptions(root).models.base(baseId);
        const base = await loadBaseFolder(found.dir, found.spec);
        const withPixels = samples.map((s) => {
          let px: Promise<Uint8Array> | null = null;
          return { ...s, pixels: () => (px ??= decodeForModel(fs.readFileSync(s.file), base.inputSize).then((d) => d.data)) };
        });
        const honest = await findTransitionPoint(base, withPixels, cache, { seed: 1 });
        picks.push({ base: baseId, layer: honest.best });
        probed.push({
          base: baseId,
          inputSize: base.inputSize,
          scores: honest.scores,
          best: honest.best,
          bytesTo: honest.bytesTo ?? {},
          top: Math.max(...honest.scores.map((x) => x.score)),
        });
        // The test pictures' features under the same cache keys (no probe scores: those are not needed here).
        await pooledFeatures(
          base,
          baseId,
          withPixels.filter((s) => s.split === 'test'),
          base.probePoints.flatMap((layer) => (['avg', 'max'] as const).map((pool) => ({ layer, pool }))),
          cache,
        );
        for (const layer of base.probePoints) {
          const feat = (s: (typeof samples)[number]) => featureOf(cache, baseId, layer, s);
          const fit = fitRows.map(feat);
          candidates[`ridge @ ${baseId}/${layer}`] = ridgeTestAccuracy(
            fit,
            fitRows.map((s) => s.label),
            testRows.map(feat),
            testRows.map((s) => s.label),
            fit[0]!.length,
          );
        }
        base.model.dispose();
      }
      const classes = Math.max(...samples.map((s) => s.label)) + 1;
      let chosen: { name: string; feat: (s: (typeof samples)[number]) => Float32Array } | null = null;
      const mlpOn = async (name: string, feat: (s: (typeof samples)[number]) => Float32Array) => {
        const part = (split: string) => {
          const rows = samples.filter((s) => s.split === split);
          return { rows: rows.map(feat), labels: rows.map((s) => s.label) };
        };
        const t0 = performance.now();
        candidates[name] = await mlpTestAccuracy(part('train'), part('validation'), part('test'), classes);
        candidateMs[name] = (candidateMs[name] ?? 0) + performance.now() - t0;
      };
      const convex = (name: string, parts: { base: string; layer: string }[]) =>
        convexOn(name, (s: (typeof samples)[number]) => concatRows(parts.map((p) => featureOf(cache, p.base, p.layer, s))));
      const convexOn = (name: string, feat: (s: (typeof samples)[number]) => Float32Array) => {
        const labels = fitRows.map((s) => s.label);
        const t0 = performance.now();
        const { head } = fitHead(fitRows.map(feat), labels, classes, { seed: 1, classWeights: classWeightsFor(labels, classes) });
        const x = testRows.map(feat);
        const probs = tf.tidy(() => head.apply(tf.tensor2d(concatRows(x), [x.length, x[0]!.length]), false, 0).arraySync() as number[][]);
        head.dispose();
        candidates[name] = probs.filter((p, i) => p.indexOf(Math.max(...p)) === testRows[i]!.label).length / testRows.length;
        candidateMs[name] = (candidateMs[name] ?? 0) + performance.now() - t0;
      };
      for (const p of picks) convex(`convex head @ ${p.base} pick`, [p]);
      convex('convex head @ fused picks (both bases)', picks);
      // The wizard's feature candidates (engine/feature-choice.ts) from the honest probes, each the
      // convex head on its pooled averages (and maxima) at each base's own size, scored on test.
      const ladder = featureCandidates(probed.sort((a, b) => b.top - a.top));
      // Bench only: the best layer with its max as well, to see what the second pooling adds alone.
      ladder.splice(1, 0, { ...ladder[0]!, name: 'single+max' as 'single', pools: 'avg+max' });
      for (const c of ladder) {
        const pools = c.pools === 'avg' ? ['avg' as const] : (['avg', 'max'] as const);
        const feat = (s: (typeof samples)[number]) =>
          concatRows(
            trunksOf(c.parts).flatMap((t) =>
              t.layers.flatMap((layer) =>
                pools.map((pool) => featureOf(cache, t.base, pooledCacheName(t.base, layer, pool).slice(t.base.length + 1), s)),
              ),
            ),
          );
        convexOn(
          `candidate ${c.name}: ${c.parts.map((p) => `${p.base}/${p.layer}`).join(' + ')} (${c.pools}, ${Math.round(c.bytes / 1e6)} MB)`,
          feat,
        );
        const same = (a: { base: string; layer: string }[], b: { base: string; layer: string }[]) =>
          a.length === b.length && a.every((p, i) => p.base === b[i]!.base && p.layer === b[i]!.layer);
        const fused = run.config.fused ?? [];
        if (
          c.name !== ('single+max' as string) &&
          (fused.length
            ? c.pools === 'avg+max' && same(c.parts, fused)
            : c.name === 'single' && same(c.parts, [{ base: run.baseId, layer: run.config.featureLayer ?? '' }]))
        )
          chosen = { name: c.name, feat };
      }
      // The second head on the features the wizard chose (its own run is the convex head on them).
      if (chosen) await mlpOn("mlp @ wizard's features", chosen.feat);
      const r: SeedResult = {
        seed,
        chosen: chosen?.name ?? null,
        testAccuracy: run.metrics?.testAccuracy ?? NaN,
        ms,
        strategy: run.strategy,
        featureLayer: run.config.fused?.length
          ? `fused ${run.config.fused.map((p) => `${p.base}/${p.layer}`).join(' + ')}`
          : `${run.baseId}/${run.config.featureLayer ?? '(none)'}`,
        candidates,
      };
      runs.push(r);
      console.log(
        `${name} split seed ${seed}: default ${f3(r.testAccuracy)} (${r.strategy} at ${r.featureLayer}, candidate ${r.chosen ?? '?'}, ${(ms / 1000).toFixed(1)} s, load ${os.loadavg()[0]!.toFixed(1)}); candidates: ${Object.entries(
          candidates,
        )
          .map(([l, a]) => `${l} ${f3(a)}`)
          .join(', ')}`,
      );
    } finally {
      db.close();
      fs.rmSync(root, { recursive: true, force: true });
    }
  }
}
for (const [name, runs] of runsOf) {
  if (!runs.length) continue;
  const acc = meanSd(runs.map((r) => r.testAccuracy));
  const time = meanSd(runs.map((r) => r.ms));
  results[name] = { runs, default: { ...acc, msMean: time.mean, msSd: time.sd, msMax: Math.max(...runs.map((r) => r.ms)) } };
}

console.log(
  `\nload average at the end: ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(', ')}`,
);
console.log('dataset     candidate                          test accuracy (mean ± sd)   time/run   chosen');
for (const [name, { runs, default: d }] of Object.entries(results)) {
  const counts = new Map<string, number>();
  for (const r of runs) counts.set(r.chosen ?? '?', (counts.get(r.chosen ?? '?') ?? 0) + 1);
  const chosen = [...counts].map(([c, k]) => `${c} ×${k}`).join(', ');
  console.log(
    `${name.padEnd(11)} wizard default                     ${f3(d.mean)} ± ${f3(d.sd)}   ${(d.msMean / 1000).toFixed(1)} ± ${(d.msSd / 1000).toFixed(1)} s (max ${(d.msMax / 1000).toFixed(1)} s)   ${chosen}`,
  );
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.candidates)))];
  for (const name of names) {
    const c = meanSd(runs.map((r) => r.candidates[name]).filter((v): v is number => v !== undefined));
    const ms = candidateMs[name] ? `${(candidateMs[name] / 1000 / runs.length / Object.keys(results).length).toFixed(1)} s fit` : '';
    console.log(`${''.padEnd(11)} ${name.padEnd(46)} ${f3(c.mean)} ± ${f3(c.sd)}   ${ms}`);
  }
}
console.log(JSON.stringify({ bench: 'quality', bases: BASE_IDS, seeds, datasets: results }));
