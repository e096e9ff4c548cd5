// What 8-bit weights would cost, shown before the user saves: sizes of the TF.js model float and
// quantized, and the test-split accuracy of each (quantized weights run in tfjs on the parity
// backend — wasm, else cpu — dequantized by tfjs's own loader, on pixels from the app's preprocessing).
import fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import type { Db } from '../db/connection.js';
import type { DataPaths } from '../paths.js';
import { decodeForModel } from '../import/preprocess.js';
import { loadRunSource, type RunSource } from './run-source.js';
import { modelJson, quantizeUint8, readTfjsFolder, type TfjsArtifacts } from './tfjs-artifacts.js';
import { appPredictions, runOnnxBytes, type AppPredictions } from './app-predict.js';
import { accuracyOf, compare, onParityBackend } from './parity.js';

export interface QuantizePreview {
  runId: number;
  quantize: boolean;
  images: number;
  sizes: { tfjsFloatBytes: number; tfjsQuantizedBytes: number; onnxBytes: number };
  floatAccuracy: number | null;
  quantizedAccuracy: number | null;
  /** quantized − float test accuracy (≤ 0 usually); null without test images. */
  accuracyDelta: number | null;
  /** Largest probability change quantization causes on the test split. */
  maxAbsDiff: number;
  agreement: number;
}

export function tfjsBytes(a: TfjsArtifacts): number {
  return a.weightData.length + Buffer.byteLength(JSON.stringify(modelJson(a)));
}

/** Probabilities from in-memory tfjs artifacts on the parity backend (wasm, else cpu). */
export async function tfjsPredictions(
  a: TfjsArtifacts,
  size: number,
  pixels: (i: number) => Promise<Uint8Array>,
  count: number,
  batchSize = 8,
): Promise<Float32Array[]> {
  const weightData = a.weightData.buffer.slice(a.weightData.byteOffset, a.weightData.byteOffset + a.weightData.byteLength) as ArrayBuffer;
  const artifacts = { modelTopology: a.modelTopology, weightSpecs: a.weightSpecs, weightData, format: a.format };
  return onParityBackend(async () => {
    const model: tf.LayersModel | tf.GraphModel =
      a.format === 'graph-model'
        ? await tf.loadGraphModel(tf.io.fromMemory(artifacts))
        : await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    try {
      const out: Float32Array[] = [];
      const per = size * size * 3;
      for (let i = 0; i < count; i += batchSize) {
        const n = Math.min(batchSize, count - i);
        const buf = new Float32Array(n * per);
        for (let k = 0; k < n; k++) buf.set(await pixels(i + k), k * per);
        const probs = tf.tidy(() => (model.predict(tf.tensor4d(buf, [n, size, size, 3])) as tf.Tensor).dataSync() as Float32Array);
        const classes = probs.length / n;
        for (let k = 0; k < n; k++) out.push(probs.slice(k * classes, (k + 1) * classes));
        await new Promise<void>((r) => setImmediate(r));
      }
      return out;
    } finally {
      model.dispose();
    }
  });
}

export async function previewFor(db: Db, src: RunSource, quantize: boolean, app?: AppPredictions): Promise<QuantizePreview> {
  await tf.ready();
  const float = readTfjsFolder(src.modelDir);
  const quant = quantizeUint8(float);
  // A run on a graph-model base has no ONNX form (predict/onnx-model.ts: GRAPH_NOT_ONNX).
  const onnxBytes = float.format === 'graph-model' ? 0 : (await runOnnxBytes(src.modelDir)).bytes.length;
  const files = src.testImages.map((i) => i.file);
  const truth = src.testImages.map((i) => i.labelIndex);
  const reference = app ?? (await appPredictions(db, src.run.id, files));
  const floatAccuracy = accuracyOf(reference.probs, truth);
  let quantizedProbs = reference.probs;
  if (quantize) {
    const size = src.config.inputSize;
    quantizedProbs = await tfjsPredictions(
      quant,
      size,
      async (i) => (await decodeForModel(fs.readFileSync(files[i]!), size)).data,
      files.length,
    );
  }
  const quantizedAccuracy = accuracyOf(quantizedProbs, truth);
  const { maxAbsDiff, agreement } = compare(reference.probs, quantizedProbs);
  return {
    runId: src.run.id,
    quantize,
    images: files.length,
    sizes: { tfjsFloatBytes: tfjsBytes(float), tfjsQuantizedBytes: tfjsBytes(quant), onnxBytes },
    floatAccuracy,
    quantizedAccuracy,
    accuracyDelta: floatAccuracy === null || quantizedAccuracy === null ? null : quantizedAccuracy - floatAccuracy,
    maxAbsDiff,
    agreement,
  };
}

export async function quantizePreview(db: Db, paths: DataPaths, runId: number, quantize = true): Promise<QuantizePreview> {
  return previewFor(db, loadRunSource(db, paths, runId), quantize);
}
