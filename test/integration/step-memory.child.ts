// The child of step-memory.test.ts: one strategy-1 step of MobileNetV2 at 224 px as the app takes
// it (whole network trainable, the native step, micro-batches from the native memory budget), in
// a process of its own so its peak resident memory is the step's and nothing else's. Prints one
// JSON line: the peak (maxRSS, warm-up and all) and the micro-batch.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { selectEngine } from '../../electron/core/engine/backend.js';
import { loadBaseFolder } from '../../electron/core/engine/base.js';
import { resizedTrunk } from '../../electron/core/engine/graph.js';
import { Head } from '../../electron/core/engine/head.js';
import { trainLoop } from '../../electron/core/engine/loop.js';
import { microBatchFor } from '../../electron/core/engine/memory.js';
import { nativeHooks, nativeStepBudget, openNativeTrainer } from '../../electron/core/engine/ort-train/index.js';
import { baseDir } from '../fixtures/environment.js';

const SIZE = 224;
const BATCH = 16;
// Two passes of the budget's micro-batch: the peak of one pass plus the gradients summed across passes.
const IMAGES = Number(process.argv[2] ?? 0);

await selectEngine('portable-wasm');
const base = await loadBaseFolder(baseDir('mobilenet_v2'));
const net = resizedTrunk(base.model, base.featureLayer, SIZE);
const variables: tf.Variable[] = [];
for (const layer of net.layers) {
  if (layer.weights.length === 0) continue;
  layer.trainable = true;
  variables.push(...layer.trainableWeights.map((w) => w.read() as tf.Variable));
}
const head = new Head(1280, 8, { denseUnits: 0, dropout: 0.2 }, 1);
const opened = await openNativeTrainer(net, head, [...variables, ...head.variables()]);
if ('reason' in opened) throw new Error(`ONNX Runtime does not cover MobileNetV2: ${opened.reason}`);
const microBatch = microBatchFor(net, BATCH, nativeStepBudget());
const images = IMAGES || 2 * microBatch;
const xs = tf.randomUniform([images, SIZE, SIZE, 3], -1, 1, 'float32', 1);
const batch = (ids: number[]) => tf.gather(xs, ids);
const train = Array.from({ length: images }, (_, i) => i);
await trainLoop({
  phase: 'finetune',
  train,
  validation: [],
  labelOf: (i) => i % 8,
  classes: 8,
  batch,
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
  ...nativeHooks(opened.trainer, head, batch),
});
console.log(JSON.stringify({ peakMB: Math.round(process.resourceUsage().maxRSS / 1024), microBatch, images }));
