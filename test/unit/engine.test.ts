// The engine on a tiny base: every strategy trains, moves what it should and nothing else,
// leaks no tensors, saves a model that predicts the same after loading, and cancels.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectEngine, type EngineInfo } from '../../electron/core/engine/backend.js';
import { loadBaseFolder, type Base } from '../../electron/core/engine/base.js';
import { defaultConfig } from '../../electron/core/engine/config.js';
import { FeatureCache } from '../../electron/core/engine/feature-cache.js';
import { runTraining, type Sample } from '../../electron/core/engine/run.js';
import { loadModelFolder } from '../../electron/core/engine/model-folder.js';
import { Cancelled } from '../../electron/core/engine/loop.js';
import { decodeForModel } from '../../electron/core/import/preprocess.js';
import { writeTinyBase, TINY_SIZE } from '../fixtures/tiny-base.js';

const DATA = '/work/shared/datasets/clipart-8';
let dir: string;
let baseDir: string;
let engine: EngineInfo;
let samples: Sample[];
const labels = ['bird', 'vehicle'];

beforeAll(async () => {
  engine = await selectEngine();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-'));
  baseDir = await writeTinyBase(path.join(dir, 'base'));
  samples = [];
  for (const [label, name] of labels.entries()) {
    const files = fs.readdirSync(path.join(DATA, name)).sort().slice(0, 8);
    for (const [i, f] of files.entries()) {
      const { data } = await decodeForModel(fs.readFileSync(path.join(DATA, name, f)), TINY_SIZE);
      samples.push({
        key: `${name}-${f}`.padEnd(8, '0'),
        pixels: async () => data,
        label,
        split: i < 5 ? 'train' : i < 6 ? 'validation' : 'test',
      });
    }
  }
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const snapshot = (base: Base) => new Map(base.model.weights.map((w) => [w.originalName, w.read().dataSync().slice()]));
const moved = (a: Float32Array | Int32Array | Uint8Array, b: Float32Array | Int32Array | Uint8Array) =>
  a.some((v, i) => Math.abs(v - b[i]!) > 1e-7);

async function train(strategy: 'head' | 'partial' | 'full', extra: Record<string, unknown> = {}) {
  const base = await loadBaseFolder(baseDir);
  const before = snapshot(base);
  const tensors = tf.memory().numTensors;
  const outDir = path.join(dir, `model-${strategy}-${Math.random().toString(36).slice(2)}`);
  const out = await runTraining({
    base,
    samples,
    labels,
    config: defaultConfig(strategy, { epochs: 2, warmupEpochs: 1, batchSize: 4, augmentedVariants: 1, patience: 10, ...extra }),
    cache: new FeatureCache(path.join(dir, 'cache')),
    engine,
    outDir,
  });
  const after = snapshot(base);
  const leaked = tf.memory().numTensors - tensors;
  return { base, before, after, out, leaked, outDir };
}

function expectBatchNormStatsUnchanged(before: Map<string, Float32Array | Int32Array | Uint8Array>, after: typeof before) {
  const stats = [...before.keys()].filter((k) => /moving_(mean|variance)/.test(k));
  expect(stats.length).toBe(6);
  for (const k of stats) expect(moved(before.get(k)!, after.get(k)!), k).toBe(false);
}

describe('engine strategies on a tiny base', () => {
  it('reports the engine it picked and why', () => {
    expect(engine.name).toBe('portable-wasm');
    expect(engine.tried.join('\n')).toMatch(/tfjs-node: not available/);
  });

  it('strategy 3 (head): trains, leaves the whole base untouched, leaks nothing, saves and reloads identically', async () => {
    // The epoch loop (the convex head's single fit is train.test's): two epochs, recorded as they go.
    const { base, before, after, out, leaked, outDir } = await train('head', { headFit: 'adam' });
    expect(out.epochs.filter((e) => e.phase === 'head')).toHaveLength(2);
    expect(out.backends.frozen).toBe('onnx-cpu'); // the frozen pass runs in ONNX Runtime
    for (const [k, v] of before) expect(moved(v, after.get(k)!), k).toBe(false);
    expect(leaked).toBe(0);
    expect(out.metrics.testCount).toBe(4);
    expect(out.metrics.confusion.flat().reduce((a, b) => a + b, 0)).toBe(4);

    const loaded = await loadModelFolder(outDir);
    const x = tf.tensor4d(Float32Array.from(await samples[0]!.pixels()), [1, TINY_SIZE, TINY_SIZE, 3]);
    const a = (loaded.predict(x) as tf.Tensor).dataSync();
    expect(a.length).toBe(2);
    expect(JSON.parse(fs.readFileSync(path.join(outDir, 'labels.json'), 'utf8'))).toEqual(labels);
    // The saved model (pixels in, scaling inside) predicts what the training pipeline predicted.
    const testSamples = samples.filter((s) => s.split === 'test');
    const px = new Float32Array(testSamples.length * TINY_SIZE * TINY_SIZE * 3);
    for (const [i, s] of testSamples.entries()) px.set(await s.pixels(), i * TINY_SIZE * TINY_SIZE * 3);
    const saved = tf.tidy(() => (loaded.predict(tf.tensor4d(px, [testSamples.length, TINY_SIZE, TINY_SIZE, 3])) as tf.Tensor).dataSync());
    saved.forEach((p, i) => expect(Math.abs(p - out.testProbs[i]!)).toBeLessThan(1e-5));
    // The same model trained again with the same seed predicts the same (reproducible run).
    const again = await train('head', { headFit: 'adam' });
    const b = ((await loadModelFolder(again.outDir)).predict(x) as tf.Tensor).dataSync();
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(again.out.epochs.map((e) => e.loss)).toEqual(out.epochs.map((e) => e.loss));
    x.dispose();
    base.model.dispose();
  });

  // The Adam warm-up: with the default convex one, a run whose fine-tuning does not improve
  // validation ends with the weights it started from (keepStart), and on this tiny set it does not.
  it('strategy 2 (partial): warms up the head, then trains above the boundary only; frozen BatchNorm statistics stay', async () => {
    const { base, before, after, out, leaked } = await train('partial', { boundary: 'b2_out', headFit: 'adam' });
    expect(out.boundary).toBe('b2_out');
    expect(out.epochs.map((e) => e.phase)).toEqual(['head', 'finetune', 'finetune']);
    expect(moved(before.get('b3_conv/kernel')!, after.get('b3_conv/kernel')!)).toBe(true);
    expect(moved(before.get('b3_bn/gamma')!, after.get('b3_bn/gamma')!)).toBe(true);
    for (const k of ['b1_conv/kernel', 'b2_conv/kernel', 'b1_bn/gamma', 'b2_bn/beta'])
      expect(moved(before.get(k)!, after.get(k)!), k).toBe(false);
    expectBatchNormStatsUnchanged(before, after);
    expect(leaked).toBe(0);
    base.model.dispose();
  });

  it('strategy 1 (full): every layer trains after the warm-up; BatchNorm statistics stay', async () => {
    const { base, before, after, out, leaked } = await train('full', { headFit: 'adam' });
    expect(out.epochs.map((e) => e.phase)).toEqual(['head', 'finetune', 'finetune']);
    for (const k of ['b1_conv/kernel', 'b2_conv/kernel', 'b3_conv/kernel']) expect(moved(before.get(k)!, after.get(k)!), k).toBe(true);
    expectBatchNormStatsUnchanged(before, after);
    expect(leaked).toBe(0);
    base.model.dispose();
  });

  it('strategy 2 with the recipe: one convex warm-up fit, then fine-tuning; nothing below the boundary moves, nothing leaks', async () => {
    const { base, before, after, out, leaked } = await train('partial', { boundary: 'b2_out' });
    expect(out.epochs.map((e) => e.phase)).toEqual(['head', 'finetune', 'finetune']);
    for (const k of ['b1_conv/kernel', 'b2_conv/kernel', 'b1_bn/gamma', 'b2_bn/beta'])
      expect(moved(before.get(k)!, after.get(k)!), k).toBe(false);
    expectBatchNormStatsUnchanged(before, after);
    expect(leaked).toBe(0);
    base.model.dispose();
  });

  it('cancels between batches without leaking tensors', async () => {
    const base = await loadBaseFolder(baseDir);
    const tensors = tf.memory().numTensors;
    let batches = 0;
    await expect(
      runTraining({
        base,
        samples,
        labels,
        config: defaultConfig('head', { epochs: 5, batchSize: 2 }),
        cache: new FeatureCache(path.join(dir, 'cache')),
        engine,
        outDir: path.join(dir, 'cancelled'),
        isCancelled: () => batches >= 2,
        onProgress: (phase) => {
          if (phase === 'training') batches++;
        },
      }),
    ).rejects.toBeInstanceOf(Cancelled);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(fs.existsSync(path.join(dir, 'cancelled', 'model.json'))).toBe(false);
    base.model.dispose();
  });
});
