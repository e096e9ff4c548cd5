// One row of `npm run bench:train`'s fine-tuning table, in its own process so each engine starts
// clean (the stock tfjs-cpu row must not have any of our kernels installed):
//
//   node --import tsx test/bench/train-epoch.ts ENGINE WORKLOAD SIZE
//     ENGINE    cpu-stock | wasm | native
//               wasm   = tfjs-wasm with our gradient kernels (the app's path when ONNX Runtime
//                        does not cover a layer, or with STUDIO_NATIVE_STEPS=0)
//               native = the app's path: the whole step in ONNX Runtime (ort-train/)
//     WORKLOAD  partial (strategy 2: MobileNetV2's block_16 + out_relu conv + head trainable,
//               on cached block_15_add activations) | full (strategy 1: the whole network)
//     SIZE      input pixels (224 for partial)
//
// Times one epoch over clipart-8's training split, batch 16, Adam, frozen BatchNorm, through the
// engine's own training loop (micro-batching, augmentation for strategy 1). When the epoch would
// take over 5 minutes, it times a fixed number of steps after one warm-up step and extrapolates
// — the output says so. Prints one JSON line.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { selectEngine } from '../../electron/core/engine/backend.js';
import { loadBaseFolder } from '../../electron/core/engine/base.js';
import { baseDir } from '../fixtures/environment.js';
import { scaleOffset } from '../../electron/core/models/scaling.js';
import { DEFAULT_AUGMENTATION, augment } from '../../electron/core/engine/augment.js';
import { FeatureCache } from '../../electron/core/engine/feature-cache.js';
import { cachedOutputs } from '../../electron/core/engine/frozen.js';
import { DEFAULT_COMPUTE_SETTINGS, frozenPass } from '../../electron/core/engine/compute-plan.js';
import { between, layersBetween, resizedTrunk } from '../../electron/core/engine/graph.js';
import { Head } from '../../electron/core/engine/head.js';
import { trainLoop, type LoopSpec } from '../../electron/core/engine/loop.js';
import { microBatchFor } from '../../electron/core/engine/memory.js';
import { nativeHooks, nativeStepBudget, openNativeTrainer } from '../../electron/core/engine/ort-train/index.js';
import { subSeed } from '../../electron/core/engine/seeded.js';
import { decodeForModel } from '../../electron/core/import/preprocess.js';
import { CLIPART } from '../fixtures/datasets.js';

const [engineArg, workload, sizeArg] = process.argv.slice(2) as ['cpu-stock' | 'wasm' | 'native', 'partial' | 'full', string];
const size = Number(sizeArg ?? 224);
const BATCH = 16;
const LIMIT_MS = 5 * 60_000;

if (engineArg === 'cpu-stock') await tf.setBackend('cpu');
else await selectEngine('portable-wasm');
await tf.ready();

const labels = fs.readdirSync(CLIPART).sort();
const files: { file: string; label: number }[] = [];
for (const [label, name] of labels.entries()) {
  fs.readdirSync(path.join(CLIPART, name))
    .sort()
    .forEach((f, i) => {
      if (i % 7 < 5) files.push({ file: path.join(CLIPART, name, f), label }); // the training split, as in train.bench.ts
    });
}
const base = await loadBaseFolder(baseDir('mobilenet_v2'));
const pixels = await Promise.all(files.map(async (f) => (await decodeForModel(fs.readFileSync(f.file), size)).data));

let net: tf.LayersModel;
let trainable: tf.layers.Layer[];
let batchOf: (ids: number[], epoch: number) => tf.Tensor;
if (workload === 'partial') {
  const boundary = 'block_15_add';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-epoch-'));
  const forward = await frozenPass(DEFAULT_COMPUTE_SETTINGS, base, [{ layer: boundary, pool: false }]);
  const items = files.map((f, i) => ({ source: { key: `${i}`, pixels: async () => pixels[i]! }, variant: 0 }));
  const maps = await cachedOutputs(
    { forward, cacheName: `bench/${boundary}`, pool: false, size: 224 },
    items,
    new FeatureCache(path.join(dir, 'cache')),
    DEFAULT_AUGMENTATION,
    { half: true, isCancelled: () => false },
  );
  fs.rmSync(dir, { recursive: true, force: true });
  net = between(base.model, boundary, base.featureLayer);
  trainable = layersBetween(base.model, boundary, base.featureLayer);
  const shape = (net.inputs[0]!.shape as number[]).slice(1);
  const per = maps[0]!.length;
  batchOf = (ids) => {
    const buf = new Float32Array(ids.length * per);
    ids.forEach((i, k) => buf.set(maps[i]!, k * per));
    return tf.tensor(buf, [ids.length, ...shape]);
  };
} else {
  net = resizedTrunk(base.model, base.featureLayer, size);
  trainable = net.layers;
  const per = size * size * 3;
  const { scale, offset } = scaleOffset(base.scaling);
  batchOf = (ids, epoch) => {
    const buf = new Float32Array(ids.length * per);
    ids.forEach((i, k) => {
      const px = augment(pixels[i]!, size, DEFAULT_AUGMENTATION, subSeed(1, `aug-${epoch}-${i}`));
      for (let j = 0; j < per; j++) buf[k * per + j] = px[j]! * scale + offset;
    });
    return tf.tensor4d(buf, [ids.length, size, size, 3]);
  };
}
const variables: tf.Variable[] = [];
for (const layer of trainable) {
  if (layer.weights.length === 0) continue;
  layer.trainable = true;
  variables.push(...layer.trainableWeights.map((w) => w.read() as tf.Variable));
}
const head = new Head(1280, labels.length, { denseUnits: 0, dropout: 0.2 }, 1);
let native: Partial<LoopSpec> = {};
let microBatch = microBatchFor(net, BATCH);
if (engineArg === 'native') {
  const opened = await openNativeTrainer(net, head, [...variables, ...head.variables()]);
  if ('reason' in opened) throw new Error(`ONNX Runtime does not cover this network: ${opened.reason}`);
  microBatch = microBatchFor(net, BATCH, nativeStepBudget());
  native = nativeHooks(opened.trainer, head, (ids, epoch) => batchOf(ids, epoch));
}
// Resident memory after the timed run's third step (allocators warm: ORT's arena grows on its
// first two steps) and after its last: flat when nothing leaks from step to step.
let rssWarmMB = 0;
const onBatch = (done: number) => {
  if (done === 3) rssWarmMB = process.memoryUsage().rss / 2 ** 20;
};
const spec = (train: number[]): LoopSpec => ({
  phase: 'finetune',
  train,
  validation: [],
  labelOf: (i) => files[i]!.label,
  classes: labels.length,
  batch: (ids, epoch) => batchOf(ids, epoch),
  forward: (x, training, step) => head.apply(tf.mean(net.apply(x, { training: false }) as tf.Tensor, [1, 2]), training, step),
  variables: [...variables, ...head.variables()],
  epochs: 1,
  batchSize: BATCH,
  microBatch,
  lr: 1e-4,
  seed: 1,
  classWeights: null,
  patience: 5,
  isCancelled: () => false,
  onEpoch: () => {},
  onBatch,
  ...native,
});

const all = files.map((_, i) => i);
const stepsPerEpoch = Math.ceil(all.length / BATCH);
// A first step (also the warm-up) tells whether a whole epoch fits in the time limit. On stock
// tfjs-cpu a full step of 16 images can take many minutes, so its probe step has 2 images.
const probe = engineArg === 'cpu-stock' ? 2 : BATCH;
const t0 = performance.now();
await trainLoop(spec(all.slice(0, probe)));
const firstMs = performance.now() - t0;
const cpu0 = process.cpuUsage();
let result: Record<string, unknown>;
const t = performance.now();
if ((firstMs * BATCH * stepsPerEpoch) / probe <= LIMIT_MS) {
  await trainLoop(spec(all));
  const epochMs = performance.now() - t;
  result = { epochMs, msPerStep: epochMs / stepsPerEpoch, timed: `the whole epoch (${stepsPerEpoch} steps)`, extrapolated: false };
} else {
  // One more step of `probe` images, timed, scaled to the batch and the epoch.
  await trainLoop(spec(all.slice(probe, 2 * probe)));
  const msPerStep = ((performance.now() - t) * BATCH) / probe;
  result = {
    epochMs: msPerStep * stepsPerEpoch,
    msPerStep,
    timed: `1 step of ${probe} images after a warm-up step, scaled to ${BATCH} images × ${stepsPerEpoch} steps`,
    extrapolated: true,
  };
}
const wall = performance.now() - t;
const cpu = process.cpuUsage(cpu0);
// Cores in use while timed: CPU time of every thread of this process over wall time.
const cores = (cpu.user + cpu.system) / 1000 / wall;
// Peak: the most this process was resident at any time so far, warm-up included (maxRSS is in KiB).
const rssMB = {
  afterStep3: Math.round(rssWarmMB),
  afterLastStep: Math.round(process.memoryUsage().rss / 2 ** 20),
  peak: Math.round(process.resourceUsage().maxRSS / 1024),
};
console.log(
  JSON.stringify({
    engine: engineArg,
    backend: tf.getBackend(),
    workload,
    size,
    batch: BATCH,
    microBatch,
    trainImages: all.length,
    stepsPerEpoch,
    firstStepMs: firstMs,
    cores,
    rssMB,
    ...result,
  }),
);
