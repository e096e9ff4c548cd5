// The built-in bases' training steps in ONNX Runtime (ort-train/, how the app fine-tunes without
// a GPU) against stock tfjs-cpu's autodiff of the same network, head and loss: real weights,
// every layer trainable, frozen BatchNorm as in the app. Loss and every gradient within
// max|a−b| ≤ 1e-4 × max(1, max|a|).
//
// The reference has tfjs's 'same' average-pool gradient corrected (kernels/pool-grads.ts): stock
// tfjs divides border windows by their full size, which InceptionV3's mixed blocks would show.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { loadBaseFolder } from '../../electron/core/engine/base.js';
import { baseDir } from '../fixtures/environment.js';
import { between, resizedTrunk } from '../../electron/core/engine/graph.js';
import { Head } from '../../electron/core/engine/head.js';
import { OrtTrainer } from '../../electron/core/engine/ort-train/index.js';
import { allowAbsentSavedInputs } from '../../electron/core/engine/kernels/gradients.js';
import { installPoolGradients } from '../../electron/core/engine/kernels/pool-grads.js';
import { buildBases } from '../../build/bases/build-bases.js';

beforeAll(async () => {
  await buildBases(); // fast when already built
  await tf.setBackend('cpu');
  allowAbsentSavedInputs(); // without it stock tfjs cannot differentiate InceptionV3 at all
  installPoolGradients();
}, 900_000);

const LABELS = [0, 2];
const SHARE = Float32Array.of(0.25, 0.75);

interface Case {
  id: string;
  what: string;
  net: (model: tf.LayersModel, featureLayer: string) => tf.LayersModel;
}

const CASES: Case[] = [
  { id: 'mobilenet_v2', what: 'strategy 2 above block_15_add, at 224 px', net: (m, top) => between(m, 'block_15_add', top) },
  { id: 'mobilenet_v2', what: 'strategy 1, the whole network at 96 px', net: (m, top) => resizedTrunk(m, top, 96) },
  { id: 'inception_v3', what: 'strategy 1, the whole network at 75 px', net: (m, top) => resizedTrunk(m, top, 75) },
];

describe.each(CASES.map((c) => [c.id, c.what, c] as const))('%s, %s', (id, _what, c) => {
  it('ONNX Runtime step = stock tfjs-cpu (loss, probabilities, gradients)', async () => {
    const base = await loadBaseFolder(baseDir(id));
    const net = c.net(base.model, base.featureLayer);
    for (const l of net.layers) l.trainable = true;
    const features = (net.outputs[0]!.shape as number[])[3]!;
    const stats = { mean: new Float32Array(features).fill(0.3), variance: new Float32Array(features).fill(0.8) };
    const head = new Head(features, 3, { denseUnits: 0, dropout: 0.2 }, 1, stats);
    const trunkVars = net.trainableWeights.map((w) => w.read() as tf.Variable);
    const variables = [...trunkVars, ...head.variables()];
    const shape = [LABELS.length, ...(net.inputs[0]!.shape.slice(1) as number[])];
    const x = tf.randomUniform(shape, -1, 1.5, 'float32', 3);

    const trainer = await OrtTrainer.open(net, head.spec(), variables);
    expect(trainer.graph.params).toHaveLength(variables.length);
    const got = await trainer.step(x.dataSync() as Float32Array, shape, LABELS, SHARE, head.dropoutMask(LABELS.length, 2));

    const ref = tf.variableGrads(() => {
      const p = head.apply(tf.mean(net.apply(x, { training: false }) as tf.Tensor, [1, 2]), true, 2);
      const y = tf.oneHot(tf.tensor1d(LABELS, 'int32'), 3);
      return tf.sum(tf.mul(tf.neg(tf.sum(tf.mul(y, tf.log(tf.clipByValue(p, 1e-7, 1))), 1)), tf.tensor1d(SHARE))) as tf.Scalar;
    }, variables);
    const refLoss = ref.value.dataSync()[0]!;
    expect(Math.abs(got.loss - refLoss)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(refLoss)));

    const compared = variables;
    let worst = 0;
    const failures: string[] = [];
    for (const v of compared) {
      const a = got.grads[v.name]!;
      const b = ref.grads[v.name]!.dataSync();
      let scale = 1;
      let delta = 0;
      for (let i = 0; i < b.length; i++) {
        scale = Math.max(scale, Math.abs(b[i]!));
        delta = Math.max(delta, Math.abs(a[i]! - b[i]!));
      }
      worst = Math.max(worst, delta / scale);
      if (delta > 1e-4 * scale) failures.push(`${v.name}: max|Δ| ${delta} > ${1e-4 * scale}`);
    }
    console.log(
      `${id} ${_what}: ${compared.length} of ${variables.length} variables compared, loss ${refLoss.toFixed(6)} vs ${got.loss.toFixed(6)}, worst max|Δ|/max(1, max|g|) ${worst.toExponential(2)}`,
    );
    expect(failures).toEqual([]);

    const probs = tf.tidy(() => head.apply(tf.mean(net.apply(x, { training: false }) as tf.Tensor, [1, 2]), false, 0).dataSync());
    const predicted = await trainer.predict(x.dataSync() as Float32Array, shape);
    predicted.forEach((p, i) => expect(Math.abs(p - probs[i]!)).toBeLessThan(1e-4));

    trainer.dispose();
    tf.dispose([x, ref.value, ...Object.values(ref.grads)]);
    head.dispose();
    base.model.dispose();
  }, 600_000);
});
