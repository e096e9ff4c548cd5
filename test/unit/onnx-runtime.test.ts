// ONNX Runtime session set-up and the batch runners, on a tiny converted model.
import os from 'node:os';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { convertToOnnx, runBatches, runPipeline, runFeatureBatches } from '../../electron/core/engine/onnx/index.js';
import { createOnnxSession, candidateProviders } from '../../native/onnx-runtime.js';

const SCALING = { from: [0, 255] as [number, number], to: [0, 1] as [number, number] };

/** Global average of the scaled image: output = mean(pixels) / 255 per channel. */
function meanModel(): Uint8Array {
  const input = tf.input({ shape: [4, 4, 3] });
  const out = tf.layers.globalAveragePooling2d({ name: 'mean' }).apply(input) as tf.SymbolicTensor;
  return convertToOnnx(tf.model({ inputs: input, outputs: out }), { inputScaling: SCALING });
}

function image(value: number): Uint8Array {
  return new Uint8Array(4 * 4 * 3).fill(value);
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('createOnnxSession', () => {
  it('uses one intra-op thread per core and says which provider runs and why others did not', async () => {
    const s = await createOnnxSession(meanModel());
    expect(s.threads).toBe(os.availableParallelism());
    expect(candidateProviders()).toContain(s.provider);
    expect(candidateProviders().at(-1)).toBe('cpu');
    if (s.provider === 'cpu' && process.platform === 'linux') expect(s.skipped.map((k) => k.provider)).toContain('cuda');
    expect(s.session.inputNames).toEqual(['image']);
    expect(s.session.outputNames).toEqual(['mean']);
    await s.session.release();
  });

  it('rejects bytes that are not a model', async () => {
    await expect(createOnnxSession(new Uint8Array([1, 2, 3, 4]), { providers: ['cpu'] })).rejects.toThrow();
  });
});

describe('runners', () => {
  it('runBatches splits into batches and keeps image order', async () => {
    const { session } = await createOnnxSession(meanModel(), { providers: ['cpu'] });
    const images = [0, 51, 102, 153, 204].map(image);
    const r = await runBatches(session, images, 2);
    expect(r.count).toBe(5);
    expect(r.sizes.mean).toBe(3);
    expect(Array.from(r.outputs.mean!.filter((_, i) => i % 3 === 0)).map((v) => Math.round(v * 255))).toEqual([0, 51, 102, 153, 204]);
    await expect(runBatches(session, [new Uint8Array(10)], 1)).rejects.toThrow(/10 bytes, the model takes 48/);
    await session.release();
  });

  it('runPipeline decodes ahead, reports progress, and marks an undecodable image with NaN', async () => {
    const { session } = await createOnnxSession(meanModel(), { providers: ['cpu'] });
    const progress: number[] = [];
    const r = await runPipeline(session, {
      batchSize: 3,
      count: 7,
      decode: async (i) => {
        if (i === 4) throw new Error('corrupt');
        return image(i * 10);
      },
      onDecodeError: () => null,
      onProgress: (done) => progress.push(done),
    });
    expect(progress).toEqual([3, 6, 7]);
    const firstChannel = Array.from(r.outputs.mean!.filter((_, i) => i % 3 === 0));
    expect(firstChannel.map((v) => (Number.isNaN(v) ? 'NaN' : Math.round(v * 255)))).toEqual([0, 10, 20, 30, 'NaN', 50, 60]);
    await session.release();
  });

  it('runPipeline stops when cancelled', async () => {
    const { session } = await createOnnxSession(meanModel(), { providers: ['cpu'] });
    const ac = new AbortController();
    ac.abort();
    await expect(runPipeline(session, { batchSize: 2, count: 4, decode: async () => image(1), signal: ac.signal })).rejects.toThrow();
    await session.release();
  });
});

describe('a head on its own (features in, probabilities out)', () => {
  it('converts with a float input and matches tfjs-cpu', async () => {
    const input = tf.input({ shape: [20] });
    const hidden = tf.layers.dense({ units: 8, activation: 'relu' }).apply(input) as tf.SymbolicTensor;
    const probs = tf.layers
      .dense({ units: 4, activation: 'softmax', name: 'probs' })
      .apply(tf.layers.dropout({ rate: 0.4 }).apply(hidden)) as tf.SymbolicTensor;
    const head = tf.model({ inputs: input, outputs: probs });
    const features = Float32Array.from({ length: 5 * 20 }, (_, i) => Math.sin(i * 1.7) * 3);
    const { session } = await createOnnxSession(convertToOnnx(head), { providers: ['cpu'] });
    expect(session.inputNames).toEqual(['input']);
    const got = await runFeatureBatches(session, features, 2);
    const ref = tf.tidy(() => (head.predict(tf.tensor2d(features, [5, 20])) as tf.Tensor).dataSync());
    expect(got.count).toBe(5);
    let maxDiff = 0;
    ref.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - got.outputs.probs![i]!))));
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
    await session.release();
  });
});
