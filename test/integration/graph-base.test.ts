// A graph-model base (a TF-Hub-style tfjs graph model, strategy 3 only) through the contract:
// imported with a scaling, its feature node derived (the pooled features before its own
// classifier), trained with strategy 3, never fine-tuned, predicted with, and exported — the
// TF.js graph model and the web demo, with the ONNX model and the examples left out with a reason.
// Before: training refused ("graph model; training with it is not supported yet").
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Studio } from '../../electron/core/studio.js';
import type { ModelInfo } from '../../electron/shared/contract-models.js';
import { makeTrainingProject, CLIPART } from '../fixtures/training-project.js';
import { testEnvironment } from '../fixtures/environment.js';
import { writeTinyGraphFolder, TINY_GRAPH_SIZE } from '../fixtures/tiny-graph.js';
import { loadClassifierFolder } from '../../electron/core/engine/model-folder.js';

let tmp: string;
let studio: Studio;
let projectId: number;
let model: ModelInfo;
let runId: number;

/** Where training saved the run's classifier (the contract does not show folders). */
const modelFolder = () => path.join(studio.paths.project(projectId), 'runs', String(runId), 'model');

function next<T>(event: string): Promise<T> {
  return new Promise<T>((resolve) => {
    const off = studio.bus.subscribe((name, payload) => {
      if (name === event) {
        off();
        resolve(payload as T);
      }
    });
  });
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'graph-base-'));
  studio = new Studio({ environment: testEnvironment(path.join(tmp, 'data')), host: 'cli' });
  projectId = makeTrainingProject(studio.db, studio.paths, { bird: 12, vehicle: 12 });
  await writeTinyGraphFolder(path.join(tmp, 'tiny graph'));
}, 60_000);

afterAll(() => {
  studio.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('a graph-model base', () => {
  it('imports with a scaling, as strategy 3 only, its features the pooled node before its classifier', async () => {
    const source = studio.sources.register({ paths: [path.join(tmp, 'tiny graph')], displayName: 'tiny graph' });
    const first = await studio.call('models.import', { source });
    expect(first.status).toBe('needsScaling');
    if (first.status !== 'needsScaling') return;
    const second = await studio.call('models.import', { source: first.source, scaling: '[-1,1]' });
    expect(second.status).toBe('imported');
    if (second.status !== 'imported') return;
    model = second.model;
    expect(model).toMatchObject({ format: 'graph', strategies: [3], limitation: 'strategy 3 only', inputSize: TINY_GRAPH_SIZE });
    expect(studio.environment.models.base(model.id).spec).toMatchObject({ featureLayer: 'pool', blocks: [], probePoints: ['pool'] });
  });

  it('the wizard recommends strategy 3 for it, and fine-tuning is refused with the reason', async () => {
    const report = await studio.call('training.wizard', { projectId, baseId: model.id });
    expect(report.recommendation.strategy).toBe('head');
    expect(report.recommendation.reason).toMatch(/graph model/);
    for (const strategy of ['partial', 'full'] as const)
      await expect(studio.call('training.start', { projectId, baseId: model.id, strategy })).rejects.toThrow(
        /graph model.*only strategy 3/,
      );
  }, 120_000);

  it('trains with strategy 3; the run records that its features came from the graph model in tfjs', async () => {
    const finished = next<{ runId: number; status: string }>('training.finished');
    const started = await studio.call('training.start', {
      projectId,
      baseId: model.id,
      strategy: 'auto',
      overrides: { epochs: 3, augmentedVariants: 1, batchSize: 16 },
    });
    runId = started.runId;
    expect((await finished).runId).toBe(runId);
    const run = await studio.call('runs.get', { runId });
    expect(run.status, run.error ?? '').toBe('done');
    expect(run.strategy).toBe('head');
    expect(JSON.stringify(run)).toMatch(/graph model: features in tfjs; strategy 3 only/);
    // The saved classifier is one graph model: the base up to "pool", then the head; the base's own classifier is gone.
    const json = JSON.parse(fs.readFileSync(path.join(modelFolder(), 'model.json'), 'utf8'));
    expect(json.format).toBe('graph-model');
    const names = (json.modelTopology.node as { name: string }[]).map((n) => n.name);
    expect(names).toContain('pool');
    expect(names).not.toContain('probs');
    expect(names).toContain('probabilities');
  }, 300_000);

  it('predicts in the app: one image and the whole project', async () => {
    const file = path.join(CLIPART, 'bird', fs.readdirSync(path.join(CLIPART, 'bird')).sort()[0]!);
    const one = await studio.call('runs.classify', { runId, mime: 'image/jpeg', dataBase64: fs.readFileSync(file).toString('base64') });
    expect(Object.keys(one.probabilities).sort()).toEqual(['bird', 'vehicle']);
    expect(Object.values(one.probabilities).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    expect(one.runtime).toMatch(/tfjs \(fallback: .*graph model/);
    const finished = next<{ status: string; predicted: number; failed: number }>('predict.finished');
    await studio.call('runs.predictProject', { runId });
    const done = await finished;
    expect(done).toMatchObject({ status: 'done', predicted: 24, failed: 0 });
  }, 120_000);

  it('exports the TF.js graph model and the web demo with parity; ONNX and the examples are left out with the reason', async () => {
    const finished = next<{
      status: string;
      message: string | null;
      export: { id: number; parts: string[]; skipped: { part: string }[] } | null;
    }>('export.finished');
    await studio.call('exports.start', { runId, formats: ['tfjs', 'onnx', 'web-demo', 'examples'], quantize: false });
    const done = await finished;
    expect(done.status, done.message ?? '').toBe('done');
    expect(done.message).toMatch(/onnx not included: .*graph model/);
    expect(done.export!.parts).toEqual(['tfjs', 'web-demo']);
    expect(done.export!.skipped.map((s) => s.part)).toEqual(['onnx', 'examples']);
    const [info] = await studio.call('exports.list', { runId });
    expect(info!.parity?.passed).toBe(true);
    const dir = path.join(studio.paths.root, 'exports', info!.folderName!);
    expect(fs.existsSync(path.join(dir, 'model.onnx'))).toBe(false);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.skipped.map((s: { part: string }) => s.part)).toEqual(['onnx', 'examples']);
    const signature = JSON.parse(fs.readFileSync(path.join(dir, 'signature.json'), 'utf8'));
    expect(signature.tfjs.format).toBe('graph-model');
    expect(fs.readFileSync(path.join(dir, 'README.md'), 'utf8')).toMatch(/tf\.loadGraphModel[\s\S]*Not included: onnx/);

    // The web demo's own loading code (index.html) on its inlined model gives the app's model's answers.
    const html = fs.readFileSync(path.join(dir, 'web-demo', 'index.html'), 'utf8');
    expect(html).toContain("M.modelJson.format === 'graph-model' ? await tf.loadGraphModel");
    const sandbox = { window: {} as { STUDIO_MODEL?: { modelJson: any; weightsBase64: string; labels: string[] } } };
    vm.runInNewContext(fs.readFileSync(path.join(dir, 'web-demo', 'model.js'), 'utf8'), sandbox);
    const M = sandbox.window.STUDIO_MODEL!;
    expect(M.labels).toEqual(['bird', 'vehicle']);
    const bytes = Buffer.from(M.weightsBase64, 'base64');
    const demo = await tf.loadGraphModel(
      tf.io.fromMemory({
        modelTopology: M.modelJson.modelTopology,
        weightSpecs: M.modelJson.weightsManifest[0].weights,
        weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
      }),
    );
    const app = await loadClassifierFolder(modelFolder());
    const x = tf.randomUniform([2, TINY_GRAPH_SIZE, TINY_GRAPH_SIZE, 3], 0, 255, 'float32', 5);
    const got = (demo.predict(x) as tf.Tensor).arraySync() as number[][];
    const want = (app.predict(x) as tf.Tensor).arraySync() as number[][];
    expect(got).toEqual(want);
    x.dispose();
    demo.dispose();
    app.dispose();
  }, 300_000);

  it('exports TF.js alone with 8-bit weights (the graph model quantizes and loads like a layers one)', async () => {
    const finished = next<{ status: string; message: string | null }>('export.finished');
    await studio.call('exports.start', { runId, formats: ['tfjs'], quantize: true });
    const done = await finished;
    expect(done.status, done.message ?? '').toBe('done');
    expect(done.message).toBeNull();
    const [latest] = await studio.call('exports.list', { runId });
    expect(latest).toMatchObject({ quantized: true, parts: ['tfjs'], skipped: [] });
    expect(latest!.parity?.passed).toBe(true);
    // ONNX alone has nothing to give: it ends with the reason, not a broken export.
    const onnxOnly = next<{ status: string; message: string | null }>('export.finished');
    await studio.call('exports.start', { runId, formats: ['onnx'], quantize: false });
    expect(await onnxOnly).toMatchObject({ status: 'failed', message: expect.stringMatching(/cannot be exported as ONNX: .*graph model/) });
  }, 120_000);
});
