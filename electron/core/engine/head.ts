// The new classifier put on top of a base: global average pooling → standardization → dropout →
// optional Dense(relu) → Dense(softmax). Standardization uses the training features' mean and
// variance, fixed (a BatchNormalization layer in inference mode in the saved model): pooled
// activations of a middle block are small and uneven in scale, and without it the head learns
// far slower than a linear probe on the same features would suggest. Trained on pooled vectors (pooling is applied before, once),
// so the layers kept here are the dense ones; dropout is applied by hand with a per-step seed
// because tfjs's Dropout layer with a fixed seed would drop the same units on every step.
import * as tf from '@tensorflow/tfjs';
import { subSeed } from './seeded.js';
import type { HeadSpec } from './ort-train/step-graph.js';

export interface HeadConfig {
  /** Units of the hidden Dense(relu); 0 for none. */
  denseUnits: number;
  dropout: number;
}

export class Head {
  readonly hidden: tf.layers.Layer | null;
  readonly out: tf.layers.Layer;
  private readonly mean: tf.Tensor1D;
  private readonly variance: tf.Tensor1D;
  private readonly invStd: tf.Tensor1D;

  constructor(
    readonly inputDim: number,
    readonly classes: number,
    readonly config: HeadConfig,
    readonly seed: number,
    stats?: { mean: Float32Array; variance: Float32Array },
  ) {
    this.mean = tf.tensor1d(stats?.mean ?? new Float32Array(inputDim));
    this.variance = tf.tensor1d(stats?.variance ?? new Float32Array(inputDim).fill(1 - BN_EPSILON));
    this.invStd = tf.tidy(() => tf.rsqrt(tf.add(this.variance, BN_EPSILON)) as tf.Tensor1D);
    const init = (purpose: string) => tf.initializers.glorotUniform({ seed: subSeed(seed, purpose) });
    this.hidden =
      config.denseUnits > 0
        ? tf.layers.dense({ units: config.denseUnits, activation: 'relu', kernelInitializer: init('hidden'), name: 'head_hidden' })
        : null;
    this.out = tf.layers.dense({ units: classes, activation: 'softmax', kernelInitializer: init('out'), name: 'head_classes' });
    // Build now (variables outlive the tidy), so `variables()` is complete before training.
    tf.tidy(() => {
      this.apply(tf.zeros([1, inputDim]), false, 0);
    });
  }

  /** Pooled features [n, inputDim] → class probabilities [n, classes]. */
  apply(pooled: tf.Tensor, training: boolean, step: number): tf.Tensor {
    let h = tf.mul(tf.sub(pooled, this.mean), this.invStd);
    if (training && this.config.dropout > 0) h = tf.dropout(h, this.config.dropout, undefined, subSeed(this.seed, `dropout-${step}`));
    if (this.hidden) h = this.hidden.apply(h) as tf.Tensor;
    return this.out.apply(h) as tf.Tensor;
  }

  /** The head's parts for a step graph that computes it outside tfjs (ort-train/step-graph.ts). */
  spec(): HeadSpec {
    const dense = (l: tf.layers.Layer) => ({
      kernel: l.trainableWeights[0]!.read() as tf.Variable,
      bias: l.trainableWeights[1]!.read() as tf.Variable,
    });
    return {
      mean: this.mean.dataSync() as Float32Array,
      invStd: this.invStd.dataSync() as Float32Array,
      hidden: this.hidden ? dense(this.hidden) : null,
      out: dense(this.out),
      dropout: this.config.dropout > 0,
    };
  }

  /** The scaled keep-mask `apply` multiplies n rows by at this training step (same seed, same draw). */
  dropoutMask(n: number, step: number): Float32Array | null {
    if (this.config.dropout <= 0) return null;
    return tf.tidy(
      () =>
        tf
          .dropout(tf.ones([n, this.inputDim]), this.config.dropout, undefined, subSeed(this.seed, `dropout-${step}`))
          .dataSync() as Float32Array,
    );
  }

  /** l2 × Σ w² over the dense kernels (not biases). */
  penalty(l2: number): tf.Scalar {
    const kernels = [this.hidden, this.out].filter((l): l is tf.layers.Layer => l !== null).map((l) => l.trainableWeights[0]!.read());
    return tf.mul(l2, tf.addN(kernels.map((k) => tf.sum(tf.square(k))))) as tf.Scalar;
  }

  variables(): tf.Variable[] {
    return [...(this.hidden?.trainableWeights ?? []), ...this.out.trainableWeights].map((w) => w.read() as tf.Variable);
  }

  /** Appends the head to a symbolic feature map, for the saved model. */
  attach(featureMap: tf.SymbolicTensor): tf.SymbolicTensor {
    return this.attachPooled(tf.layers.globalAveragePooling2d({ name: 'head_pool' }).apply(featureMap) as tf.SymbolicTensor);
  }

  /** Appends the head to a symbolic pooled feature vector [n, inputDim] (fused features, fused.ts). */
  attachPooled(pooled: tf.SymbolicTensor): tf.SymbolicTensor {
    let h = pooled;
    const norm = tf.layers.batchNormalization({ name: 'head_standardize', epsilon: BN_EPSILON, trainable: false });
    h = norm.apply(h) as tf.SymbolicTensor;
    const ones = tf.onesLike(this.mean);
    const zeros = tf.zerosLike(this.mean);
    norm.setWeights([ones, zeros, this.mean, this.variance]);
    ones.dispose();
    zeros.dispose();
    this.owned.push(...norm.weights);
    h = tf.layers.dropout({ rate: this.config.dropout, name: 'head_dropout' }).apply(h) as tf.SymbolicTensor;
    if (this.hidden) h = this.hidden.apply(h) as tf.SymbolicTensor;
    return this.out.apply(h) as tf.SymbolicTensor;
  }

  private owned: { dispose(): void }[] = [];

  dispose(): void {
    for (const layer of [this.hidden, this.out]) for (const w of layer?.weights ?? []) w.dispose();
    for (const w of this.owned) w.dispose();
    this.owned = [];
    this.mean.dispose();
    this.variance.dispose();
    this.invStd.dispose();
  }
}

const BN_EPSILON = 1e-6;

/** Per-dimension mean and variance of the rows. */
export function featureStats(rows: Float32Array[]): { mean: Float32Array; variance: Float32Array } {
  const d = rows[0]!.length;
  const mean = new Float64Array(d);
  const sq = new Float64Array(d);
  for (const r of rows) for (let k = 0; k < d; k++) mean[k]! += r[k]!;
  for (let k = 0; k < d; k++) mean[k]! /= rows.length;
  for (const r of rows) for (let k = 0; k < d; k++) sq[k]! += (r[k]! - mean[k]!) ** 2;
  const variance = Float64Array.from(sq, (s) => s / rows.length);
  // Dimensions (almost) constant in training, e.g. dead ReLUs, must not blow up at test time.
  const floor = 1e-3 * (variance.reduce((a, b) => a + b, 0) / d) + 1e-12;
  return { mean: Float32Array.from(mean), variance: Float32Array.from(variance, (v) => Math.max(v, floor)) };
}
