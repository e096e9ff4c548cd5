// The engine with the real built-in MobileNetV2 (build/models/bases/mobilenet_v2).
// Strategies 1–2 train convolutions on the portable engine's cpu backend, so they use a handful
// of images; strategy 3 and the wizard use the whole of clipart-8.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectEngine, type EngineInfo } from '../../electron/core/engine/backend.js';
import { loadBaseFolder, blockAtOrBelow, type Base } from '../../electron/core/engine/base.js';
import { baseDir, testTrainingOptions } from '../fixtures/environment.js';
import { defaultConfig } from '../../electron/core/engine/config.js';
import { FeatureCache } from '../../electron/core/engine/feature-cache.js';
import { runTraining, type Sample } from '../../electron/core/engine/run.js';
import { loadModelFolder } from '../../electron/core/engine/model-folder.js';
import { findTransitionPoint } from '../../electron/core/engine/transition.js';
import { recommend } from '../../electron/core/engine/wizard.js';
import { speedFrom } from '../../electron/core/training/service.js';
import { openDatabase, type Db } from '../../electron/core/db/connection.js';
import { DataPaths } from '../../electron/core/paths.js';
import { resetSplits } from '../../electron/core/training/splits.js';
import { decodeForModel } from '../../electron/core/import/preprocess.js';
import { TrainingService } from '../../electron/core/training/service.js';
import { makeTrainingProject, CLIPART } from '../fixtures/training-project.js';

const MOBILENET = baseDir('mobilenet_v2');
const haveBase = fs.existsSync(path.join(MOBILENET, 'model.json'));
const SIZE = 224;
let dir: string;
let engine: EngineInfo;
let cache: FeatureCache;

beforeAll(async () => {
  engine = await selectEngine();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'train-'));
  // Shared across test files and runs on purpose: a warm cache is what users get too.
  cache = new FeatureCache(path.join(os.tmpdir(), 'transfer-studio-test-cache'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function decoded(file: string): () => Promise<Uint8Array> {
  let p: Promise<Uint8Array> | null = null;
  return () => (p ??= decodeForModel(fs.readFileSync(file), SIZE).then((d) => d.data));
}

/** A handful: per label 2 train, 1 validation, 1 test. */
function handful(): Sample[] {
  return ['bird', 'vehicle'].flatMap((name, label) =>
    fs
      .readdirSync(path.join(CLIPART, name))
      .sort()
      .slice(0, 4)
      .map((f, i) => ({
        key: `${name}/${f}`.padStart(8, 'k'),
        pixels: decoded(path.join(CLIPART, name, f)),
        label,
        split: (['train', 'train', 'validation', 'test'] as const)[i]!,
      })),
  );
}

type Snap = Map<string, Float32Array>;
const snapshot = (base: Base): Snap =>
  new Map(base.model.weights.map((w) => [w.originalName, w.read().dataSync().slice() as Float32Array]));
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

async function trainTwoEpochs(strategy: 'head' | 'partial' | 'full', headFit: 'convex' | 'adam' = 'adam') {
  const base = await loadBaseFolder(MOBILENET);
  const before = snapshot(base);
  const tensors = tf.memory().numTensors;
  const samples = handful();
  const started = performance.now();
  const out = await runTraining({
    base,
    samples,
    labels: ['bird', 'vehicle'],
    config: defaultConfig(strategy, { epochs: 2, warmupEpochs: 1, batchSize: 4, augmentedVariants: 1, patience: 10, headFit }),
    cache,
    engine,
    outDir: path.join(dir, strategy),
  });
  const ms = performance.now() - started;
  const after = snapshot(base);
  const leaked = tf.memory().numTensors - tensors;
  // Save → load → the same predictions as the training pipeline on the test images.
  const loaded = await loadModelFolder(out.modelDir);
  const test = samples.filter((s) => s.split === 'test');
  const px = new Float32Array(test.length * SIZE * SIZE * 3);
  for (const [i, s] of test.entries()) px.set(await s.pixels(), i * SIZE * SIZE * 3);
  const saved = tf.tidy(() => (loaded.predict(tf.tensor4d(px, [test.length, SIZE, SIZE, 3])) as tf.Tensor).dataSync() as Float32Array);
  loaded.dispose();
  console.log(
    `strategy ${strategy}: ${Math.round(ms)} ms, epochs ${JSON.stringify(out.epochs.map((e) => [e.phase, +e.loss.toFixed(4), e.ms]))}, backends ${JSON.stringify(out.backends)}`,
  );
  return { base, before, after, out, leaked, saved };
}

function expectUnchanged(before: Snap, after: Snap, names: string[]) {
  for (const k of names) expect(maxDiff(before.get(k)!, after.get(k)!), k).toBe(0);
}
const argMaxes = (probs: Float32Array) => Array.from({ length: probs.length / 2 }, (_, i) => (probs[2 * i]! >= probs[2 * i + 1]! ? 0 : 1));
const bnStats = (s: Snap) => [...s.keys()].filter((k) => /moving_(mean|variance)$/.test(k));

describe.skipIf(!haveBase)('MobileNetV2, each strategy for 2 epochs on a handful of images', () => {
  it('strategy 3: head trains, the whole base stays as it was', async () => {
    const { base, before, after, out, leaked, saved } = await trainTwoEpochs('head');
    expect(out.epochs).toHaveLength(2);
    expectUnchanged(before, after, [...before.keys()]);
    expect(leaked).toBe(0);
    saved.forEach((p, i) => expect(Math.abs(p - out.testProbs[i]!)).toBeLessThan(1e-4));
    base.model.dispose();
  }, 300_000);
  it('strategy 3 with the convex head (the default): one fit, saved model predicts as the run did', async () => {
    const { base, before, after, out, leaked, saved } = await trainTwoEpochs('head', 'convex');
    expect(out.epochs).toHaveLength(1);
    expect(out.epochs[0]!.valAcc).not.toBeNull(); // the cross-validated estimate stands in for validation
    expectUnchanged(before, after, [...before.keys()]);
    expect(leaked).toBe(0);
    saved.forEach((p, i) => expect(Math.abs(p - out.testProbs[i]!)).toBeLessThan(1e-4));
    base.model.dispose();
  }, 300_000);

  it('strategy 2: layers above the boundary train, those below and every BatchNorm statistic do not', async () => {
    const { base, before, after, out, leaked, saved } = await trainTwoEpochs('partial');
    expect(out.boundary).toBe('block_16_project_BN');
    expect(out.epochs.map((e) => e.phase)).toEqual(['head', 'finetune', 'finetune']);
    expect(maxDiff(before.get('Conv_1/kernel')!, after.get('Conv_1/kernel')!)).toBeGreaterThan(0);
    expect(maxDiff(before.get('Conv_1_bn/gamma')!, after.get('Conv_1_bn/gamma')!)).toBeGreaterThan(0);
    const below = [...before.keys()].filter((k) => !k.startsWith('Conv_1'));
    expect(below.length).toBeGreaterThan(200);
    expectUnchanged(before, after, below);
    expectUnchanged(before, after, bnStats(before));
    expect(leaked).toBe(0);
    // The pipeline trained on float16-cached boundary activations; the saved model computes in
    // float32 throughout, so probabilities agree to about 1e-2, not bit for bit.
    saved.forEach((p, i) => expect(Math.abs(p - out.testProbs[i]!)).toBeLessThan(2e-2));
    expect(argMaxes(saved)).toEqual(argMaxes(out.testProbs));
    base.model.dispose();
  }, 300_000);

  it('strategy 1: every layer trains after the warm-up; BatchNorm statistics stay', async () => {
    const { base, before, after, out, leaked, saved } = await trainTwoEpochs('full');
    expect(out.epochs.map((e) => e.phase)).toEqual(['head', 'finetune', 'finetune']);
    // The portable engine trained the convolutions itself: our kernels, no slow path.
    if (out.backends.finetune?.startsWith('wasm')) {
      expect(out.backends.finetune).toMatch(/^wasm, big matrix products in (ONNX Runtime on \d+ threads|tfjs-wasm)/);
      expect(out.backends.delegatedToCpu).toBeUndefined();
    }
    for (const k of ['Conv1/kernel', 'block_1_depthwise/depthwise_kernel', 'block_8_project/kernel', 'Conv_1/kernel'])
      expect(maxDiff(before.get(k)!, after.get(k)!), k).toBeGreaterThan(0);
    expectUnchanged(before, after, bnStats(before));
    expect(leaked).toBe(0);
    saved.forEach((p, i) => expect(Math.abs(p - out.testProbs[i]!)).toBeLessThan(1e-4));
    base.model.dispose();
  }, 600_000);
});

describe.skipIf(!haveBase)('the built-in bases on clipart-8: wizard and strategy 3', () => {
  let db: Db;
  let paths: DataPaths;
  let projectId: number;
  beforeAll(() => {
    paths = new DataPaths(dir);
    db = openDatabase(paths.database);
    projectId = makeTrainingProject(db, paths, {
      beverage: 'all',
      bird: 'all',
      bug: 'all',
      fruit: 'all',
      hardware: 'all',
      mammal: 'all',
      music: 'all',
      vehicle: 'all',
    });
  });
  afterAll(() => db.close());

  function samplesFor(seed: number, size: number): { samples: Sample[]; labels: string[] } {
    resetSplits(db, projectId, { seed });
    const data = new TrainingService(db, paths, testTrainingOptions(paths.root)).dataset(projectId);
    return {
      labels: data.labels,
      samples: data.samples.map((s) => {
        let p: Promise<Uint8Array> | null = null;
        return {
          key: s.key,
          label: s.label,
          split: s.split,
          pixels: () => (p ??= decodeForModel(fs.readFileSync(s.file), size).then((d) => d.data)),
        };
      }),
    };
  }

  // The cheapest rung of the wizard's feature ladder (engine/feature-choice.ts), which it falls back
  // to when fused features do not measurably beat it: so the default never scores below this floor
  // by more than the rule's one standard error. Fused features are checked end to end in fused-export.test.ts.
  it("the wizard's best single layer (best-probing base and layer, on train + validation) gives strategy 3 ≥ 0.70 over 3 split seeds", async () => {
    const bases = await Promise.all(['mobilenet_v2', 'inception_v3'].map((id) => loadBaseFolder(baseDir(id))));
    const accuracies: number[] = [];
    for (const seed of [1, 2, 3]) {
      // The wizard's choice, made per split as the app makes it: every built-in base probed on
      // training + validation images; the best-probing base and layer win (ties: the first).
      let chosen: { base: Base; layer: string; score: number } | null = null;
      for (const base of bases) {
        const probe = await findTransitionPoint(base, samplesFor(seed, base.inputSize).samples, cache, { seed: 1 });
        const score = Math.max(...probe.scores.map((s) => s.score));
        expect(probe.scores.find((s) => s.layer === probe.best)!.score).toBe(score);
        if (!chosen || score > chosen.score + 1e-9) chosen = { base, layer: probe.best, score };
      }
      const counts = samplesFor(seed, 1).samples.filter((s) => s.split !== 'test');
      const rec = recommend({
        imagesPerLabel: Math.min(...[0, 1, 2, 3, 4, 5, 6, 7].map((c) => counts.filter((s) => s.label === c).length)),
        labels: 8,
        probeScore: chosen!.score,
        speed: speedFrom(engine, 100),
        blocks: chosen!.base.blocks,
        bestBlock: chosen!.layer,
        anchorBlock: blockAtOrBelow(chosen!.base, chosen!.layer),
      });
      expect(rec.strategy).toBe('head'); // 45–66 pictures per label: a new classifier, not fine-tuning
      const split = samplesFor(seed, chosen!.base.inputSize);
      const out = await runTraining({
        base: chosen!.base,
        samples: split.samples,
        labels: split.labels,
        config: defaultConfig('head', { featureLayer: chosen!.layer, seed }),
        cache,
        engine,
        outDir: path.join(dir, `s3-${seed}`),
      });
      console.log(
        `split seed ${seed}: ${chosen!.base.id}/${chosen!.layer} (probe ${chosen!.score.toFixed(3)}, estimate ${JSON.stringify(rec.estimate)}): test ${out.metrics.testAccuracy?.toFixed(3)}, cross-validated ${out.metrics.valAccuracy?.toFixed(3)}`,
      );
      accuracies.push(out.metrics.testAccuracy!);
    }
    const mean = accuracies.reduce((a, b) => a + b, 0) / accuracies.length;
    console.log('strategy 3 mean test accuracy', mean.toFixed(3));
    // A floor that fails if the improvement is lost: MobileNetV2 alone with the old Adam head
    // scored 0.59–0.61 here, MobileNetV2 with the convex head about 0.63.
    expect(mean).toBeGreaterThanOrEqual(0.7);
    for (const b of bases) b.model.dispose();
  }, 900_000);
});
