// The model store on real files and real HTTP: import of tfjs folders (valid, malformed, no
// scaling, graph), and catalogue downloads from a local server (success, checksum, 404, cancel).
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { SourceRegistry } from '../../electron/core/sources.js';
import { ModelRegistry } from '../../electron/core/models/registry.js';
import { loadGraphModelFolder, loadModelFolder } from '../../electron/core/engine/model-folder.js';
import { builtInBasesDir } from '../fixtures/environment.js';
import { buildBases } from '../../build/bases/build-bases.js';
import { importModelFolder, modelsRoot, removeModel, loadStoredLayersModel, sweepModelStore } from '../../electron/core/models/store.js';
import { downloadModel, type DownloadProgress } from '../../electron/core/models/download.js';
import { describeFolder, loadCatalogue } from '../../electron/core/models/catalogue.js';
import { ModelStoreError, type ModelFailure } from '../../electron/core/models/errors.js';
import { DownloadRegistry, modelHandlers, type ModelsCtx } from '../../electron/core/models/handlers.js';
import type { CatalogueEntry, ModelEventName } from '../../electron/shared/contract-models.js';
import { ImportResult, modelEvents } from '../../electron/shared/contract-models.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'model-store-'));
const ctx = { models: new ModelRegistry(builtInBasesDir, path.join(tmp, 'data', 'models')) };
const fixtures = path.join(tmp, 'fixtures');
let tiny: tf.LayersModel;
let probe: tf.Tensor4D;

/** The small IO handler of the brief: writes model.json and weights.bin as tfjs serialises them. */
async function saveTo(model: tf.LayersModel, dir: string, extra: Record<string, unknown> | null = null): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const data = a.weightData ? tf.io.CompositeArrayBuffer.join(a.weightData) : new ArrayBuffer(0);
      fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(data));
      fs.writeFileSync(
        path.join(dir, 'model.json'),
        JSON.stringify({
          format: 'layers-model',
          generatedBy: 'test',
          convertedBy: null,
          modelTopology: a.modelTopology,
          weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
        }),
      );
      if (extra) fs.writeFileSync(path.join(dir, 'metadata.json'), JSON.stringify(extra));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

function tinyCnn(inputShape: number[] = [8, 8, 3]): tf.LayersModel {
  return tf.sequential({
    name: 'tiny',
    layers: [
      tf.layers.conv2d({ inputShape, filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c1' }),
      tf.layers.maxPooling2d({ poolSize: 2, name: 'p1' }),
      tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c2' }),
      tf.layers.globalAveragePooling2d({ name: 'gap' }),
      tf.layers.dense({ units: 2, activation: 'softmax', name: 'head' }),
    ],
  });
}

/** Every path and size under the store, temporary folders included: "unchanged" means equal. */
function storeSnapshot(): string[] {
  const root = modelsRoot(ctx);
  if (!fs.existsSync(root)) return [];
  return (fs.readdirSync(root, { recursive: true }) as string[]).map((p) => `${p}:${fs.statSync(path.join(root, p)).size}`).sort();
}

function copyFixture(name: string, from = 'plain'): string {
  const dir = path.join(fixtures, name);
  fs.cpSync(path.join(fixtures, from), dir, { recursive: true });
  return dir;
}

function editModelJson(dir: string, edit: (j: Record<string, any>) => void): void {
  const file = path.join(dir, 'model.json');
  const j = JSON.parse(fs.readFileSync(file, 'utf8'));
  edit(j);
  fs.writeFileSync(file, JSON.stringify(j));
}

async function expectRefusal(promise: Promise<unknown>, reason: ModelFailure, message: RegExp): Promise<ModelStoreError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, `expected a refusal (${reason})`).toBeInstanceOf(ModelStoreError);
  expect((err as ModelStoreError).reason).toBe(reason);
  expect((err as ModelStoreError).message).toMatch(message);
  return err as ModelStoreError;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  if (ctx.models.builtIns().length === 0) await buildBases();
  tiny = tinyCnn();
  probe = tf.randomUniform([3, 8, 8, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
  await saveTo(tiny, path.join(fixtures, 'plain'));
  await saveTo(tiny, path.join(fixtures, 'described'), { name: 'Tiny CNN', source: 'made by the test', scaling: '[0,1]' });
}, 180_000);

afterAll(() => {
  tiny?.dispose();
  probe?.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('listing', () => {
  it('starts with the built-in bases and says where they come from', () => {
    const models = ctx.models.list();
    const ids = models.map((m) => m.id);
    expect(ids.slice(0, 2).sort()).toEqual(['inception_v3', 'mobilenet_v2']);
    const mnet = models.find((m) => m.id === 'mobilenet_v2')!;
    expect(mnet).toMatchObject({
      origin: 'builtin',
      format: 'layers',
      inputSize: 224,
      strategies: [1, 2, 3],
      limitation: null,
      scaling: { from: [0, 255], to: [0, 1] },
    });
    expect(mnet.source).toMatch(/nsfwjs.*\(MIT\).*ImageNet-initiali[sz]ed.*5-class/);
    expect(mnet.bytes).toBeGreaterThan(1_000_000);
  });
});

describe('import', () => {
  it('imports a valid layers folder that states its scaling, and loads back with equal predictions', async () => {
    const tensors = tf.memory().numTensors;
    const info = await importModelFolder(ctx, path.join(fixtures, 'described'));
    expect(tf.memory().numTensors).toBe(tensors);
    expect(info).toMatchObject({
      id: 'tiny_cnn',
      name: 'Tiny CNN',
      source: 'made by the test',
      origin: 'imported',
      format: 'layers',
      inputSize: 8,
      strategies: [1, 2, 3],
      limitation: null,
    });
    expect(info.scaling).toEqual({ from: [0, 255], to: [0, 1] });
    const dir = ctx.models.folder(info.id);
    expect(fs.readdirSync(dir).sort()).toEqual(['metadata.json', 'model.json', 'weights.bin']);
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'metadata.json'), 'utf8'));
    // Same shape as the built-in bases' metadata, so the engine reads both alike.
    expect(Object.keys(meta)).toEqual(expect.arrayContaining(Object.keys(ctx.models.builtIns()[0]!)));
    expect(meta.featureLayer).toBe('c2');
    expect(meta.featureShape).toEqual([4, 4, 8]);
    expect(meta.blocks.map((b: { layer: string }) => b.layer)).toEqual(['c1', 'c2']);

    const loaded = await loadModelFolder(dir);
    const again = await loadStoredLayersModel(ctx, info.id);
    const want = (tiny.predict(probe) as tf.Tensor).arraySync();
    expect((loaded.predict(probe) as tf.Tensor).arraySync()).toEqual(want);
    expect((again.predict(probe) as tf.Tensor).arraySync()).toEqual(want);
    loaded.dispose();
    again.dispose();
    expect(ctx.models.list().map((m) => m.id)).toContain('tiny_cnn');

    // The same folder again gets its own id rather than overwriting the first.
    const second = await importModelFolder(ctx, path.join(fixtures, 'described'));
    expect(second.id).toBe('tiny_cnn_2');
    removeModel(ctx, second.id);
    expect(ctx.models.list().map((m) => m.id)).not.toContain('tiny_cnn_2');
    await expectRefusal(
      Promise.resolve().then(() => removeModel(ctx, 'mobilenet_v2')),
      'exists',
      /built-in/,
    );
  });

  it('asks for the input scaling when the folder does not say it, then imports with the answer', async () => {
    const before = storeSnapshot();
    const err = await expectRefusal(importModelFolder(ctx, path.join(fixtures, 'plain')), 'needsScaling', /\[0,1\], \[-1,1\], \[0,255\]/);
    expect(err.code).toBe('invalid');
    expect(storeSnapshot()).toEqual(before);

    const info = await importModelFolder(ctx, path.join(fixtures, 'plain'), { scaling: '[-1,1]' });
    expect(info).toMatchObject({ id: 'plain', origin: 'imported', scaling: { from: [0, 255], to: [-1, 1] } });
    expect(info.source).toMatch(/Imported from the folder “plain”.*licence not recorded/);
    removeModel(ctx, info.id);
  });

  it('handler: needsScaling hands back a fresh token for the second call', async () => {
    const sources = new SourceRegistry();
    const hctx: ModelsCtx = { ...ctx, sources, downloads: new DownloadRegistry(), emit: () => undefined };
    const first = ImportResult.parse(
      await modelHandlers['models.import'](hctx, {
        source: sources.register({ paths: [path.join(fixtures, 'plain')], displayName: 'plain' }),
      }),
    );
    expect(first.status).toBe('needsScaling');
    if (first.status !== 'needsScaling') return;
    expect(first.options).toEqual(['[0,1]', '[-1,1]', '[0,255]']);
    const second = ImportResult.parse(await modelHandlers['models.import'](hctx, { source: first.source, scaling: '[0,255]' }));
    expect(second.status).toBe('imported');
    if (second.status === 'imported') {
      expect(second.model.scaling).toEqual({ from: [0, 255], to: [0, 255] });
      await modelHandlers['models.remove'](hctx, { id: second.model.id });
    }
  });

  it('handler: accepts the folder files uploaded loose, refuses files from two folders', async () => {
    const sources = new SourceRegistry();
    const hctx: ModelsCtx = { ...ctx, sources, downloads: new DownloadRegistry(), emit: () => undefined };
    const described = path.join(fixtures, 'described');
    const loose = fs.readdirSync(described).map((f) => path.join(described, f));
    const result = ImportResult.parse(
      await modelHandlers['models.import'](hctx, { source: sources.register({ paths: loose, displayName: '3 files' }) }),
    );
    expect(result).toMatchObject({ status: 'imported', model: { name: 'Tiny CNN' } });
    if (result.status === 'imported') await modelHandlers['models.remove'](hctx, { id: result.model.id });
    const before = storeSnapshot();
    const mixed = sources.register({
      paths: [path.join(described, 'model.json'), path.join(fixtures, 'plain', 'weights.bin')],
      displayName: '2 files',
    });
    await expect(modelHandlers['models.import'](hctx, { source: mixed })).rejects.toThrow(/Pick one folder/);
    expect(storeSnapshot()).toEqual(before);
  });

  const outside = () => {
    fs.writeFileSync(path.join(fixtures, 'outside.bin'), fs.readFileSync(path.join(fixtures, 'plain', 'weights.bin')));
  };
  const cases: { name: string; make: (dir: string) => void | Promise<void>; reason: ModelFailure; message: RegExp }[] = [
    { name: 'no model.json', make: (d) => fs.rmSync(path.join(d, 'model.json')), reason: 'noModelJson', message: /no model\.json/ },
    {
      name: 'model.json not JSON',
      make: (d) => fs.writeFileSync(path.join(d, 'model.json'), '{"modelTopology": '),
      reason: 'notJson',
      message: /not valid JSON/,
    },
    {
      name: 'not a tfjs model',
      make: (d) => fs.writeFileSync(path.join(d, 'model.json'), JSON.stringify({ hello: 'world' })),
      reason: 'notTfjs',
      message: /no modelTopology and weightsManifest/,
    },
    {
      name: 'no weightsManifest',
      make: (d) => editModelJson(d, (j) => delete j.weightsManifest),
      reason: 'notTfjs',
      message: /no weightsManifest/,
    },
    {
      name: 'unknown format',
      make: (d) => editModelJson(d, (j) => (j.format = 'saved-model')),
      reason: 'unknownFormat',
      message: /"saved-model"/,
    },
    {
      name: 'missing weight file',
      make: (d) => fs.rmSync(path.join(d, 'weights.bin')),
      reason: 'missingWeights',
      message: /"weights\.bin" listed in model\.json is missing/,
    },
    {
      name: 'weight file of the wrong length',
      make: (d) => fs.truncateSync(path.join(d, 'weights.bin'), fs.statSync(path.join(d, 'weights.bin')).size - 4),
      reason: 'wrongWeightSize',
      message: /"weights\.bin" holds 1700 bytes but model\.json describes 1704 bytes/,
    },
    {
      name: 'a weight shape that disagrees with the file',
      make: (d) => editModelJson(d, (j) => (j.weightsManifest[0].weights[0].shape = [3, 3, 3, 5])),
      reason: 'wrongWeightSize',
      message: /describes 1812 bytes \(6 weights\)/,
    },
    {
      name: 'manifest path with ../',
      make: (d) => {
        outside();
        editModelJson(d, (j) => (j.weightsManifest[0].paths = ['../outside.bin']));
      },
      reason: 'unsafePath',
      message: /"\.\.\/outside\.bin" goes up a folder/,
    },
    {
      name: 'absolute manifest path',
      make: (d) => {
        outside();
        editModelJson(d, (j) => (j.weightsManifest[0].paths = [path.join(fixtures, 'outside.bin')]));
      },
      reason: 'unsafePath',
      message: /is an absolute path/,
    },
    {
      name: 'weight file symlinked outside the folder',
      make: (d) => {
        outside();
        fs.rmSync(path.join(d, 'weights.bin'));
        fs.symlinkSync(path.join(fixtures, 'outside.bin'), path.join(d, 'weights.bin'));
      },
      reason: 'unsafePath',
      message: /links to a file outside/,
    },
    {
      name: 'input of one channel',
      make: async (d) => saveTo(tinyCnn([8, 8, 1]), d),
      reason: 'badInput',
      message: /input is \[null, 8, 8, 1\].*\[null, H, W, 3\]/,
    },
    {
      name: 'input that is not an image',
      make: async (d) => saveTo(tf.sequential({ layers: [tf.layers.dense({ inputShape: [10], units: 2 })] }), d),
      reason: 'badInput',
      message: /input is \[null, 10\]/,
    },
    {
      name: 'non-square input',
      make: async (d) => saveTo(tinyCnn([8, 12, 3]), d),
      reason: 'badInput',
      message: /8×12 pixels; only square/,
    },
    {
      name: 'a topology tfjs cannot build',
      make: (d) => editModelJson(d, (j) => (j.modelTopology.config.layers[0].class_name = 'NoSuchLayer')),
      reason: 'unloadable',
      message: /cannot build this layers model.*NoSuchLayer/,
    },
  ];

  for (const c of cases) {
    it(`refuses ${c.name}, leaving the store unchanged`, async () => {
      const dir = copyFixture(`bad-${c.name.replace(/\W+/g, '-')}`, 'described');
      await c.make(dir);
      const before = storeSnapshot();
      await expectRefusal(importModelFolder(ctx, dir, { scaling: '[0,1]' }), c.reason, c.message);
      expect(storeSnapshot()).toEqual(before);
    });
  }

  it('imports a graph model folder as "strategy 3 only", and it runs from the store', async () => {
    const dir = path.join(fixtures, 'graph');
    fs.mkdirSync(dir, { recursive: true });
    const w = tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 3) as tf.Tensor4D;
    fs.writeFileSync(path.join(dir, 'group1-shard1of1.bin'), Buffer.from(w.dataSync().buffer));
    const shape = (dims: number[]) => ({ dim: dims.map((size) => ({ size: String(size) })) });
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    fs.writeFileSync(
      path.join(dir, 'model.json'),
      JSON.stringify({
        format: 'graph-model',
        generatedBy: 'hand-written for the test',
        convertedBy: null,
        modelTopology: {
          node: [
            { name: 'images', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: shape([-1, 8, 8, 3]) } } },
            {
              name: 'w',
              op: 'Const',
              attr: { dtype: { type: 'DT_FLOAT' }, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: shape([3, 3, 3, 4]) } } },
            },
            {
              name: 'conv',
              op: 'Conv2D',
              input: ['images', 'w'],
              attr: {
                T: { type: 'DT_FLOAT' },
                strides: { list: { i: ['1', '1', '1', '1'] } },
                padding: { s: b64('SAME') },
                data_format: { s: b64('NHWC') },
                dilations: { list: { i: ['1', '1', '1', '1'] } },
              },
            },
            { name: 'features', op: 'Relu', input: ['conv'], attr: { T: { type: 'DT_FLOAT' } } },
          ],
          library: {},
          versions: {},
        },
        weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: [{ name: 'w', shape: [3, 3, 3, 4], dtype: 'float32' }] }],
      }),
    );
    fs.writeFileSync(path.join(dir, 'metadata.json'), JSON.stringify({ name: 'Hand graph', scaling: [-1, 1] }));

    const tensors = tf.memory().numTensors;
    const info = await importModelFolder(ctx, dir);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(info).toMatchObject({
      id: 'hand_graph',
      format: 'graph',
      strategies: [3],
      limitation: 'strategy 3 only',
      inputSize: 8,
      scaling: { from: [0, 255], to: [-1, 1] },
    });
    expect(ctx.models.list().find((m) => m.id === 'hand_graph')?.strategies).toEqual([3]);
    const meta = JSON.parse(fs.readFileSync(path.join(ctx.models.folder(info.id), 'metadata.json'), 'utf8'));
    expect(meta).toMatchObject({ format: 'graph', featureLayer: 'features', featureShape: [8, 8, 4], blocks: [] });
    await expectRefusal(loadStoredLayersModel(ctx, info.id), 'unknownFormat', /strategy 3/);

    const graph = await loadGraphModelFolder(ctx.models.folder(info.id));
    const got = (graph.predict(probe) as tf.Tensor).arraySync();
    const want = tf.relu(tf.conv2d(probe, w, 1, 'same')).arraySync();
    expect(got).toEqual(want);
    graph.dispose();
    w.dispose();
  });
});

describe('catalogue download', () => {
  let server: http.Server;
  let base = '';
  const served = () => path.join(fixtures, 'plain');

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const [, mode, name] = url.pathname.split('/');
      const file = path.join(served(), name ?? '');
      if ((mode !== 'ok' && mode !== 'slow') || !name || name.includes('..') || !fs.existsSync(file)) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not here');
        return;
      }
      const bytes = fs.readFileSync(file);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) });
      if (mode === 'ok') {
        res.end(bytes);
        return;
      }
      // 64 bytes every 40 ms: a weights file of ~1.7 KB takes about a second.
      let at = 0;
      const timer = setInterval(() => {
        if (res.destroyed) return clearInterval(timer);
        res.write(bytes.subarray(at, at + 64));
        at += 64;
        if (at >= bytes.length) {
          clearInterval(timer);
          res.end();
        }
      }, 40);
      res.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const entry = (id: string, mode = 'ok'): CatalogueEntry => ({
    id,
    name: `Tiny ${id}`,
    source: 'served by the test from a local folder',
    files: describeFolder(served(), `${base}/${mode}/`),
    metadata: { inputSize: 8, scaling: '[0,1]' },
  });

  it('the shipped catalogue parses', () => {
    expect(Array.isArray(loadCatalogue())).toBe(true);
  });

  it('downloads every file with progress, checks it, and the model predicts like the original', async () => {
    const events: DownloadProgress[] = [];
    const e = entry('dl_tiny');
    const total = e.files.reduce((s, f) => s + f.bytes, 0);
    const info = await downloadModel(ctx, e, { onProgress: (p) => events.push(p), progressEveryMs: 0 });
    expect(info).toMatchObject({ id: 'dl_tiny', origin: 'downloaded', format: 'layers', strategies: [1, 2, 3], bytes: total });
    expect(events.length).toBeGreaterThanOrEqual(2);
    expect(events.at(-1)).toMatchObject({ bytesDone: total, bytesTotal: total, etaMs: 0 });
    expect(events.map((p) => p.bytesDone)).toEqual([...events.map((p) => p.bytesDone)].sort((a, b) => a - b));
    expect(new Set(events.map((p) => p.file))).toEqual(new Set(['model.json', 'weights.bin']));
    const model = await loadStoredLayersModel(ctx, 'dl_tiny');
    expect((model.predict(probe) as tf.Tensor).arraySync()).toEqual((tiny.predict(probe) as tf.Tensor).arraySync());
    model.dispose();
    await expectRefusal(downloadModel(ctx, e), 'exists', /already in the store/);
  });

  it('refuses a checksum mismatch and keeps nothing', async () => {
    const e = entry('dl_badsum');
    const w = e.files.find((f) => f.path === 'weights.bin')!;
    w.sha256 = w.sha256.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    const before = storeSnapshot();
    await expectRefusal(downloadModel(ctx, e), 'checksum', /"weights\.bin" failed its checksum/);
    expect(storeSnapshot()).toEqual(before);
  });

  it('refuses a size that disagrees with the catalogue', async () => {
    const e = entry('dl_badsize');
    e.files.find((f) => f.path === 'weights.bin')!.bytes += 10;
    const before = storeSnapshot();
    await expectRefusal(downloadModel(ctx, e), 'checksum', /"weights\.bin" is 1704 bytes on the server but the catalogue says 1714/);
    expect(storeSnapshot()).toEqual(before);
  });

  it('refuses an HTTP 404, naming the file, and keeps nothing', async () => {
    const e = entry('dl_404');
    e.files.find((f) => f.path === 'weights.bin')!.url = `${base}/ok/group1-shard1of1.bin`;
    const before = storeSnapshot();
    await expectRefusal(downloadModel(ctx, e), 'http', /Downloading "weights\.bin" failed: HTTP 404/);
    expect(storeSnapshot()).toEqual(before);
  });

  it('cancels mid-download (served slowly) and keeps nothing', async () => {
    const controller = new AbortController();
    const events: DownloadProgress[] = [];
    const before = storeSnapshot();
    const started = Date.now();
    await expectRefusal(
      downloadModel(ctx, entry('dl_cancel', 'slow'), {
        signal: controller.signal,
        progressEveryMs: 0,
        onProgress: (p) => {
          events.push(p);
          if (p.file === 'weights.bin' && p.bytesDone > 0) controller.abort();
        },
      }),
      'cancelled',
      /cancelled/,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    const last = events.at(-1)!;
    expect(last.bytesDone).toBeLessThan(last.bytesTotal);
    expect(storeSnapshot()).toEqual(before);
    expect(fs.existsSync(path.join(modelsRoot(ctx), 'dl_cancel'))).toBe(false);
  });

  it('handler: download emits progress and a finished event; cancel ends as cancelled', async () => {
    const seen: { event: ModelEventName; payload: unknown }[] = [];
    const catalogue = [entry('h_tiny'), entry('h_slow', 'slow')];
    const hctx: ModelsCtx = {
      ...ctx,
      sources: new SourceRegistry(),
      downloads: new DownloadRegistry(),
      // Outgoing events are checked against their schemas, as the studio's bus does.
      emit: (event, payload) => seen.push({ event, payload: modelEvents[event].parse(payload) }),
      catalogue: () => catalogue,
    };
    const finished = (id: string) =>
      new Promise<Record<string, unknown>>((resolve) => {
        const t = setInterval(() => {
          const hit = seen.find((s) => s.event === 'models.downloadFinished' && (s.payload as { downloadId: string }).downloadId === id);
          if (hit) {
            clearInterval(t);
            resolve(hit.payload as Record<string, unknown>);
          }
        }, 20);
      });
    const items = await modelHandlers['models.catalogue'](hctx, {});
    expect(items.map((i) => [i.id, i.installed])).toEqual([
      ['h_tiny', false],
      ['h_slow', false],
    ]);
    const { downloadId } = await modelHandlers['models.download'](hctx, { entryId: 'h_tiny' });
    expect(await finished(downloadId)).toMatchObject({ status: 'done', message: null, model: { id: 'h_tiny' } });
    expect(seen.some((s) => s.event === 'models.downloadProgress')).toBe(true);
    expect((await modelHandlers['models.catalogue'](hctx, {})).find((i) => i.id === 'h_tiny')?.installed).toBe(true);

    const slow = await modelHandlers['models.download'](hctx, { entryId: 'h_slow' });
    await new Promise((r) => setTimeout(r, 200));
    await modelHandlers['models.cancelDownload'](hctx, { downloadId: slow.downloadId });
    expect(await finished(slow.downloadId)).toMatchObject({ status: 'cancelled', model: null });
    expect(fs.existsSync(path.join(modelsRoot(ctx), 'h_slow'))).toBe(false);
    expect(sweepModelStore(ctx)).toBe(0);
  });
});
