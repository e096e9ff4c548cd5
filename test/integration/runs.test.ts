// Runs through the real engine process on a tiny base: recorded in SQLite epoch by epoch,
// cancelled mid-run, marked interrupted when the process dies or the host restarts.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, type Db } from '../../electron/core/db/connection.js';
import { DataPaths } from '../../electron/core/paths.js';
import { TrainingService } from '../../electron/core/training/service.js';
import { getRun, listRuns } from '../../electron/core/training/runs.js';
import { installTinyBase } from '../fixtures/tiny-base.js';
import { testTrainingOptions } from '../fixtures/environment.js';
import { trainingHandlers } from '../../electron/core/training/handlers.js';
import { trainingCalls } from '../../electron/shared/contract-training.js';
import { makeTrainingProject } from '../fixtures/training-project.js';
import { readComputeSettings } from '../../electron/core/engine/compute-settings.js';

let dir: string;
let db: Db;
let paths: DataPaths;
let service: TrainingService;
let projectId: number;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runs-'));
  paths = new DataPaths(dir);
  db = openDatabase(paths.database);
  await installTinyBase(testTrainingOptions(dir).models, path.join(dir, 'bases'));
  projectId = makeTrainingProject(db, paths, { bird: 12, vehicle: 12 });
  service = new TrainingService(db, paths, testTrainingOptions(dir));
});
afterAll(() => {
  service.close();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('runs in the engine process', () => {
  it('trains, streams epochs, and records the run, its epochs and test metrics', async () => {
    const epochs: number[] = [];
    service.on('epoch', (e) => epochs.push(e.record.epoch));
    const { runId, done } = await service.start(projectId, {
      strategy: 'head',
      baseId: 'tiny',
      // The epoch loop, streamed as it goes (the default convex head is one fit, one record).
      overrides: { epochs: 3, patience: 10, augmentedVariants: 1, headFit: 'adam' },
    });
    const run = await done;
    service.removeAllListeners('epoch');
    expect(run.status, run.error ?? '').toBe('done');
    expect(run.engine).toBe('portable-wasm');
    expect(run.epochs.map((e) => e.epoch)).toEqual([0, 1, 2]);
    expect(epochs).toEqual([0, 1, 2]);
    expect(run.metrics!.testCount).toBeGreaterThan(0);
    expect(run.metrics!.confusion).toHaveLength(2);
    expect(run.durationMs).toBeGreaterThan(0);
    expect(fs.existsSync(path.join(run.modelFolder!, 'model.json'))).toBe(true);
    expect(run.config.featureLayer).toBe('b3_out');
    expect(getRun(db, runId).status).toBe('done');
  });

  it('cancels mid-run', async () => {
    const { runId, done } = await service.start(projectId, {
      strategy: 'head',
      baseId: 'tiny',
      overrides: { epochs: 5000, patience: 5000, batchSize: 2 },
    });
    service.once('epoch', () => service.cancel(runId));
    const run = await done;
    expect(run.status).toBe('cancelled');
    expect(run.epochs.length).toBeGreaterThan(0);
    expect(run.epochs.length).toBeLessThan(100);
    expect(run.modelFolder).toBeNull();
  });

  it('marks a run interrupted at once when its engine process dies', async () => {
    const { runId, done } = await service.start(projectId, {
      strategy: 'head',
      baseId: 'tiny',
      overrides: { epochs: 5000, patience: 5000 },
    });
    service.once('epoch', () => service.processOf(runId)!.kill('SIGKILL'));
    const run = await done;
    expect(run.status).toBe('interrupted');
    expect(run.error).toMatch(/stopped unexpectedly \(SIGKILL\)/);
  });

  it('marks runs left running by a dead host as interrupted at the next start, not those of a live host', () => {
    const insert = db.prepare(
      "INSERT INTO runs (project_id, base_id, strategy, config, status, host_pid) VALUES (?, 'tiny', 'head', '{}', 'running', ?)",
    );
    const dead = Number(insert.run(projectId, 2 ** 22 + 12345).lastInsertRowid); // beyond pid_max: no such process
    const noPid = Number(insert.run(projectId, null).lastInsertRowid);
    const live = Number(insert.run(projectId, process.ppid).lastInsertRowid);
    const again = new TrainingService(db, paths, testTrainingOptions(dir));
    expect(getRun(db, dead).status).toBe('interrupted');
    expect(getRun(db, noPid).status).toBe('interrupted');
    expect(getRun(db, live).status).toBe('running');
    db.prepare("UPDATE runs SET status = 'failed' WHERE id = ?").run(live);
    again.close();
    expect(listRuns(db, projectId).filter((r) => r.status === 'running')).toHaveLength(0);
  });

  it('answers the training calls with values their contract schemas accept, and no file paths', async () => {
    const h = trainingHandlers(db, service);
    const list = trainingCalls['runs.list'].result.parse(await h['runs.list']({ projectId }));
    expect(list.length).toBeGreaterThan(0);
    expect(list.some((r) => r.status === 'done' && r.hasModel)).toBe(true);
    expect(JSON.stringify(list)).not.toContain(dir);
    const splits = trainingCalls['splits.set'].result.parse(
      await h['splits.set']({ projectId, settings: { seed: 9, train: 0.6, validation: 0.2, test: 0.2 } }),
    );
    expect(splits.settings.seed).toBe(9);
    expect(splits.counts.train + splits.counts.validation + splits.counts.test).toBe(24);
    const started = trainingCalls['training.start'].result.parse(
      await h['training.start'](
        trainingCalls['training.start'].args.parse({ projectId, baseId: 'tiny', strategy: 'head', overrides: { epochs: 1 } }),
      ),
    );
    const finished = await new Promise<number>((resolve) => service.once('finished', (r) => resolve(r.id)));
    expect(finished).toBe(started.runId);
    expect(trainingCalls['runs.get'].result.parse(await h['runs.get']({ runId: started.runId })).status).toBe('done');
  });

  it("sends the host's compute settings to the engine process, which reads none from its environment", async () => {
    expect(() => new TrainingService(db, paths, { ...testTrainingOptions(dir), env: { STUDIO_NATIVE_STEPS: 'off' } })).toThrow(
      /STUDIO_NATIVE_STEPS=off .*0 or 1/,
    );
    const tfjsOnly = new TrainingService(db, paths, {
      ...testTrainingOptions(dir),
      compute: { ...readComputeSettings({}), nativeSteps: false },
    });
    try {
      const { done } = await tfjsOnly.start(projectId, {
        strategy: 'partial',
        baseId: 'tiny',
        overrides: { boundary: 'b2_out', epochs: 1, warmupEpochs: 1, batchSize: 8 },
      });
      const run = await done;
      expect(run.status, run.error ?? '').toBe('done');
      expect(run.backends?.nativeSteps).toBe('not used: turned off (STUDIO_NATIVE_STEPS=0)');
      expect(run.backends?.onnxProviders).toMatch(/^cpu used; cuda not used: /);
    } finally {
      tfjsOnly.close();
    }
  });

  it('refuses a project without two labels, and an unknown base, with a clear message', async () => {
    const one = makeTrainingProject(db, paths, { bird: 3 }, 'one label');
    await expect(service.start(one, { strategy: 'head', baseId: 'tiny' })).rejects.toThrow(/at least two labels/);
    await expect(service.start(projectId, { strategy: 'head', baseId: 'nope' })).rejects.toThrow(/There is no base model "nope"/);
  });
});
