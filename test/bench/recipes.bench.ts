// npm run bench:recipes — does fine-tuning earn its place? Strategy 2 with the fine-tuning recipe
// (engine/recipe.ts: convex warm-up of the head, label smoothing, cosine decay, lower layers
// slower), without it (the settings before the recipe: Adam warm-up, plain cross-entropy, one
// constant rate), and strategy 3 (a convex head on the same frozen features), each as a whole
// `training.start` run from a fresh data folder (cold feature cache, as a user's first run), on
// the same split. Test accuracy and wall time per run; a table, then one JSON line.
//   RECIPE_DATASET=clipart-8       a dataset under ../shared/datasets
//   RECIPE_SEEDS=1                 split seeds
//   RECIPE_ROWS=head,partial/plain,partial/recipe,top/plain,top/recipe   rows to run (default all)
//   RECIPE_BASE=mobilenet_v2       the base
// Rows: "head" = strategy 3 at FEATURE; "partial/…" = strategy 2 at FEATURE, boundary the block
// below it; "top/…" = strategy 2 up to the base's own last layer with the top blocks above TOP_BOUNDARY trainable.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../electron/core/db/connection.js';
import { DataPaths } from '../../electron/core/paths.js';
import { resetSplits } from '../../electron/core/training/splits.js';
import { TrainingService } from '../../electron/core/training/service.js';
import type { TrainConfig } from '../../electron/core/engine/config.js';
import { testTrainingOptions } from '../fixtures/environment.js';
import { CLIPART } from '../fixtures/datasets.js';
import { importDataset } from './import-dataset.js';

const DATASETS_DIR = path.dirname(CLIPART);
const dataset = process.env.RECIPE_DATASET ?? 'clipart-8';
const seeds = (process.env.RECIPE_SEEDS ?? '1').split(',').map(Number);
if (seeds.some((s) => !Number.isInteger(s) || s < 0)) throw new Error('RECIPE_SEEDS must be whole numbers, e.g. 1,2,3');
const baseId = process.env.RECIPE_BASE ?? 'mobilenet_v2';
// MobileNetV2's best probe point on clipart-8 (DESIGN.md), and a boundary with the four top blocks above it.
const FEATURE = process.env.RECIPE_FEATURE ?? 'block_13_expand_relu';
const TOP_BOUNDARY = process.env.RECIPE_TOP_BOUNDARY ?? 'block_12_add';

/** The settings before the recipe: Adam warm-up of the head, plain cross-entropy, one constant rate. */
const PLAIN: Partial<TrainConfig> = { headFit: 'adam', labelSmoothing: 0, lrSchedule: 'constant', lowestLayerLr: 1 };
const ROWS: Record<string, { strategy: TrainConfig['strategy']; overrides: Partial<TrainConfig> }> = {
  head: { strategy: 'head', overrides: { featureLayer: FEATURE } },
  'partial/plain': { strategy: 'partial', overrides: { featureLayer: FEATURE, ...PLAIN } },
  'partial/recipe': { strategy: 'partial', overrides: { featureLayer: FEATURE } },
  'top/plain': { strategy: 'partial', overrides: { featureLayer: 'out_relu', boundary: TOP_BOUNDARY, ...PLAIN } },
  'top/recipe': { strategy: 'partial', overrides: { featureLayer: 'out_relu', boundary: TOP_BOUNDARY } },
};
const rowNames = (process.env.RECIPE_ROWS ?? Object.keys(ROWS).join(',')).split(',').filter(Boolean);
for (const r of rowNames) if (!ROWS[r]) throw new Error(`No row "${r}"; rows: ${Object.keys(ROWS).join(', ')}`);
const dir = path.join(DATASETS_DIR, dataset);
if (!fs.existsSync(dir)) throw new Error(`No dataset ${dir}`);

interface Row {
  row: string;
  seed: number;
  testAccuracy: number | null;
  valAccuracy: number | null;
  ms: number;
  epochs: { head: number; finetune: number };
  boundary: string | null;
  featureLayer: string | null;
}

const results: Row[] = [];
for (const seed of seeds) {
  for (const row of rowNames) {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), `bench-recipes-${seed}-`));
    const paths = new DataPaths(root);
    const db = openDatabase(paths.database);
    try {
      const projectId = importDataset(db, paths, dir);
      resetSplits(db, projectId, { seed });
      const service = new TrainingService(db, paths, testTrainingOptions(root));
      const { strategy, overrides } = ROWS[row]!;
      const started = performance.now();
      let run;
      try {
        run = await (await service.start(projectId, { strategy, baseId, overrides })).done;
      } finally {
        service.close();
      }
      const ms = performance.now() - started;
      if (run.status !== 'done') throw new Error(`${row} seed ${seed}: run ${run.status}: ${run.error}`);
      const r: Row = {
        row,
        seed,
        testAccuracy: run.metrics?.testAccuracy ?? null,
        valAccuracy: run.metrics?.valAccuracy ?? null,
        ms: Math.round(ms),
        epochs: {
          head: run.epochs.filter((e) => e.phase === 'head').length,
          finetune: run.epochs.filter((e) => e.phase === 'finetune').length,
        },
        boundary: (run.config.boundary as string | null | undefined) ?? null,
        featureLayer: (run.config.featureLayer as string | null | undefined) ?? null,
      };
      results.push(r);
      // Printed as each run ends: a benchmark cut short still has its numbers.
      console.log(
        `${dataset} split seed ${seed} ${row}: test ${r.testAccuracy?.toFixed(3)} (validation ${r.valAccuracy?.toFixed(3)}) in ${(ms / 1000).toFixed(1)} s, ` +
          `${r.epochs.head} head + ${r.epochs.finetune} fine-tuning epochs, ${r.featureLayer}${r.boundary ? ` above ${r.boundary}` : ''}, load ${os.loadavg()[0]!.toFixed(1)}`,
      );
      // Each fine-tuning epoch's validation: whether it beat the warm-up it started from.
      const tuned = run.epochs.filter((e) => e.phase === 'finetune');
      if (tuned.length)
        console.log(
          `  fine-tuning validation loss/accuracy: ${tuned.map((e) => `${e.valLoss?.toFixed(3)}/${e.valAcc?.toFixed(3)}`).join(' ')}`,
        );
    } finally {
      db.close();
      fs.rmSync(root, { recursive: true, force: true });
    }
  }
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
console.log(`\n${dataset}, ${baseId}, split seeds ${seeds.join(',')}`);
console.log('| row | test accuracy (mean) | per seed | time per run (mean) |');
console.log('|---|---|---|---|');
const summary: Record<string, { testAccuracy: number; seconds: number }> = {};
for (const row of rowNames) {
  const rs = results.filter((r) => r.row === row);
  if (!rs.length) continue;
  const acc = mean(rs.map((r) => r.testAccuracy ?? 0));
  const s = mean(rs.map((r) => r.ms)) / 1000;
  summary[row] = { testAccuracy: Math.round(acc * 1000) / 1000, seconds: Math.round(s * 10) / 10 };
  console.log(`| ${row} | ${acc.toFixed(3)} | ${rs.map((r) => r.testAccuracy?.toFixed(3)).join(' ')} | ${s.toFixed(1)} s |`);
}
console.log(JSON.stringify({ bench: 'recipes', dataset, base: baseId, seeds, summary, runs: results }));
