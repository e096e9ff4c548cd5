// A step split into micro-batches is the same step: summed gradients, one update.
import { expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { trainLoop, type LoopSpec } from '../../electron/core/engine/loop.js';
import { microBatchFor } from '../../electron/core/engine/memory.js';

async function train(microBatch: number | undefined): Promise<{ w: Float32Array; losses: number[] }> {
  await tf.setBackend('cpu');
  const n = 24;
  const x = tf.randomNormal([n, 5], 0, 1, 'float32', 1);
  const labels = Array.from({ length: n }, (_, i) => i % 3);
  const w = tf.tidy(() => tf.variable(tf.randomNormal([5, 3], 0, 0.1, 'float32', 2)));
  const b = tf.tidy(() => tf.variable(tf.zeros([3])));
  const spec: LoopSpec = {
    phase: 'finetune',
    train: Array.from({ length: n }, (_, i) => i),
    validation: [],
    labelOf: (i) => labels[i]!,
    classes: 3,
    batch: (ids) => tf.gather(x, ids),
    forward: (t) => tf.softmax(tf.add(tf.matMul(t, w), b)),
    variables: [w, b],
    epochs: 3,
    batchSize: 8,
    microBatch,
    lr: 0.05,
    seed: 7,
    classWeights: [1, 2, 0.5],
    penalty: () => tf.mul(0.01, tf.sum(tf.square(w))) as tf.Scalar,
    patience: 10,
    isCancelled: () => false,
    onEpoch: () => {},
  };
  const records = await trainLoop(spec);
  const out = { w: w.dataSync() as Float32Array, losses: records.map((r) => r.loss) };
  tf.dispose([x, w, b]);
  return out;
}

it('micro-batches of 3 (and 1) give the same weights and losses as whole batches of 8', async () => {
  await tf.setBackend('cpu');
  const tensors = tf.memory().numTensors;
  const whole = await train(undefined);
  for (const micro of [3, 1]) {
    const split = await train(micro);
    split.w.forEach((v, i) => expect(Math.abs(v - whole.w[i]!)).toBeLessThan(1e-5));
    split.losses.forEach((l, i) => expect(Math.abs(l - whole.losses[i]!)).toBeLessThan(1e-5));
  }
  expect(tf.memory().numTensors).toBe(tensors);
});

it('sizes micro-batches from the model: big inputs get fewer images per pass', () => {
  const model = (size: number) => {
    const input = tf.input({ shape: [size, size, 3] });
    const out = tf.layers.conv2d({ filters: 64, kernelSize: 3, padding: 'same' }).apply(input) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: out });
  };
  // 224² × (3 + 64) floats = 13.4 MB of outputs per image, ×4 kept → 29 images fit 1.5 GB.
  expect(microBatchFor(model(224), 64)).toBe(29);
  expect(microBatchFor(model(224), 16)).toBe(16);
  expect(microBatchFor(model(2048), 16)).toBe(1);
});
