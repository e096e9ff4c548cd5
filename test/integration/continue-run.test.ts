// Keep going from a run: a new run starts from a finished run's network ("train again with my new
// labels"), and runs carry a person's name and notes. Real engine process, tiny base, real SQLite.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { openDatabase, type Db } from '../../electron/core/db/connection.js';
import { DataPaths } from '../../electron/core/paths.js';
import { TrainingService } from '../../electron/core/training/service.js';
import { trainingHandlers, toWireRun } from '../../electron/core/training/handlers.js';
import { getRun } from '../../electron/core/training/runs.js';
import { loadBaseFolder } from '../../electron/core/engine/base.js';
import { loadModelFolder } from '../../electron/core/engine/model-folder.js';
import { continueFrom } from '../../electron/core/engine/continue-from.js';
import { installTinyBase } from '../fixtures/tiny-base.js';
import { testTrainingOptions } from '../fixtures/environment.js';
import { makeTrainingProject } from '../fixtures/training-project.js';

let dir: string;
let db: Db;
let paths: DataPaths;
let service: TrainingService;
let projectId: number;
let baseDir: string;
let firstRun: number;

/** A layer's weights as plain numbers, for comparing networks. */
const weightsOf = (model: tf.LayersModel, layer: string) =>
  model
    .getLayer(layer)
    .getWeights()
    .map((w) => Array.from(w.dataSync()));

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'continue-run-'));
  paths = new DataPaths(dir);
  db = openDatabase(paths.database);
  await installTinyBase(testTrainingOptions(dir).models, path.join(dir, 'bases'));
  baseDir = path.join(dir, 'bases', 'tiny'); // the folder as written, with its metadata.json
  projectId = makeTrainingProject(db, paths, { bird: 8, vehicle: 8 });
  service = new TrainingService(db, paths, testTrainingOptions(dir));
  // Strategy 1 changes every layer of the network: what a later run must start from. (With the
  // Adam warm-up: after the default convex one, fine-tuning that does not help validation — as
  // on 16 pictures — is dropped and the network stays as it was.)
  const { done } = await service.start(projectId, {
    strategy: 'full',
    baseId: 'tiny',
    overrides: { epochs: 2, warmupEpochs: 1, batchSize: 8, lr: 0.05, augmentedVariants: 0, headFit: 'adam' },
  });
  const run = await done;
  expect(run.status, run.error ?? '').toBe('done');
  firstRun = run.id;
}, 120_000);
afterAll(() => {
  service.close();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('train again from a run', () => {
  it("puts the earlier run's fine-tuned weights into the base's layers, under an id of its own", async () => {
    const pristine = await loadBaseFolder(baseDir);
    const saved = await loadModelFolder(getRun(db, firstRun).modelFolder!);
    const conv = pristine.model.layers.find((l) => l.getClassName() === 'Conv2D')!.name;
    const before = weightsOf(pristine.model, conv);
    expect(weightsOf(saved, conv), 'the earlier run fine-tuned this layer').not.toEqual(before);
    const continued = await continueFrom(pristine, getRun(db, firstRun).modelFolder!, firstRun);
    expect(weightsOf(continued.model, conv)).toEqual(weightsOf(saved, conv));
    expect(continued.id).toBe(`tiny.from-run-${firstRun}`);
    saved.dispose();
    pristine.model.dispose();
  });

  it('starts a new run from it with its settings, on the labels as they are now, and records where it came from', async () => {
    const h = trainingHandlers(db, service);
    const { runId } = await h['training.start']({ projectId, strategy: 'auto', overrides: { epochs: 1 }, fromRunId: firstRun });
    const run = await new Promise<ReturnType<typeof getRun>>((resolve) => {
      const poll = setInterval(() => {
        const r = getRun(db, runId);
        if (!['queued', 'running'].includes(r.status)) {
          clearInterval(poll);
          resolve(r);
        }
      }, 200);
    });
    expect(run.status, run.error ?? '').toBe('done');
    expect(run.continuedFrom).toBe(firstRun);
    expect(run.baseId).toBe('tiny');
    // The earlier run's recipe, with what was overridden.
    expect(run.strategy).toBe('full');
    expect(run.config).toMatchObject({ lr: 0.05, batchSize: 8, epochs: 1 });
    expect(toWireRun(run).continuedFrom).toBe(firstRun);
  });

  it('refuses what it cannot continue, with a clear message', async () => {
    const other = makeTrainingProject(db, paths, { bird: 2, vehicle: 2 }, 'other');
    await expect(service.start(other, { fromRunId: firstRun })).rejects.toThrow(/belongs to another project/);
    await expect(service.start(projectId, { fromRunId: 9999 })).rejects.toThrow(/no run 9999/);
    await expect(service.start(projectId, { fromRunId: firstRun, baseId: 'mobilenet_v2' })).rejects.toThrow(
      /trained on "tiny"; a run continuing it uses the same base/,
    );
    const { runId, done } = await service.start(projectId, { strategy: 'head', baseId: 'tiny', overrides: { epochs: 50, patience: 50 } });
    service.cancel(runId);
    expect((await done).status).toBe('cancelled');
    await expect(service.start(projectId, { fromRunId: runId })).rejects.toThrow(/did not finish \(cancelled\)/);
  });
});

describe('run names and notes', () => {
  it('are set, shown, changed and cleared through runs.describe', async () => {
    const h = trainingHandlers(db, service);
    expect((await h['runs.get']({ runId: firstRun })).name).toBeNull();
    await h['runs.describe']({ runId: firstRun, name: '  First try  ', notes: 'Before I relabeled the birds.' });
    expect(await h['runs.get']({ runId: firstRun })).toMatchObject({ name: 'First try', notes: 'Before I relabeled the birds.' });
    await h['runs.describe']({ runId: firstRun, name: 'Baseline' });
    expect(await h['runs.get']({ runId: firstRun })).toMatchObject({ name: 'Baseline', notes: 'Before I relabeled the birds.' });
    await h['runs.describe']({ runId: firstRun, notes: '' });
    expect((await h['runs.get']({ runId: firstRun })).notes).toBeNull();
    expect(() => h['runs.describe']({ runId: 4242, name: 'x' })).toThrow(/no run 4242/);
  });
});

describe('from the command line', () => {
  it('studio train --from-run RUN asks training.start to continue that run; a bad id is a usage error', async () => {
    const { parseTrainArgs } = await import('../../electron/host/commands/train.js');
    const { parseArgv } = await import('../../electron/host/cli-args.js');
    expect(parseTrainArgs(parseArgv(['train', 'Birds', '--from-run', '3', '--epochs', '5'])).start).toMatchObject({
      fromRunId: 3,
      overrides: { epochs: 5 },
    });
    expect(() => parseTrainArgs(parseArgv(['train', 'Birds', '--from-run', 'last']))).toThrow(/--from-run must be a run id/);
  });
});
