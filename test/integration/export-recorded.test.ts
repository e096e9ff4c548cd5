// The export's parity check against what the run recorded: a fused run on two tiny bases trains
// through the engine's own code and records its test answers as the training service does
// (run_images); the export then judges both artefacts against that record instead of predicting
// every test picture with the app again — a record nudged within the threshold shows in the
// difference reported, one that disagrees sends the check back to the app's own predictions. The
// TF.js half runs in worker threads on tfjs-wasm, giving what the in-process check gives.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Studio } from '../../electron/core/studio.js';
import { makeFusedProject, FUSED_LABELS } from '../fixtures/fused-project.js';
import { TINY_SIZE } from '../fixtures/tiny-base.js';
import type { Base } from '../../electron/core/engine/base.js';
import { defaultConfig } from '../../electron/core/engine/config.js';
import { FeatureCache } from '../../electron/core/engine/feature-cache.js';
import { runTraining } from '../../electron/core/engine/run.js';
import { selectEngine } from '../../electron/core/engine/backend.js';
import { decodeForModel } from '../../electron/core/import/preprocess.js';
import { createRun, finishRun, markRunning } from '../../electron/core/training/runs.js';
import { recordRunImages, saveRunEvaluation } from '../../electron/core/eval/store.js';
import { exportRun } from '../../electron/core/export/bundle.js';
import { recordedPredictions } from '../../electron/core/export/app-predict.js';
import { RECORDED_TOLERANCE } from '../../electron/core/export/parity-run.js';
import { tfjsInWorkers, TfjsWorkerUnavailable } from '../../electron/core/export/tfjs-workers.js';
import { modelContents } from '../../electron/core/export/model-contents.js';

let dir: string;
let studio: Studio;
let runId: number;
let bases: Map<string, Base>;
let testImages: { imageId: number; sha256: string; file: string }[];
const labels = FUSED_LABELS;
let n = 0;

/** A bundle (every part) of the run. */
const exportIt = () => exportRun({ ...studio.environment, db: studio.db }, { runId, outDir: path.join(dir, `out-${++n}`) });

/** Rewrites one recorded answer (the run's test picture `k`). */
function setRecorded(k: number, probs: number[]): void {
  studio.db
    .prepare('UPDATE run_images SET probabilities = ? WHERE run_id = ? AND image_id = ?')
    .run(JSON.stringify(probs), runId, testImages[k]!.imageId);
}
const recordedOf = (k: number) =>
  JSON.parse(
    (
      studio.db.prepare('SELECT probabilities FROM run_images WHERE run_id = ? AND image_id = ?').get(runId, testImages[k]!.imageId) as {
        probabilities: string;
      }
    ).probabilities,
  ) as number[];

beforeAll(async () => {
  const engine = await selectEngine();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'export-recorded-'));
  const made = await makeFusedProject(dir, 'recorded', 24);
  ({ studio, bases } = made);
  const { projectId, tiny, names, images, samples } = made;
  testImages = images
    .filter((i) => i.split === 'test')
    .map((i) => ({ imageId: i.id, sha256: i.sha256, file: studio.paths.stored(projectId, i.sha256, i.format) }));
  const fused = [
    { base: 'tiny', layer: 'b3_out' },
    { base: 'tiny_small', layer: 's_b3_out' },
  ];
  const config = defaultConfig('head', { fused });
  runId = createRun(studio.db, projectId, 'tiny', config);
  markRunning(studio.db, runId, 'portable-wasm');
  // As the training service does: what the run uses when it starts, what it said when it finishes.
  recordRunImages(
    studio.db,
    runId,
    images.map((img) => ({ imageId: img.id, label: names.get(img.labelId)!, split: img.split })),
    [],
  );
  const out = await runTraining({
    base: tiny,
    bases,
    samples,
    labels,
    config,
    cache: new FeatureCache(path.join(dir, 'cache')),
    engine,
    outDir: path.join(studio.paths.project(projectId), 'runs', String(runId), 'model'),
  });
  saveRunEvaluation(
    studio.db,
    runId,
    labels,
    out.evaluation,
    images.map((i) => i.id),
    [],
  );
  finishRun(studio.db, runId, 'done', { modelFolder: out.modelDir, metrics: out.metrics, config });
}, 60_000);

afterAll(() => {
  studio?.close();
  for (const b of bases?.values() ?? []) b.model.dispose();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('the parity check against the run’s record', () => {
  it('judges both artefacts against the answers the run recorded, within the threshold less the record’s rounding', async () => {
    expect(recordedPredictions(studio.db, runId, testImages, labels.length)).toHaveLength(testImages.length);
    const r = await exportIt();
    expect(r.row.status, r.row.error ?? '').toBe('done');
    expect(r.reference).toBe('recorded');
    expect(r.parity!.artefacts.map((a) => a.artefact).sort()).toEqual(['onnx', 'tfjs']);
    expect(r.parity!.maxAbsDiff).toBeLessThanOrEqual(RECORDED_TOLERANCE);
    expect(r.parity!.agreement).toBe(1);
    expect(r.tfjsBackend).toMatch(/^wasm ×\d$/);
  }, 30_000);

  it('compares with the record itself: a record nudged within the threshold shows in the difference reported', async () => {
    const original = recordedOf(0);
    const nudged = original.map((p, c) => Math.round((p + (c === 0 ? 6e-5 : -6e-5)) * 1e5) / 1e5);
    setRecorded(0, nudged);
    try {
      const r = await exportIt();
      expect(r.row.status, r.row.error ?? '').toBe('done');
      expect(r.reference).toBe('recorded');
      expect(r.parity!.maxAbsDiff).toBeGreaterThan(5e-5);
      expect(r.parity!.maxAbsDiff).toBeLessThanOrEqual(RECORDED_TOLERANCE);
    } finally {
      setRecorded(0, original);
    }
  }, 30_000);

  it('a record the artefacts disagree with sends the check to the app’s own predictions, judged with the usual threshold', async () => {
    const original = recordedOf(1);
    setRecorded(1, [...original].reverse());
    try {
      const r = await exportIt();
      expect(r.row.status, r.row.error ?? '').toBe('done');
      expect(r.reference).toBe('app');
      expect(r.parity!.maxAbsDiff).toBeLessThanOrEqual(1e-4);
      expect(r.timings!.some((t) => /predicting with the app/.test(t.phase))).toBe(true);
    } finally {
      setRecorded(1, original);
    }
  }, 30_000);

  it('without a record for every test picture, the app predicts them as before', () => {
    expect(recordedPredictions(studio.db, runId, [...testImages, { sha256: 'f'.repeat(64) }], labels.length)).toBeNull();
    expect(recordedPredictions(studio.db, runId, testImages, labels.length + 1)).toBeNull();
  });
});

describe('the TF.js check in worker threads', () => {
  it('stops at once on abort, and says when it cannot run (the export then checks in this process)', async () => {
    const files = testImages.map((t) => t.file);
    const pixels = (i: number) => decodeForModel(fs.readFileSync(files[i]!), TINY_SIZE).then((d) => d.data);
    const bundle = path.join(dir, `out-${n}`);
    const stop = new AbortController();
    let seen = 0;
    const aborted = tfjsInWorkers({
      dir: path.join(bundle, 'tfjs'),
      size: TINY_SIZE,
      count: files.length,
      pixels,
      batchSize: 1,
      workers: 1,
      signal: stop.signal,
      onImages: (k) => {
        seen = k;
        stop.abort(new Error('stop now'));
      },
    });
    await expect(aborted).rejects.toThrow('stop now');
    expect(seen).toBe(1);
    await expect(
      tfjsInWorkers({ dir: path.join(dir, 'no-such-model'), size: TINY_SIZE, count: 1, pixels, workers: 1 }),
    ).rejects.toBeInstanceOf(TfjsWorkerUnavailable);
  }, 20_000);
});

describe('what the model carries (the Export view)', () => {
  const weightBytes = (folder: string) =>
    fs
      .readdirSync(folder)
      .filter((f) => f.endsWith('.bin'))
      .reduce((n, f) => n + fs.statSync(path.join(folder, f)).size, 0);

  it('names each trunk with its own weights, the smaller one with its in-graph resize, and the classifier apart', () => {
    const models = { base: (id: string) => ({ dir: path.join(dir, id) }), describe: (id: string) => ({ name: `the ${id} network` }) };
    const c = modelContents(studio.db, models, runId);
    expect(c.trunks.map((t) => [t.baseId, t.name])).toEqual([
      ['tiny', 'the tiny network'],
      ['tiny_small', 'the tiny_small network'],
    ]);
    expect(c.trunks[0]!.bytes).toBe(weightBytes(path.join(dir, 'tiny')));
    // Its picture resized 32 → 24 px by two fixed matrices (fused.ts).
    expect(c.trunks[1]!.bytes).toBe(weightBytes(path.join(dir, 'tiny_small')) + 2 * TINY_SIZE * 24 * 4);
    // 2 trunks × 16 channels × (average, max) standardised, then 2 labels.
    const width = 2 * 16 * 2;
    expect(c.classifierBytes).toBe((4 * width + width * 2 + 2) * 4);
    const run = studio.db.prepare('SELECT model_folder AS dir FROM runs WHERE id = ?').get(runId) as { dir: string };
    expect(c.totalBytes).toBe(weightBytes(run.dir));
  });
});
