// A fused model (engine/fused.ts) end to end on two tiny bases of different input sizes: the run
// trains on cached frozen-pass features, saves one model holding both trunks (the smaller one's
// picture resized inside the graph), and the app's prediction, the exported ONNX and the exported
// TF.js all agree with each other and with the features the head was trained on.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import type { Studio } from '../../electron/core/studio.js';
import { makeFusedProject, FUSED_LABELS } from '../fixtures/fused-project.js';
import { TINY_SIZE } from '../fixtures/tiny-base.js';
import type { Base } from '../../electron/core/engine/base.js';
import { defaultConfig } from '../../electron/core/engine/config.js';
import { FeatureCache } from '../../electron/core/engine/feature-cache.js';
import { runTraining, type Sample, type RunOutput } from '../../electron/core/engine/run.js';
import { selectEngine } from '../../electron/core/engine/backend.js';
import { loadModelFolder } from '../../electron/core/engine/model-folder.js';
import { resizeMatrix } from '../../electron/core/engine/fused.js';
import { chooseFeatures, featureCandidates, type ProbedBase } from '../../electron/core/engine/feature-choice.js';
import { compareFeatures } from '../../electron/core/engine/compare-features.js';
import { decodeForModel } from '../../electron/core/import/preprocess.js';
import { createRun, finishRun, markRunning } from '../../electron/core/training/runs.js';
import { appPredictions } from '../../electron/core/export/app-predict.js';
import { exportRun } from '../../electron/core/export/bundle.js';

const SMALL = 24;
let dir: string;
let studio: Studio;
let out: RunOutput;
let runId: number;
let testFiles: string[];
let bases: Map<string, Base>;
let samples: Sample[];
let engine: Awaited<ReturnType<typeof selectEngine>>;
const files = new Map<string, string>();
const labels = FUSED_LABELS;
const fused = [
  { base: 'tiny', layer: 'b2_out' },
  { base: 'tiny', layer: 'b3_out' },
  { base: 'tiny_small', layer: 's_b3_out' },
];

beforeAll(async () => {
  engine = await selectEngine();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fused-export-'));
  const made = await makeFusedProject(dir, 'fused', SMALL);
  ({ studio, bases, samples } = made);
  const { projectId, tiny, images } = made;
  for (const img of images) files.set(img.sha256, img.file);
  testFiles = images.filter((i) => i.split === 'test').map((i) => studio.paths.stored(projectId, i.sha256, i.format));
  const config = defaultConfig('head', { fused });
  runId = createRun(studio.db, projectId, 'tiny', config);
  markRunning(studio.db, runId, 'portable-wasm');
  out = await runTraining({
    base: tiny,
    bases,
    samples,
    labels,
    config,
    cache: new FeatureCache(path.join(dir, 'cache')),
    engine,
    outDir: path.join(studio.paths.project(projectId), 'runs', String(runId), 'model'),
  });
  finishRun(studio.db, runId, 'done', { modelFolder: out.modelDir, metrics: out.metrics, config });
}, 120_000);

afterAll(() => {
  studio?.close();
  for (const b of bases?.values() ?? []) b.model.dispose();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('fused features', () => {
  it('resizes with weights that keep brightness (each output pixel a weighted mean)', () => {
    const m = resizeMatrix(TINY_SIZE, SMALL);
    for (let j = 0; j < SMALL; j++) {
      let sum = 0;
      for (let i = 0; i < TINY_SIZE; i++) sum += m[i * SMALL + j]!;
      expect(sum).toBeCloseTo(1, 6);
    }
  });

  it('saves one model with every trunk, at the largest trunk’s input size', () => {
    const config = JSON.parse(fs.readFileSync(path.join(out.modelDir, 'config.json'), 'utf8')) as {
      inputSize: number;
      fused: { trunks: { base: string; layers: string[] }[] };
    };
    expect(config.inputSize).toBe(TINY_SIZE);
    expect(config.fused.trunks.map((t) => t.base)).toEqual(['tiny', 'tiny_small']);
    const topology = fs.readFileSync(path.join(out.modelDir, 'model.json'), 'utf8');
    expect(topology).toContain('trunk1_resize_w');
  });

  it('the app predicts what the run measured on its cached features, and the exported ONNX and TF.js agree', async () => {
    const app = await appPredictions(studio.db, runId, testFiles);
    expect(app.runtime).toMatch(/^onnx/);
    const k = labels.length;
    // The run's test probabilities came from the head on cached frozen-pass features.
    for (let i = 0; i < testFiles.length; i++)
      for (let c = 0; c < k; c++) expect(Math.abs(out.testProbs[i * k + c]! - app.probs[i]![c]!)).toBeLessThanOrEqual(1e-4);

    const result = await exportRun({ ...studio.environment, db: studio.db }, { runId, outDir: path.join(dir, 'bundle') });
    expect(result.row.status, result.row.error ?? '').toBe('done');
    expect(result.row.parity?.passed).toBe(true);

    const pixels = await Promise.all(testFiles.map(async (f) => (await decodeForModel(fs.readFileSync(f), TINY_SIZE)).data));
    const flat = new Uint8Array(pixels.length * TINY_SIZE * TINY_SIZE * 3);
    pixels.forEach((p, i) => flat.set(p, i * p.length));
    const model = await loadModelFolder(path.join(result.row.dir!, 'tfjs'));
    const viaTfjs = tf.tidy(
      () =>
        (
          model.predict(tf.tensor4d(Float32Array.from(flat), [pixels.length, TINY_SIZE, TINY_SIZE, 3])) as tf.Tensor
        ).dataSync() as Float32Array,
    );
    model.dispose();
    const session = await ort.InferenceSession.create(path.join(result.row.dir!, 'model.onnx'));
    const res = await session.run({ [session.inputNames[0]!]: new ort.Tensor('uint8', flat, [pixels.length, TINY_SIZE, TINY_SIZE, 3]) });
    const viaOnnx = res[session.outputNames[0]!]!.data as Float32Array;
    await session.release();
    for (let i = 0; i < testFiles.length; i++)
      for (let c = 0; c < k; c++) {
        expect(Math.abs(viaTfjs[i * k + c]! - app.probs[i]![c]!)).toBeLessThanOrEqual(1e-4);
        expect(Math.abs(viaOnnx[i * k + c]! - app.probs[i]![c]!)).toBeLessThanOrEqual(1e-4);
      }
  });
});

describe('a fused run is reproducible', () => {
  it('the same pictures and settings, from a cold cache of its own, give the same probabilities', async () => {
    const again = await runTraining({
      base: bases.get('tiny')!,
      bases,
      samples,
      labels,
      config: defaultConfig('head', { fused }),
      cache: new FeatureCache(path.join(dir, 'cache-again')),
      engine,
      outDir: path.join(dir, 'again'),
    });
    expect(again.metrics.testAccuracy).toBe(out.metrics.testAccuracy);
    expect(again.testProbs.length).toBe(out.testProbs.length);
    for (let i = 0; i < out.testProbs.length; i++) expect(again.testProbs[i]!).toBeCloseTo(out.testProbs[i]!, 6);
  }, 60_000);
});

describe("the wizard's feature comparison", () => {
  const probed: ProbedBase[] = [
    {
      base: 'tiny',
      inputSize: TINY_SIZE,
      scores: [
        { layer: 'b2_out', score: 0.6 },
        { layer: 'b3_out', score: 0.7 },
      ],
      best: 'b3_out',
      bytesTo: { b2_out: 10, b3_out: 20 },
    },
    {
      base: 'tiny_small',
      inputSize: SMALL,
      scores: [
        { layer: 's_b2_out', score: 0.5 },
        { layer: 's_b3_out', score: 0.6 },
      ],
      best: 's_b3_out',
      bytesTo: { s_b2_out: 10, s_b3_out: 20 },
    },
  ];

  it('never reads the test split: other test labels, and test pictures that cannot be read, leave every score unchanged', async () => {
    const candidates = featureCandidates(probed);
    expect(candidates.map((c) => c.name)).toEqual(['single', 'layers', 'bases', 'both']);
    const compare = (relabel: boolean) =>
      compareFeatures(
        candidates,
        samples.map((s) => ({
          label: s.split === 'test' && relabel ? 1 - s.label : s.label,
          split: s.split,
          source: (baseId: string) => ({
            key: s.key,
            pixels: async () => {
              if (s.split === 'test') throw new Error('the comparison read a test picture');
              return (await decodeForModel(fs.readFileSync(files.get(s.key)!), bases.get(baseId)!.inputSize)).data;
            },
          }),
        })),
        async (id) => bases.get(id)!,
        // A cold cache, so every training + validation picture goes through the frozen pass.
        new FeatureCache(path.join(dir, `compare-${relabel}`)),
        { seed: 1, classWeights: true },
      );
    const before = await compare(false);
    const after = await compare(true);
    expect(after).toEqual(before);
    expect(before[0]!.correct.length).toBe(samples.filter((s) => s.split !== 'test').length);
  }, 60_000);

  it('keeps a trunk only when its gain exceeds one standard error of the paired difference', () => {
    const n = 100;
    const rows = (right: number) => Array.from({ length: n }, (_, i) => (i < right ? 1 : 0));
    const scored = (accs: Record<string, number>) =>
      featureCandidates(probed).map((c) => ({ ...c, accuracy: accs[c.name]! / n, correct: rows(accs[c.name]!) }));
    // Fused 10 points better: more than the noise, so the second base earns its bytes.
    expect(chooseFeatures(scored({ single: 70, layers: 70, bases: 80, both: 80 })).chosen.name).toBe('bases');
    // One point better: within the noise, so the cheapest (today's single layer) stays.
    const close = chooseFeatures(scored({ single: 79, layers: 79, bases: 80, both: 80 }));
    expect(close.chosen.name).toBe('single');
    expect(close.choice.candidates.find((c) => c.name === 'bases')!.belowBest).toBe(0);
    const single = close.choice.candidates.find((c) => c.name === 'single')!;
    expect(single.belowBest).toBeLessThanOrEqual(single.se);
  });
});
