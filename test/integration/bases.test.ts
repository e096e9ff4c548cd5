// The build step and the base loader, on the real nsfwjs models.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildBases } from '../../build/bases/build-bases.js';
import { truncateAt, applyScaling } from '../../electron/core/engine/base.js';
import { builtInRegistry, loadBase, readBaseInfo, baseDir } from '../fixtures/environment.js';

const require = createRequire(import.meta.url);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bases-'));

beforeAll(async () => {
  await tf.setBackend('cpu');
  await buildBases(); // fast when already built
}, 120_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('built-in bases', () => {
  it('lists MobileNetV2 (224 px) and InceptionV3 (299 px) with their metadata', () => {
    const bases = builtInRegistry.builtIns();
    expect(bases.map((b) => b.id)).toEqual(['inception_v3', 'mobilenet_v2']);
    const mnet = bases.find((b) => b.id === 'mobilenet_v2')!;
    expect(mnet.inputSize).toBe(224);
    expect(mnet.scaling).toEqual({ from: [0, 255], to: [0, 1] });
    expect(mnet.featureLayer).toBe('out_relu');
    expect(mnet.featureShape).toEqual([7, 7, 1280]);
    expect(mnet.blocks.map((b) => b.name)).toEqual(['block_0', ...Array.from({ length: 16 }, (_, i) => `block_${i + 1}`), 'out_relu']);
    expect(mnet.blocks.find((b) => b.name === 'block_13')).toMatchObject({
      layer: 'block_13_project_BN',
      outputShape: [7, 7, 160],
      expandLayer: 'block_13_expand_relu',
      expandOutputShape: [14, 14, 576],
    });
    expect(mnet.source).toMatch(/^nsfwjs \d+\.\d+\.\d+ \(MIT\)/);
    expect(mnet.strategies).toEqual([1, 2, 3]);
    const inc = bases.find((b) => b.id === 'inception_v3')!;
    expect(inc.inputSize).toBe(299);
    expect(inc.featureLayer).toBe('mixed10');
    expect(inc.featureShape).toEqual([8, 8, 2048]);
    expect(inc.blocks.map((b) => b.layer)).toEqual(Array.from({ length: 11 }, (_, i) => `mixed${i}`));
  });

  it('holds float32 weights without the nsfwjs classifier', () => {
    const json = JSON.parse(fs.readFileSync(path.join(baseDir('mobilenet_v2'), 'model.json'), 'utf8'));
    const specs = json.weightsManifest.flatMap((g: { weights: { dtype: string; quantization?: unknown; name: string }[] }) => g.weights);
    expect(specs.every((s: { dtype: string; quantization?: unknown }) => s.dtype === 'float32' && s.quantization === undefined)).toBe(true);
    expect(specs.some((s: { name: string }) => s.name.startsWith('dense_'))).toBe(false);
    const layers = json.modelTopology.model_config.config.layers.map((l: { name: string }) => l.name);
    expect(layers).not.toContain('dense_3');
    expect(layers).not.toContain('average_pooling2d_1');
    expect(layers.at(-1)).toBe('out_relu');
  });

  it('dequantizes exactly as q·scale + min of the nsfwjs shard', async () => {
    const dir = path.dirname(require.resolve('nsfwjs')).replace(/dist[/\\](cjs|esm).*$/, 'dist');
    const src = require(path.join(dir, 'models/mobilenet_v2/model.min.js'));
    const first = src.weightsManifest[0].weights[0];
    const shard = Buffer.from(require(path.join(dir, 'models/mobilenet_v2/group1-shard1of1.min.js')), 'base64');
    const model = await loadBase('mobilenet_v2');
    const w = model.getLayer(first.name.split('/')[0]).getWeights()[0]!.dataSync();
    const q = first.quantization;
    for (const i of [0, 1, 17, 863]) expect(w[i]).toBeCloseTo(shard[i]! * q.scale + q.min, 6);
    model.dispose();
  });

  it('loads in plain Node and outputs the feature map; truncateAt cuts at a block', async () => {
    const model = await loadBase('mobilenet_v2');
    expect(model.outputs[0]!.shape).toEqual([null, 7, 7, 1280]);
    const cut = truncateAt(model, 'block_6_project_BN');
    expect(cut.outputs[0]!.shape).toEqual([null, 14, 14, 64]);
    const y = tf.tidy(
      () => cut.predict(applyScaling(tf.fill([1, 224, 224, 3], 128, 'int32'), readBaseInfo('mobilenet_v2').scaling)) as tf.Tensor,
    );
    expect(y.shape).toEqual([1, 14, 14, 64]);
    expect(Number.isFinite(y.max().dataSync()[0]!)).toBe(true);
    y.dispose();
    expect(() => truncateAt(model, 'no_such_layer')).toThrow(/no_such_layer/);
    model.dispose();
  });

  it('names a base that is not built', async () => {
    await expect(loadBase('resnet_999')).rejects.toThrow(/no base model "resnet_999"/);
  });
});

describe('build step', () => {
  it('builds into a fresh folder, skips when up to date, rebuilds a damaged folder', async () => {
    expect(await buildBases({ outRoot: tmp, only: ['mobilenet_v2'] })).toEqual({ mobilenet_v2: 'built' });
    const started = Date.now();
    expect(await buildBases({ outRoot: tmp, only: ['mobilenet_v2'] })).toEqual({ mobilenet_v2: 'up to date' });
    expect(Date.now() - started).toBeLessThan(2000);
    fs.truncateSync(path.join(tmp, 'mobilenet_v2', 'weights.bin'), 100);
    expect(await buildBases({ outRoot: tmp, only: ['mobilenet_v2'] })).toEqual({ mobilenet_v2: 'built' });
    expect(fs.readdirSync(tmp)).toEqual(['mobilenet_v2']);
  }, 120_000);
});
