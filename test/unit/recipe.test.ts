// The fine-tuning recipe (engine/recipe.ts) and the loop that applies it (engine/loop.ts): label
// smoothing's targets, the cosine schedule, per-layer rates, and the tfjs loop's steps against a
// loop written out here with stock tfjs (variableGrads, one tf.train.adam per rate). The native
// step is held to the tfjs loop in ort-step-graph.test.ts, and its Adam in array-adam.test.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { layerRates, scheduleFactor, smoothedTargets } from '../../electron/core/engine/recipe.js';
import { defaultConfig } from '../../electron/core/engine/config.js';
import { Head } from '../../electron/core/engine/head.js';
import { evaluate, trainLoop, type EpochRecord } from '../../electron/core/engine/loop.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('the recipe’s parts', () => {
  it('label smoothing: (1 − ε)·one-hot + ε/classes, rows summing to 1; ε = 0 is the one-hot', () => {
    expect(Array.from(smoothedTargets([2, 0], 4, 0.2))).toEqual(
      [0.05, 0.05, 0.85, 0.05, 0.85, 0.05, 0.05, 0.05].map((v) => Math.fround(v)),
    );
    expect(Array.from(smoothedTargets([1], 3, 0))).toEqual([0, 1, 0]);
    expect(() => smoothedTargets([0], 2, 1)).toThrow(/\[0, 1\)/);
  });

  it('cosine decay: the full rate at the first step, half way at the middle, towards 0 at the end; constant stays 1', () => {
    expect(scheduleFactor('cosine', 0, 100)).toBe(1);
    expect(scheduleFactor('cosine', 50, 100)).toBeCloseTo(0.5, 12);
    expect(scheduleFactor('cosine', 99, 100)).toBeLessThan(0.001);
    expect(scheduleFactor('cosine', 25, 100)).toBeGreaterThan(scheduleFactor('cosine', 26, 100));
    expect(scheduleFactor('constant', 99, 100)).toBe(1);
  });

  it('per-layer rates: the lowest weighted layer at the factor asked, geometric steps up to 1 at the top, weightless layers skipped', () => {
    const input = tf.input({ shape: [4, 4, 2] });
    const conv = (name: string) => tf.layers.conv2d({ filters: 2, kernelSize: 1, name });
    const a = conv('a');
    const b = conv('b');
    const c = conv('c');
    const relu = tf.layers.reLU({ name: 'relu' });
    const out = c.apply(relu.apply(b.apply(a.apply(input)))) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const rates = layerRates(model.layers, 0.25);
    const of = (l: tf.layers.Layer) => l.trainableWeights.map((w) => rates.get(w.read() as tf.Variable));
    expect(of(a)).toEqual([0.25, 0.25]);
    expect(of(b)).toEqual([0.5, 0.5]);
    expect(of(c)).toEqual([1, 1]);
    expect(rates.size).toBe(6);
    expect([...layerRates(model.layers, 1).values()].every((r) => r === 1)).toBe(true);
    expect(() => layerRates(model.layers, 0)).toThrow(/\(0, 1\]/);
    model.dispose();
  });

  it('defaults: strategies 1–2 fine-tune with the recipe, strategy 3 without; a config stored before it existed reads with them', () => {
    expect(defaultConfig('partial')).toMatchObject({ labelSmoothing: 0.1, lrSchedule: 'cosine', lowestLayerLr: 0.3 });
    expect(defaultConfig('full')).toMatchObject({ labelSmoothing: 0.1, lrSchedule: 'cosine', lowestLayerLr: 0.1 });
    expect(defaultConfig('head')).toMatchObject({ labelSmoothing: 0, lrSchedule: 'constant', lowestLayerLr: 1 });
    const stored = { ...defaultConfig('partial') } as Partial<ReturnType<typeof defaultConfig>>;
    delete stored.labelSmoothing;
    delete stored.lrSchedule;
    delete stored.lowestLayerLr;
    expect(defaultConfig('partial', JSON.parse(JSON.stringify(stored)))).toEqual(defaultConfig('partial'));
  });
});

describe('validation with the recipe', () => {
  it('scores the loss the phase trains: smoothed cross-entropy, the same natively and in tfjs', async () => {
    const probs = Float32Array.of(0.7, 0.2, 0.1, 0.1, 0.1, 0.8);
    const labels = [0, 1];
    const expected = (ε: number) => {
      const t = (c: number, l: number) => (c === l ? 1 - ε + ε / 3 : ε / 3);
      return -[0, 1].reduce((sum, k) => sum + [0, 1, 2].reduce((s2, c) => s2 + t(c, labels[k]!) * Math.log(probs[k * 3 + c]!), 0), 0) / 2;
    };
    const common = { labelOf: (i: number) => labels[i]!, classes: 3, batchSize: 2, batch: () => tf.tensor2d(probs, [2, 3]) };
    for (const ε of [0, 0.1]) {
      const native = await evaluate({ ...common, forward: (x) => x, nativePredict: async () => probs, labelSmoothing: ε }, [0, 1]);
      const inTfjs = await evaluate({ ...common, forward: (x) => x.clone(), labelSmoothing: ε }, [0, 1]);
      expect(native.loss).toBeCloseTo(expected(ε), 6);
      expect(inTfjs.loss).toBeCloseTo(expected(ε), 6);
      expect(native.acc).toBe(0.5);
    }
  });
});

describe('the tfjs loop with the recipe', () => {
  it('steps as stock tfjs does with smoothed targets, a cosine rate and one Adam per layer factor', async () => {
    const [n, dim, classes, epochs, lr, smoothing] = [12, 5, 3, 4, 0.05, 0.2];
    const xs = tf.randomUniform([n, dim], -1, 1, 'float32', 4);
    const labels = Array.from({ length: n }, (_, i) => (i * 7) % classes);
    const make = () => new Head(dim, classes, { denseUnits: 0, dropout: 0 }, 9);
    const factorOf = (v: tf.Variable) => (v.shape.length === 2 ? 0.25 : 1); // the kernel slower than the bias

    // The reference: the whole set as one batch per epoch, so the order of the samples does not matter.
    const ref = make();
    const refVars = ref.variables();
    const adams = refVars.map((v) => tf.train.adam(lr * factorOf(v)));
    const losses: number[] = [];
    const after: Float32Array[][] = [];
    const targets = tf.tidy(() => tf.add(tf.mul(tf.oneHot(tf.tensor1d(labels, 'int32'), classes), 1 - smoothing), smoothing / classes));
    for (let e = 0; e < epochs; e++) {
      const { value, grads } = tf.variableGrads(
        () => tf.mean(tf.neg(tf.sum(tf.mul(targets, tf.log(tf.clipByValue(ref.apply(xs, true, e), 1e-7, 1))), 1))) as tf.Scalar,
        refVars,
      );
      losses.push(value.dataSync()[0]!);
      const cosine = 0.5 * (1 + Math.cos((Math.PI * e) / epochs));
      refVars.forEach((v, k) => {
        (adams[k] as unknown as { learningRate: number }).learningRate = lr * cosine * factorOf(v);
        adams[k]!.applyGradients([{ name: v.name, tensor: grads[v.name]! }]);
      });
      tf.dispose([value, ...Object.values(grads)]);
      after.push(refVars.map((v) => v.dataSync() as Float32Array));
    }
    // Early stopping keeps the epoch of least loss (no validation set: the training loss).
    const best = losses.reduce((b, l, i) => (l < losses[b]! - 1e-6 ? i : b), 0);

    const head = make();
    const variables = head.variables();
    const records: EpochRecord[] = [];
    await trainLoop({
      phase: 'finetune',
      train: labels.map((_, i) => i),
      validation: [],
      labelOf: (i) => labels[i]!,
      classes,
      batch: (ids) => tf.gather(xs, ids),
      forward: (x, training, step) => head.apply(x, training, step),
      variables,
      epochs,
      batchSize: n,
      lr,
      schedule: 'cosine',
      lrFactors: new Map(variables.map((v) => [v, factorOf(v)])),
      labelSmoothing: smoothing,
      seed: 1,
      classWeights: null,
      patience: epochs,
      isCancelled: () => false,
      onEpoch: (r) => records.push(r),
    });
    records.forEach((r, e) => expect(r.loss, `epoch ${e}'s loss`).toBeCloseTo(losses[e]!, 5));
    variables.forEach((v, k) => {
      const want = after[best]![k]!;
      v.dataSync().forEach((w, i) =>
        expect(Math.abs(w - want[i]!), `${v.name}[${i}]`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(want[i]!))),
      );
    });
    adams.forEach((a) => a.dispose());
    tf.dispose([xs, targets]);
    ref.dispose();
    head.dispose();
  });

  it('keepStart: fine-tuning that only makes validation worse ends with the weights it started from', async () => {
    // Validation's labels contradict training's: every step that fits training hurts validation.
    const xs = tf.randomUniform([16, 3], -1, 1, 'float32', 6);
    const sign = Array.from(xs.dataSync())
      .filter((_, i) => i % 3 === 0)
      .map((v) => (v > 0 ? 1 : 0));
    const labelOf = (i: number) => (i < 10 ? sign[i]! : 1 - sign[i]!);
    const run = async (keepStart: boolean) => {
      const head = new Head(3, 2, { denseUnits: 0, dropout: 0 }, 2);
      const start = head.variables().map((v) => Array.from(v.dataSync()));
      await trainLoop({
        phase: 'finetune',
        train: [...Array(10).keys()],
        validation: [10, 11, 12, 13, 14, 15],
        labelOf,
        classes: 2,
        batch: (ids) => tf.gather(xs, ids),
        forward: (x, training, step) => head.apply(x, training, step),
        variables: head.variables(),
        epochs: 3,
        batchSize: 5,
        lr: 0.1,
        seed: 1,
        classWeights: null,
        patience: 5,
        keepStart,
        isCancelled: () => false,
        onEpoch: () => {},
      });
      const moved = head.variables().some((v, k) => Array.from(v.dataSync()).some((w, i) => w !== start[k]![i]));
      head.dispose();
      return moved;
    };
    expect(await run(false)).toBe(true);
    expect(await run(true)).toBe(false);
    xs.dispose();
  });
});
