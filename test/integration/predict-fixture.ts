// Trained-run fixtures for the prediction tests, made without the training engine: the built-in
// MobileNetV2 (real weights) cut at a block, with a Dense softmax head of seeded random weights,
// saved exactly as a finished run saves its model (classifierModel + saveModelFolder), and a
// `runs` row marked done that points at it.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Db } from '../../electron/core/db/connection.js';
import { loadBaseFolder, type Base } from '../../electron/core/engine/base.js';
import { builtInBasesDir } from '../fixtures/environment.js';
import { Head, featureStats } from '../../electron/core/engine/head.js';
import { convertToOnnxDetailed, runBatches } from '../../electron/core/engine/onnx/index.js';
import { createOnnxSession } from '../../native/onnx-runtime.js';
import { classifierModel } from '../../electron/core/engine/run.js';
import { saveModelFolder } from '../../electron/core/engine/model-folder.js';
import { defaultConfig } from '../../electron/core/engine/config.js';
import { PREPROCESSING, decodeForModel } from '../../electron/core/import/preprocess.js';
import { createRun, markRunning, finishRun } from '../../electron/core/training/runs.js';
import { CLIPART } from '../fixtures/datasets.js';

export const LABELS = ['beverage', 'bird', 'bug', 'fruit', 'hardware', 'mammal', 'music', 'vehicle'];
/** 14×14×64: cheap enough for tfjs-cpu references (about 1 s an image here). */
export const FEATURE_LAYER = 'block_6_project_BN';

let base: Promise<Base> | null = null;
export function mobilenet(): Promise<Base> {
  base ??= loadBaseFolder(path.join(builtInBasesDir, 'mobilenet_v2'));
  return base;
}

/**
 * Standardization statistics from real pooled features (two images per label, through ONNX
 * Runtime for speed), as training computes them: with made-up ones the random head gives every
 * image the same label.
 */
async function featureStatsOf(b: Base, dim: number): Promise<{ mean: Float32Array; variance: Float32Array }> {
  const converted = convertToOnnxDetailed(b.model, {
    inputScaling: b.scaling,
    outputs: [{ layer: FEATURE_LAYER, pool: 'avg' }],
  });
  const { session } = await createOnnxSession(converted.bytes, { providers: ['cpu'] });
  const files = LABELS.flatMap((l) => [clipartFile(l, 20), clipartFile(l, 21)]);
  const pixels = await Promise.all(files.map(async (f) => (await decodeForModel(fs.readFileSync(f), b.inputSize)).data));
  const out = await runBatches(session, pixels, 16);
  await session.release();
  const flat = out.outputs[converted.outputs[0]!.name]!;
  const rows = Array.from({ length: files.length }, (_, i) => flat.slice(i * dim, (i + 1) * dim));
  return featureStats(rows);
}

export function writeRunRow(db: Db, projectId: number, folder: string, baseId = 'mobilenet_v2'): number {
  const runId = createRun(db, projectId, baseId, defaultConfig('head', { featureLayer: FEATURE_LAYER }));
  markRunning(db, runId, 'fixture');
  finishRun(db, runId, 'done', { modelFolder: folder });
  return runId;
}

/** A finished run on the project: MobileNetV2 to FEATURE_LAYER + standardize + Dense softmax. */
export async function writeMobileNetRun(db: Db, projectId: number, folder: string, seed = 7): Promise<number> {
  const b = await mobilenet();
  const dim = (b.model.getLayer(FEATURE_LAYER).outputShape as number[])[3]!;
  const stats = await featureStatsOf(b, dim);
  const head = new Head(dim, LABELS.length, { denseUnits: 0, dropout: 0.2 }, seed, stats);
  try {
    await saveModelFolder(classifierModel(b.model, FEATURE_LAYER, head, b), folder);
  } finally {
    head.dispose();
  }
  writeModelSidecars(folder, LABELS, b.inputSize, b.id);
  return writeRunRow(db, projectId, folder);
}

export function writeModelSidecars(folder: string, labels: string[], inputSize: number, baseId: string): void {
  fs.writeFileSync(path.join(folder, 'labels.json'), JSON.stringify(labels));
  fs.writeFileSync(
    path.join(folder, 'config.json'),
    JSON.stringify({ base: baseId, inputSize, preprocessing: PREPROCESSING, featureLayer: FEATURE_LAYER }),
  );
}

/** A run whose model has a layer the ONNX converter does not know (LayerNormalization). */
export async function writeUnconvertibleRun(db: Db, projectId: number, folder: string, labels: string[]): Promise<number> {
  const size = 32;
  const input = tf.input({ shape: [size, size, 3], name: 'pixels' });
  let x = tf.layers.rescaling({ scale: 1 / 255, offset: 0, name: 'input_scaling' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers
    .conv2d({
      filters: 8,
      kernelSize: 3,
      strides: 2,
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
      name: 'conv',
    })
    .apply(x) as tf.SymbolicTensor;
  x = tf.layers.layerNormalization({ name: 'odd_norm' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: labels.length, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }), name: 'classes' })
    .apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  await saveModelFolder(model, folder);
  model.dispose();
  writeModelSidecars(folder, labels, size, 'tiny');
  return writeRunRow(db, projectId, folder, 'tiny');
}

export function clipartFile(label: string, index: number): string {
  const dir = path.join(CLIPART, label);
  return path.join(
    dir,
    fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.jpg'))
      .sort()[index]!,
  );
}
