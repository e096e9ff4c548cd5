// Parity of ONNX Runtime with tfjs-cpu (the reference) for the built-in bases, on real
// clipart-8 images decoded by the app's one preprocessing step (decodeForModel).
// tfjs-cpu needs ~8 s per MobileNetV2 image and ~30 s per InceptionV3 image here, so few images.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildBases } from '../../build/bases/build-bases.js';
import { applyScaling, truncateAt } from '../../electron/core/engine/base.js';
import { loadBase, readBaseInfo } from '../fixtures/environment.js';
import { convertToOnnxDetailed, runBatches, runPipeline } from '../../electron/core/engine/onnx/index.js';
import { createOnnxSession } from '../../native/onnx-runtime.js';
import { decodeForModel } from '../../electron/core/import/preprocess.js';
import onnxProto from 'onnx-proto';
import { CLIPART } from '../fixtures/datasets.js';

function opCounts(bytes: Uint8Array): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of onnxProto.onnx.ModelProto.decode(bytes).graph!.node!) counts[n.opType!] = (counts[n.opType!] ?? 0) + 1;
  return counts;
}

const datasetDir = CLIPART;

function imageFile(label: string, index: number): string {
  const dir = path.join(datasetDir, label);
  return path.join(
    dir,
    fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.jpg'))
      .sort()[index]!,
  );
}

async function decode(files: string[], size: number): Promise<Uint8Array[]> {
  return Promise.all(files.map(async (f) => (await decodeForModel(fs.readFileSync(f), size)).data));
}

function tfjsForward(model: tf.LayersModel, images: Uint8Array[], size: number): Float32Array[] {
  const scaling = readBaseInfo('mobilenet_v2').scaling;
  return tf.tidy(() => {
    const all = new Int32Array(images.length * size * size * 3);
    images.forEach((img, i) => all.set(img, i * size * size * 3));
    const y = model.predict(applyScaling(tf.tensor4d(all, [images.length, size, size, 3], 'int32'), scaling));
    return (Array.isArray(y) ? y : [y as tf.Tensor]).map((t) => t.dataSync() as Float32Array);
  });
}

function parity(onnx: Float32Array, ref: Float32Array): { maxDiff: number; tol: number } {
  expect(onnx.length).toBe(ref.length);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < ref.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(onnx[i]! - ref[i]!));
    maxRef = Math.max(maxRef, Math.abs(ref[i]!));
  }
  expect(maxRef).toBeGreaterThan(0);
  return { maxDiff, tol: 1e-4 * Math.max(1, maxRef) };
}

function meanPool(data: Float32Array, n: number, hw: number, c: number): Float32Array {
  const out = new Float32Array(n * c);
  for (let b = 0; b < n; b++) for (let p = 0; p < hw; p++) for (let k = 0; k < c; k++) out[b * c + k]! += data[(b * hw + p) * c + k]! / hw;
  return out;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  await buildBases();
}, 120_000);

describe('MobileNetV2', () => {
  it('feature map matches tfjs-cpu on two real images', async () => {
    const info = readBaseInfo('mobilenet_v2');
    const model = await loadBase('mobilenet_v2');
    const converted = convertToOnnxDetailed(model, { inputScaling: info.scaling });
    expect(converted.input).toEqual({ name: 'image', type: 'uint8', shape: [null, 224, 224, 3] });
    expect(converted.outputs).toEqual([{ name: 'out_relu', layer: 'out_relu', pool: 'none', shape: [null, 7, 7, 1280] }]);
    // Every BatchNorm folded into its convolution; one transpose in (uint8), one out.
    const ops = opCounts(converted.bytes);
    expect(ops).toMatchObject({ Conv: 52, Transpose: 2, Cast: 1 });
    expect(ops.BatchNormalization).toBeUndefined();
    const images = await decode([imageFile('bird', 0), imageFile('vehicle', 3)], 224);
    const { session } = await createOnnxSession(converted.bytes);
    const got = await runBatches(session, images, 2);
    const [ref] = tfjsForward(model, images, 224);
    const p = parity(got.outputs.out_relu!, ref!);
    console.log(`MobileNetV2 out_relu: max|a−b| = ${p.maxDiff.toExponential(2)} (tolerance ${p.tol.toExponential(2)})`);
    expect(p.maxDiff).toBeLessThanOrEqual(p.tol);
    await session.release();
    model.dispose();
  }, 120_000);

  it('pooled activations of every block in one pass match tfjs-cpu', async () => {
    const info = readBaseInfo('mobilenet_v2');
    const model = await loadBase('mobilenet_v2');
    const layers = [...info.blocks.map((b) => b.layer), 'block_13_expand_relu'];
    const converted = convertToOnnxDetailed(model, {
      inputScaling: info.scaling,
      outputs: layers.map((layer) => ({ layer, pool: 'avg' as const })),
    });
    const images = await decode([imageFile('fruit', 5)], 224);
    const { session } = await createOnnxSession(converted.bytes);
    const got = await runBatches(session, images, 1);
    const probe = tf.model({ inputs: model.inputs, outputs: layers.map((l) => model.getLayer(l).output as tf.SymbolicTensor) });
    const refs = tfjsForward(probe, images, 224);
    layers.forEach((layer, i) => {
      const shape = model.getLayer(layer).outputShape as number[];
      const ref = meanPool(refs[i]!, 1, shape[1]! * shape[2]!, shape[3]!);
      const p = parity(got.outputs[`${layer}_avg`]!, ref);
      expect(p.maxDiff, layer).toBeLessThanOrEqual(p.tol);
    });
    await session.release();
    model.dispose();
  }, 120_000);

  it('a trained-model shape: frozen base cut at block 13 + GAP + Dense softmax head', async () => {
    const info = readBaseInfo('mobilenet_v2');
    const base = truncateAt(await loadBase('mobilenet_v2'), 'block_13_expand_relu');
    const x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(base.outputs[0]!) as tf.SymbolicTensor;
    const y = tf.layers
      .dropout({ rate: 0.3 })
      .apply(tf.layers.dense({ units: 16, activation: 'relu', name: 'hidden' }).apply(x)) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 8, activation: 'softmax', name: 'probs' }).apply(y) as tf.SymbolicTensor;
    const model = tf.model({ inputs: base.inputs, outputs: out });
    const converted = convertToOnnxDetailed(model, { inputScaling: info.scaling });
    const files = [imageFile('mammal', 1), imageFile('music', 2)];
    const { session } = await createOnnxSession(converted.bytes);
    // Through the decode-while-infer pipeline the engine uses.
    const got = await runPipeline(session, {
      batchSize: 2,
      count: files.length,
      decode: async (i) => (await decodeForModel(fs.readFileSync(files[i]!), 224)).data,
    });
    const [ref] = tfjsForward(model, await decode(files, 224), 224);
    const p = parity(got.outputs.probs!, ref!);
    expect(p.maxDiff).toBeLessThanOrEqual(p.tol);
    for (let i = 0; i < 2; i++) expect(got.outputs.probs!.slice(i * 8, i * 8 + 8).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    await session.release();
  }, 120_000);
});

describe('InceptionV3', () => {
  it('feature map matches tfjs-cpu on a real image at 299 px', async () => {
    const info = readBaseInfo('inception_v3');
    const model = await loadBase('inception_v3');
    const converted = convertToOnnxDetailed(model, { inputScaling: info.scaling });
    const ops = opCounts(converted.bytes);
    expect(ops).toMatchObject({ Conv: 94, Relu: 94, Concat: 15, MaxPool: 4, AveragePool: 9, Transpose: 2 });
    expect(ops.BatchNormalization).toBeUndefined();
    const images = await decode([imageFile('bug', 0)], 299);
    const { session } = await createOnnxSession(converted.bytes);
    const got = await runBatches(session, images, 1);
    const [ref] = tfjsForward(model, images, 299);
    // Every block boundary converts too (the engine never has to fall back to tfjs for a built-in base).
    const blocks = convertToOnnxDetailed(model, {
      inputScaling: info.scaling,
      outputs: info.blocks.map((b) => ({ layer: b.layer, pool: 'avg' as const })),
    });
    expect(blocks.outputs.map((o) => o.shape)).toEqual(info.blocks.map((b) => [null, b.outputShape[2]]));
    const p = parity(got.outputs.mixed10!, ref!);
    console.log(`InceptionV3 mixed10: max|a−b| = ${p.maxDiff.toExponential(2)} (tolerance ${p.tol.toExponential(2)})`);
    expect(p.maxDiff).toBeLessThanOrEqual(p.tol);
    await session.release();
    model.dispose();
  }, 180_000);
});
