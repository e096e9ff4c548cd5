// npm run bench:label-errors — how well the doubted-label list finds wrong labels. clipart-8 with
// 5% of its labels flipped to another label at random, per seed; the run a new user gets (the
// wizard's default with no base named: probes, feature choice, strategy-3 run) in the real engine
// process, so its out-of-fold refits are the ones users get; then recall within the first
// 2 × (number of flips) entries of `suspectedLabelErrors`. Goal ≥ 0.8. One data folder for all
// seeds, so only the first seed pays for the frozen passes (the features are cached).
//   LABEL_ERRORS_SEEDS=1,2,3                flip (and split) seeds (default 1–3)
//   LABEL_ERRORS_FEATURES=wizard            wizard (default) | layer (MobileNetV2 at LABEL_ERRORS_LAYER, one
//                                           layer's average: the run before fused features) |
//                                           fused:inception_v3/mixed7+mobilenet_v2/block_13_expand_relu
//   LABEL_ERRORS_LAYER=block_13_expand_relu the feature layer of `layer`
//   LABEL_ERRORS_RATE=0.05
//   LABEL_ERRORS_L2=x                       the head's L2 penalty (the run's and its refits')
//   CLIPART_DIR=../shared/datasets/clipart-b  another dataset (label per folder)
//   LABEL_ERRORS_DUMP=f.jsonl               also append each seed's recorded probabilities with the
//                                           true labels; `node --import tsx test/bench/label-errors-rules.bench.ts f.jsonl`
//                                           then compares ranking rules on them in seconds
// Prints a line per seed and, last, one JSON line.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { openDatabase } from '../../electron/core/db/connection.js';
import { DataPaths } from '../../electron/core/paths.js';
import { createProject } from '../../electron/core/library/projects.js';
import { ensureLabel } from '../../electron/core/library/labels.js';
import { insertImage } from '../../electron/core/library/images.js';
import { resetSplits } from '../../electron/core/training/splits.js';
import { TrainingService } from '../../electron/core/training/service.js';
import { evalReport } from '../../electron/core/eval/report.js';
import { runImages } from '../../electron/core/eval/store.js';
import { rng, shuffled } from '../../electron/core/engine/seeded.js';
import { testTrainingOptions } from '../fixtures/environment.js';
import { CLIPART } from '../fixtures/datasets.js';

const seeds = (process.env.LABEL_ERRORS_SEEDS ?? '1,2,3').split(',').map(Number);
const layer = process.env.LABEL_ERRORS_LAYER ?? 'block_13_expand_relu';
const features = process.env.LABEL_ERRORS_FEATURES ?? 'wizard';
const fused = features.startsWith('fused:')
  ? features
      .slice('fused:'.length)
      .split('+')
      .map((p) => ({ base: p.split('/')[0]!, layer: p.split('/')[1]! }))
  : null;
if (!fused && features !== 'wizard' && features !== 'layer')
  throw new Error('LABEL_ERRORS_FEATURES: wizard, layer or fused:base/layer+base/layer');
const rate = Number(process.env.LABEL_ERRORS_RATE ?? 0.05);

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-label-errors-'));
const paths = new DataPaths(root);
const db = openDatabase(paths.database);
const projectId = createProject(db, 'clipart-8').id;
const truth = new Map<number, number>();
const labelIds: number[] = [];
for (const label of fs.readdirSync(CLIPART).sort()) {
  if (!fs.statSync(path.join(CLIPART, label)).isDirectory()) continue;
  const labelId = ensureLabel(db, projectId, label);
  labelIds.push(labelId);
  for (const f of fs.readdirSync(path.join(CLIPART, label)).sort()) {
    const bytes = fs.readFileSync(path.join(CLIPART, label, f));
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const stored = paths.stored(projectId, sha256, 'jpg');
    fs.mkdirSync(path.dirname(stored), { recursive: true });
    fs.writeFileSync(stored, bytes);
    const { id } = insertImage(db, {
      projectId,
      sha256,
      bytes: bytes.length,
      width: 1,
      height: 1,
      format: 'jpg',
      originalName: f,
      labelId,
    });
    truth.set(id, labelId);
  }
}

const service = new TrainingService(db, paths, testTrainingOptions(root));
const setLabel = db.prepare('UPDATE images SET label_id = ? WHERE id = ?');
const results: {
  seed: number;
  flips: number;
  found: number;
  recall: number;
  listed: number;
  testAccuracy: number | null;
  runMs: number;
}[] = [];
try {
  for (const seed of seeds) {
    for (const [id, label] of truth) setLabel.run(label, id);
    resetSplits(db, projectId, { seed });
    const random = rng(seed * 7919);
    const flipped = shuffled([...truth.keys()], random).slice(0, Math.round(rate * truth.size));
    for (const id of flipped) {
      const others = labelIds.filter((l) => l !== truth.get(id));
      setLabel.run(others[Math.floor(random() * others.length)]!, id);
    }
    const started = Date.now();
    const l2 = process.env.LABEL_ERRORS_L2 ? { l2: Number(process.env.LABEL_ERRORS_L2) } : {};
    const run = await (
      await service.start(
        projectId,
        features === 'wizard'
          ? { strategy: 'auto', overrides: { seed, ...l2 } }
          : fused
            ? { strategy: 'head', baseId: fused[0]!.base, overrides: { fused, seed, ...l2 } }
            : { strategy: 'head', baseId: 'mobilenet_v2', overrides: { featureLayer: layer, seed, ...l2 } },
      )
    ).done;
    if (run.status !== 'done') throw new Error(`Run ${run.id} ${run.status}: ${run.error}`);
    const runMs = Date.now() - started;
    const report = evalReport(db, run.id);
    const list = report.suspectedLabelErrors;
    // LABEL_ERRORS_DUMP=file: the per-picture probabilities with the true labels, to study rankings offline.
    if (process.env.LABEL_ERRORS_DUMP) {
      const labelNames = new Map(
        (db.prepare('SELECT id, name FROM labels').all() as { id: number; name: string }[]).map((l) => [l.id, l.name]),
      );
      const rows = runImages(db, run.id).map((r) => ({
        id: r.imageId,
        given: r.label,
        truth: labelNames.get(truth.get(r.imageId)!),
        split: r.split,
        probs: r.probabilities,
      }));
      fs.appendFileSync(process.env.LABEL_ERRORS_DUMP, JSON.stringify({ seed, labels: report.labels, rows }) + '\n');
    }
    const top = new Set(list.slice(0, 2 * flipped.length).map((s) => s.imageId));
    const found = flipped.filter((id) => top.has(id)).length;
    const r = {
      seed,
      features: run.config.fused?.length
        ? run.config.fused.map((p) => `${p.base}/${p.layer}`).join(' + ')
        : `${run.baseId}/${run.config.featureLayer}`,
      flips: flipped.length,
      found,
      recall: found / flipped.length,
      listed: list.length,
      testAccuracy: run.metrics?.testAccuracy ?? null,
      runMs,
    };
    results.push(r);
    console.log(
      `seed ${seed} (${r.features}): ${found}/${flipped.length} flips in the first ${2 * flipped.length} (recall ${r.recall.toFixed(2)}); ${list.length} listed; test accuracy ${r.testAccuracy?.toFixed(3)}; run ${(runMs / 1000).toFixed(1)} s`,
    );
  }
} finally {
  service.close();
  db.close();
  fs.rmSync(root, { recursive: true, force: true });
}
const mean = results.reduce((s, r) => s + r.recall, 0) / results.length;
console.log(`mean recall@2×flips ${mean.toFixed(3)} (goal ≥ 0.8)`);
console.log(JSON.stringify({ bench: 'label-errors', dataset: path.basename(CLIPART), features, rate, meanRecall: mean, results }));
