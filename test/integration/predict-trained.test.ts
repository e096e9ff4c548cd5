// Prediction with a run the real training engine made: strategy 3 on the built-in MobileNetV2
// (engine process, a few epochs), then "Try it" and batch prediction through ONNX Runtime.
// The run's own test accuracy (from the training pipeline) must be what our predictions of the
// test images give: one input contract, one model, two code paths.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildBases } from '../../build/bases/build-bases.js';
import { openDatabase, type Db } from '../../electron/core/db/connection.js';
import { DataPaths } from '../../electron/core/paths.js';
import { EventBus } from '../../electron/core/events.js';
import { JobRegistry } from '../../electron/core/jobs.js';
import { TrainingService } from '../../electron/core/training/service.js';
import { testTrainingOptions } from '../fixtures/environment.js';
import { loadModelFolder } from '../../electron/core/engine/model-folder.js';
import { decodeForModel } from '../../electron/core/import/preprocess.js';
import { createPredictCtx, closePredictCtx, type PredictCtx } from '../../electron/core/predict/context.js';
import { classifyImage } from '../../electron/core/predict/classify.js';
import { predictProject } from '../../electron/core/predict/predict-project.js';
import { tfjsPredict, compareOutputs } from '../../electron/core/predict/onnx-model.js';
import { makeTrainingProject } from '../fixtures/training-project.js';
import { LABELS, clipartFile } from './predict-fixture.js';

let dir: string;
let db: Db;
let paths: DataPaths;
let ctx: PredictCtx;
let projectId: number;

beforeAll(async () => {
  await tf.setBackend('cpu');
  await buildBases();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'predict-trained-'));
  paths = new DataPaths(dir);
  db = openDatabase(paths.database);
  ctx = createPredictCtx({ db, paths, jobs: new JobRegistry(new EventBus()), emit: () => {} }, { providers: ['cpu'] });
  projectId = makeTrainingProject(db, paths, Object.fromEntries(LABELS.map((l) => [l, 10])));
}, 120_000);

afterAll(async () => {
  await closePredictCtx(ctx);
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('a run trained by the engine', () => {
  it('trains strategy 3, then predicts through ONNX Runtime in agreement with tfjs and with the run’s own test metrics', async () => {
    const service = new TrainingService(db, paths, testTrainingOptions(dir));
    let run;
    try {
      const started = await service.start(projectId, {
        strategy: 'head',
        baseId: 'mobilenet_v2',
        overrides: { epochs: 8, augmentedVariants: 0, featureLayer: 'block_13_expand_relu' },
      });
      run = await started.done;
    } finally {
      service.close();
    }
    expect(run.status, run.error ?? '').toBe('done');
    const runId = run.id;

    const files = [clipartFile('bird', 30), clipartFile('hardware', 30)];
    const results = await Promise.all(files.map((f) => classifyImage(ctx, runId, fs.readFileSync(f))));
    expect(results.every((r) => r.runtime === 'onnx-cpu')).toBe(true);
    const pixels = await Promise.all(files.map(async (f) => (await decodeForModel(fs.readFileSync(f), 224)).data));
    const reference = tfjsPredict(await loadModelFolder(run.modelFolder!), pixels, 224);
    const got = Float32Array.from(results.flatMap((r) => LABELS.map((l) => r.probabilities[l]!)));
    const { maxDiff, tolerance } = compareOutputs(got, reference);
    console.log(`trained run ${runId}: max|onnx − tfjs-cpu| = ${maxDiff.toExponential(2)}; test accuracy ${run.metrics?.testAccuracy}`);
    expect(maxDiff).toBeLessThanOrEqual(tolerance);

    const report = await predictProject(ctx, runId);
    expect(report).toMatchObject({ predicted: 80, failed: 0, cancelled: false, runtime: 'onnx-cpu' });
    const test = db
      .prepare(
        "SELECT p.label AS predicted, l.name AS truth FROM predictions p JOIN images i ON i.id = p.image_id JOIN labels l ON l.id = i.label_id WHERE p.run_id = ? AND i.split = 'test'",
      )
      .all(runId) as { predicted: string; truth: string }[];
    expect(test.length).toBe(run.metrics!.testCount);
    const correct = test.filter((r) => r.predicted === r.truth).length;
    // A near-tie may flip between the engine's tfjs head and the ONNX graph; more than one would be a real disagreement.
    expect(Math.abs(correct - run.metrics!.testAccuracy! * test.length)).toBeLessThanOrEqual(1);
    const all = db
      .prepare(
        'SELECT p.label AS predicted, l.name AS truth FROM predictions p JOIN images i ON i.id = p.image_id JOIN labels l ON l.id = i.label_id WHERE p.run_id = ?',
      )
      .all(runId) as { predicted: string; truth: string }[];
    // Mostly training images: far above chance (1/8) after training.
    expect(all.filter((r) => r.predicted === r.truth).length / all.length).toBeGreaterThan(0.4);
  }, 300_000);
});
