// The native training step (ort-train/): for every layer type it covers, on small networks, the
// loss, the probabilities and every gradient ONNX Runtime computes match tfjs-cpu's autodiff of
// the same network and head (within 1e-4 × max(1, max|g|), as the wasm kernels are held to).
// Pooling (and dilation, which tfjs cannot differentiate) is held to central finite differences
// instead: stock tfjs's pooling gradients are not the derivative of its forward pass (AvgPool
// divides border windows by their full size; kernels/pool-grads.ts corrects that for the tfjs
// path, not installed here) — the last pooling test shows it.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Head } from '../../electron/core/engine/head.js';
import { OrtTrainer, openNativeTrainer, nativeHooks, COVERED_LAYERS } from '../../electron/core/engine/ort-train/index.js';
import { trainLoop, type LoopSpec } from '../../electron/core/engine/loop.js';
import { allowAbsentSavedInputs } from '../../electron/core/engine/kernels/gradients.js';
import { layerRates } from '../../electron/core/engine/recipe.js';
import {
  CONVOLUTIONS,
  LABELS,
  L,
  N,
  OTHERS,
  POOLING,
  SHARE,
  apply,
  closeTo,
  nativeStep,
  network,
  tfjsLoss,
} from './ort-step-graph.cases.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  allowAbsentSavedInputs(); // tfjs cannot differentiate BatchNorm without scale otherwise (backend.ts)
});

describe('native training step: every covered layer type matches tfjs-cpu', () => {
  for (const [k, c] of [...CONVOLUTIONS, ...OTHERS].entries()) {
    it(c.name, async () => {
      const { net, head, variables, x, trainer, step, out } = await nativeStep(c, 11 + k);
      const ref = tf.variableGrads(() => tfjsLoss(net, head, x, step), variables);
      expect(out.loss).toBeCloseTo(ref.value.dataSync()[0]!, 5);
      expect(Object.keys(out.grads).sort()).toEqual(variables.map((v) => v.name).sort());
      for (const v of variables) closeTo(out.grads[v.name]!, ref.grads[v.name]!.dataSync(), 1e-4, v.name);
      const probs = tf.tidy(() => head.apply(tf.mean(net.apply(x) as tf.Tensor, [1, 2]), false, 0).dataSync());
      closeTo(await trainer.predict(x.dataSync() as Float32Array, [N, ...c.shape]), probs, 1e-5, 'predict');
      trainer.dispose();
      tf.dispose([x, ref.value, ...Object.values(ref.grads)]);
    });
  }
});

describe('native training step: micro-batches (the memory budget splits a step)', () => {
  it('the summed gradients of k micro-batches equal the whole batch gradient', async () => {
    const { head, variables, x, trainer, step, out } = await nativeStep(OTHERS[2]!, 21);
    // Each pass takes its rows of the mask the whole batch used.
    const whole = head.dropoutMask(N, step)!;
    const mask = (a: number, b: number) => whole.slice(a * trainer.graph.featureDim, b * trainer.graph.featureDim);
    const shape = x.shape.slice(1) as number[];
    const per = shape.reduce((a, b) => a * b, 1);
    const data = x.dataSync() as Float32Array;
    // Rows [0, 1] then [2]: each its own pass, with its samples' shares of the whole batch's loss.
    const sums: Record<string, Float32Array> = {};
    let loss = 0;
    for (const [a, b] of [
      [0, 2],
      [2, 3],
    ] as const) {
      const part = await trainer.step(data.slice(a * per, b * per), [b - a, ...shape], LABELS.slice(a, b), SHARE.slice(a, b), mask(a, b));
      loss += part.loss;
      for (const [name, values] of Object.entries(part.grads)) {
        const sum = (sums[name] ??= new Float32Array(values.length));
        values.forEach((v, i) => (sum[i]! += v));
      }
    }
    expect(loss).toBeCloseTo(out.loss, 5);
    for (const v of variables) closeTo(sums[v.name]!, out.grads[v.name]!, 1e-4, v.name);
    trainer.dispose();
    x.dispose();
  });
});

describe('native training step: pooling and dilation match finite differences', () => {
  for (const [k, c] of POOLING.entries()) {
    it(c.name, async () => {
      const { net, pre, head, x, trainer, step, out } = await nativeStep(c, 41 + k);
      const [kernel, bias] = pre.trainableWeights.map((w) => w.read() as tf.Variable) as [tf.Variable, tf.Variable];
      for (const v of [bias, kernel]) {
        const at = v.dataSync().slice();
        const numeric = Array.from(at, (_, i) => {
          const h = 3e-4;
          const loss = (delta: number) => {
            const moved = at.slice();
            moved[i] = moved[i]! + delta;
            v.assign(tf.tensor(moved, v.shape));
            return tf.tidy(() => tfjsLoss(net, head, x, step).dataSync()[0]!);
          };
          const g = (loss(h) - loss(-h)) / (2 * h);
          v.assign(tf.tensor(at, v.shape));
          return g;
        });
        closeTo(out.grads[v.name]!, numeric, 3e-3, v.name);
      }
      trainer.dispose();
    });
  }

  it("tfjs's own pooling gradients are not the derivative of its forward pass (why ours are held to finite differences)", async () => {
    const c = POOLING[4]!; // AvgPool 'same': tfjs divides by the whole window at the borders
    const { net, pre, head, x, trainer, step, out } = await nativeStep(c, 44);
    const bias = pre.trainableWeights[1]!.read() as tf.Variable;
    const ref = tf.variableGrads(() => tfjsLoss(net, head, x, step), [bias]);
    const a = out.grads[bias.name]!;
    const b = ref.grads[bias.name]!.dataSync();
    expect(Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)))).toBeGreaterThan(1e-3);
    trainer.dispose();
  });
});

describe('native training step: what it covers, what it leaves frozen', () => {
  it('has a case above for every layer type it covers', () => {
    const tested = new Set<string>();
    for (const c of [...CONVOLUTIONS, ...OTHERS, ...POOLING]) {
      const input = tf.input({ shape: c.shape });
      const net = tf.model({ inputs: input, outputs: c.make(input) });
      for (const layer of net.layers) tested.add(layer.getClassName());
      net.dispose();
    }
    expect(COVERED_LAYERS.filter((cls) => !tested.has(cls))).toEqual([]);
  });

  it('a layer type it does not cover gives the reason, and the engine then trains in tfjs', async () => {
    const input = tf.input({ shape: [4, 4, 3] });
    const net = tf.model({
      inputs: input,
      outputs: apply(L.upSampling2d({ size: [2, 2], name: 'grow' }), apply(L.conv2d({ filters: 3, kernelSize: 1 }), input)),
    });
    const head = new Head(3, 2, { denseUnits: 0, dropout: 0 }, 1);
    const opened = await openNativeTrainer(net, head, [...net.trainableWeights.map((w) => w.read() as tf.Variable), ...head.variables()]);
    expect(opened).toEqual({ reason: 'grow: layer type UpSampling2D' });
  });

  it('only the variables asked for get gradients; the others are constants', async () => {
    const c = OTHERS[0]!;
    const { net, head } = network(c, 7);
    const frozen = net.layers.find((l) => l.getClassName() === 'Conv2D')!;
    const trainable = [
      ...net.layers.filter((l) => l !== frozen).flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable)),
      ...head.variables(),
    ];
    const trainer = await OrtTrainer.open(net, head.spec(), trainable);
    expect(trainer.graph.params.map((p) => p.variable.name).sort()).toEqual(trainable.map((v) => v.name).sort());
    const x = tf.randomUniform([N, ...c.shape], -1, 2, 'float32', 3);
    const out = await trainer.step(x.dataSync() as Float32Array, [N, ...c.shape], LABELS, SHARE, head.dropoutMask(N, 0));
    const ref = tf.variableGrads(() => tfjsLoss(net, head, x, 0), trainable);
    for (const v of trainable) closeTo(out.grads[v.name]!, ref.grads[v.name]!.dataSync(), 1e-4, v.name);
    trainer.dispose();
  });

  it("the training loop on native steps ends with tfjs's weights: class weights, L2 penalty, micro-batches, dropout", async () => {
    const ours = await loopRun(true);
    const theirs = await loopRun(false);
    sameRun(ours, theirs);
  });
});

type Recipe = Pick<LoopSpec, 'labelSmoothing' | 'schedule'> & { lowestLayerLr?: number };

/** Two epochs of the training loop on a small network, natively or in tfjs; the records and the weights it ends with. */
async function loopRun(native: boolean, recipe: Recipe = {}) {
  const c = OTHERS[2]!;
  const { net, head, variables } = network(c, 5);
  const xs = tf.randomUniform([10, ...c.shape], -1, 2, 'float32', 9);
  const labels = [0, 1, 2, 0, 0, 1, 2, 2, 0, 1];
  const batch = (ids: number[]) => tf.gather(xs, ids);
  const spec: LoopSpec = {
    phase: 'finetune',
    train: labels.map((_, i) => i),
    validation: [8, 9],
    labelOf: (i) => labels[i]!,
    classes: 3,
    batch,
    forward: (x, training, step) => head.apply(tf.mean(net.apply(x, { training: false }) as tf.Tensor, [1, 2]), training, step),
    variables,
    epochs: 2,
    batchSize: 4,
    microBatch: 3,
    lr: 1e-2,
    seed: 3,
    classWeights: [0.5, 1, 2],
    penalty: () => head.penalty(1e-3),
    patience: 5,
    isCancelled: () => false,
    onEpoch: () => {},
    labelSmoothing: recipe.labelSmoothing,
    schedule: recipe.schedule,
    ...(recipe.lowestLayerLr !== undefined ? { lrFactors: layerRates(net.layers, recipe.lowestLayerLr) } : {}),
  };
  const trainer = native ? await OrtTrainer.open(net, head.spec(), variables) : null;
  const records = await trainLoop(trainer ? { ...spec, ...nativeHooks(trainer, head, batch) } : spec);
  trainer?.dispose();
  const values = variables.map((v) => Array.from(v.dataSync()));
  net.dispose();
  head.dispose();
  xs.dispose();
  return { records, values };
}

function sameRun(ours: Awaited<ReturnType<typeof loopRun>>, theirs: Awaited<ReturnType<typeof loopRun>>): void {
  expect(ours.records.length).toBe(theirs.records.length);
  ours.records.forEach((r, i) => {
    expect(r.loss).toBeCloseTo(theirs.records[i]!.loss, 4);
    expect(r.valLoss!).toBeCloseTo(theirs.records[i]!.valLoss!, 4);
    expect(r.acc).toBe(theirs.records[i]!.acc);
  });
  ours.values.forEach((v, i) => closeTo(v, theirs.values[i]!, 1e-4, `variable ${i}`));
}

describe('native training step: the fine-tuning recipe (recipe.ts) as tfjs-cpu computes it', () => {
  it('label smoothing: the loss, the probabilities and every gradient match tfjs on smoothed targets', async () => {
    const { net, head, variables, x, trainer, step, out: plain } = await nativeStep(OTHERS[0]!, 31);
    const data = x.dataSync() as Float32Array;
    const smoothed = await trainer.step(data, x.shape, LABELS, SHARE, head.dropoutMask(N, step), 0.1);
    const ref = tf.variableGrads(() => tfjsLoss(net, head, x, step, 0.1), variables);
    expect(smoothed.loss).toBeCloseTo(ref.value.dataSync()[0]!, 5);
    // Smoothing changes the loss (it is not the plain step's); the probabilities are the same forward pass.
    expect(Math.abs(smoothed.loss - plain.loss)).toBeGreaterThan(1e-3);
    const probs = tf.tidy(() => head.apply(tf.mean(net.apply(x) as tf.Tensor, [1, 2]), true, step).dataSync());
    closeTo(smoothed.probs, probs, 1e-4, 'probabilities');
    for (const v of variables) closeTo(smoothed.grads[v.name]!, ref.grads[v.name]!.dataSync(), 1e-4, v.name);
    trainer.dispose();
    tf.dispose([x, ref.value, ...Object.values(ref.grads)]);
  });

  it("the loop with the recipe (label smoothing, cosine decay, lower layers slower) ends with tfjs's weights, not the plain loop's", async () => {
    const recipe: Recipe = { labelSmoothing: 0.1, schedule: 'cosine', lowestLayerLr: 0.1 };
    const ours = await loopRun(true, recipe);
    sameRun(ours, await loopRun(false, recipe));
    // The recipe reached the step: without it the same run ends elsewhere.
    const plain = await loopRun(true);
    const apart = Math.max(...ours.values.flatMap((v, i) => v.map((w, k) => Math.abs(w - plain.values[i]![k]!))));
    expect(apart).toBeGreaterThan(1e-3);
  });
});
