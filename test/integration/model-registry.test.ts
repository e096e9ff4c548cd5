// One model registry for built-in, imported and downloaded bases: a folder imported through the
// contract trains with every strategy and exports (the fault: training looked bases up in a
// table only tests wrote, so an imported base was "not installed").
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Studio } from '../../electron/core/studio.js';
import type { ModelInfo } from '../../electron/shared/contract-models.js';
import { writeTinyResidualFolder } from '../fixtures/tiny-base.js';
import { makeTrainingProject } from '../fixtures/training-project.js';
import { baseDir, testEnvironment } from '../fixtures/environment.js';

let tmp: string;
let studio: Studio;
let projectId: number;
let model: ModelInfo;

function pick(dir: string): string {
  return studio.sources.register({ paths: [dir], displayName: path.basename(dir) });
}

/** Starts a run through the contract and waits for training.finished. */
async function train(strategy: 'head' | 'partial' | 'full'): Promise<{ runId: number; status: string }> {
  const finished = new Promise<{ runId: number; status: string }>((resolve) => {
    const off = studio.bus.subscribe((name, payload) => {
      if (name === 'training.finished') {
        off();
        resolve(payload as { runId: number; status: string });
      }
    });
  });
  const { runId } = await studio.call('training.start', {
    projectId,
    baseId: model.id,
    strategy,
    overrides: { epochs: 1, warmupEpochs: 1, augmentedVariants: 0, batchSize: 16 },
  });
  const done = await finished;
  expect(done.runId).toBe(runId);
  return done;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'model-registry-'));
  studio = new Studio({ environment: testEnvironment(path.join(tmp, 'data')), host: 'cli' });
  projectId = makeTrainingProject(studio.db, studio.paths, { bird: 12, vehicle: 12 });
  await writeTinyResidualFolder(path.join(tmp, 'tiny residual'));
}, 60_000);

afterAll(() => {
  studio.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('an imported base model', () => {
  it('imports a folder with only model.json and weights once the scaling is given', async () => {
    const first = await studio.call('models.import', { source: pick(path.join(tmp, 'tiny residual')) });
    expect(first.status).toBe('needsScaling');
    if (first.status !== 'needsScaling') return;
    const second = await studio.call('models.import', { source: first.source, scaling: '[0,1]' });
    expect(second.status).toBe('imported');
    if (second.status !== 'imported') return;
    model = second.model;
    expect(model).toMatchObject({ origin: 'imported', format: 'layers', strategies: [1, 2, 3], inputSize: 32 });
    expect((await studio.call('models.list', {})).map((m) => m.id)).toContain(model.id);
  });

  it('has probe points and strategy-2 boundaries derived from its graph: every Add output and the last activation', () => {
    const spec = studio.environment.models.base(model.id).spec;
    expect(spec.blocks).toEqual(['r1_add', 'r2_add', 'out_relu']);
    expect(spec.probePoints).toEqual(['r1_add', 'r2_add', 'out_relu']);
    expect(spec.featureLayer).toBe('out_relu');
  });

  it('trains with each of the three strategies (it was "not installed" before the one registry)', async () => {
    for (const strategy of ['head', 'partial', 'full'] as const) {
      const run = await train(strategy);
      const row = await studio.call('runs.get', { runId: run.runId });
      expect(row.status, `${strategy}: ${row.error ?? ''}`).toBe('done');
      expect(row.baseId).toBe(model.id);
    }
  }, 300_000);

  it('exports a run trained on it, with the base named in the model card', async () => {
    const runs = await studio.call('runs.list', { projectId });
    const runId = runs.find((r) => r.status === 'done' && r.strategy === 'head')!.id;
    const finished = new Promise<{ status: string; message: string | null; export: { id: number } | null }>((resolve) => {
      const off = studio.bus.subscribe((name, payload) => {
        if (name === 'export.finished') {
          off();
          resolve(payload as never);
        }
      });
    });
    await studio.call('exports.start', { runId, formats: ['tfjs', 'onnx'], quantize: false });
    const done = await finished;
    expect(done.status, done.message ?? '').toBe('done');
    const list = await studio.call('exports.list', { runId });
    expect(list[0]!.status).toBe('done');
  }, 300_000);

  it('a byte-identical copy of a built-in base imports under its own id', async () => {
    const copy = path.join(tmp, 'mobilenet copy');
    fs.cpSync(baseDir('mobilenet_v2'), copy, { recursive: true });
    const result = await studio.call('models.import', { source: pick(copy) });
    expect(result.status).toBe('imported');
    if (result.status !== 'imported') return;
    expect(result.model.id).not.toBe('mobilenet_v2');
    expect(result.model).toMatchObject({ origin: 'imported', inputSize: 224, strategies: [1, 2, 3] });
    const ids = (await studio.call('models.list', {})).map((m) => m.id);
    expect(ids.filter((id) => id === 'mobilenet_v2')).toHaveLength(1);
    expect(ids).toContain(result.model.id);
  }, 120_000);

  it('names an unknown base plainly when training is asked for it', async () => {
    await expect(studio.call('training.start', { projectId, baseId: 'model-hvq6p2', strategy: 'head' })).rejects.toThrow(
      /There is no base model "model-hvq6p2"/,
    );
  });
});
