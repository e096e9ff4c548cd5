// Per-layer-type parity of the tfjs → ONNX converter: tiny models with seeded random weights,
// run by tfjs-cpu (the reference) and by ONNX Runtime on the same uint8 pixels.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import {
  convertToOnnx,
  convertToOnnxDetailed,
  UnsupportedLayerError,
  runBatches,
  type OutputSpec,
} from '../../electron/core/engine/onnx/index.js';
import { applyScaling } from '../../electron/core/engine/base.js';
import type { InputScaling } from '../../electron/core/models/scaling.js';
import { createOnnxSession } from '../../native/onnx-runtime.js';
import onnxProto from 'onnx-proto';

function opTypes(bytes: Uint8Array): string[] {
  return onnxProto.onnx.ModelProto.decode(bytes).graph!.node!.map((n) => n.opType!);
}

const SCALING: InputScaling = { from: [0, 255], to: [0, 1] };

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Seeded weights; BatchNorm statistics far from 0/1 so a wrong formula cannot pass. */
function randomizeWeights(model: tf.LayersModel, seed: number): void {
  const rnd = prng(seed);
  for (const layer of model.layers) {
    const ws = layer.weights;
    if (ws.length === 0) continue;
    layer.setWeights(
      ws.map((w) => {
        const shape = w.shape as number[];
        const n = shape.reduce((a, b) => a * b, 1);
        const v = new Float32Array(n);
        const name = w.originalName;
        for (let i = 0; i < n; i++) {
          const r = rnd();
          v[i] = name.endsWith('moving_variance')
            ? 0.2 + 2 * r
            : name.endsWith('gamma')
              ? 0.5 + r
              : name.endsWith('moving_mean')
                ? r - 0.5
                : r - 0.5;
        }
        return tf.tensor(v, shape);
      }),
    );
  }
}

function randomImages(n: number, h: number, w: number, seed: number): Uint8Array {
  const rnd = prng(seed);
  return Uint8Array.from({ length: n * h * w * 3 }, () => Math.floor(rnd() * 256));
}

function reference(
  model: tf.LayersModel,
  images: Uint8Array,
  n: number,
  h: number,
  w: number,
  outputs: tf.SymbolicTensor[],
): Float32Array[] {
  const probe = tf.model({ inputs: model.inputs, outputs });
  return tf.tidy(() => {
    const x = applyScaling(tf.tensor4d(Int32Array.from(images), [n, h, w, 3], 'int32'), SCALING);
    const y = probe.predict(x);
    return (Array.isArray(y) ? y : [y as tf.Tensor]).map((t) => t.dataSync() as Float32Array);
  });
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Converts, runs both engines and checks max|a−b| ≤ 1e-4 · max(1, max|a|) for every output. */
async function expectParity(model: tf.LayersModel, opts: { outputs?: OutputSpec[]; upTo?: string } = {}, n = 2): Promise<void> {
  const [, h, w] = model.inputs[0]!.shape as number[];
  const converted = convertToOnnxDetailed(model, { inputScaling: SCALING, ...opts });
  const { session } = await createOnnxSession(converted.bytes, { providers: ['cpu'] });
  const images = randomImages(n, h!, w!, 7);
  const got = await runBatches(session, images, n);
  const symbolic =
    opts.outputs || opts.upTo ? converted.outputs.map((o) => model.getLayer(o.layer).output as tf.SymbolicTensor) : model.outputs;
  const refs = reference(model, images, n, h!, w!, symbolic);
  converted.outputs.forEach((o, i) => {
    let ref = refs[i]!;
    if (o.pool !== 'none') ref = poolRef(ref, n, symbolic[i]!.shape as number[], o.pool);
    const a = got.outputs[o.name]!;
    const tol = 1e-4 * Math.max(1, maxAbs(ref));
    expect(maxAbs(ref), `${o.name} is not all zeros`).toBeGreaterThan(0);
    expect(maxDiff(a, ref), `${o.name} differs`).toBeLessThanOrEqual(tol);
  });
  await session.release();
}

function poolRef(data: Float32Array, n: number, shape: number[], pool: 'avg' | 'max'): Float32Array {
  const [, h, w, c] = shape as [null, number, number, number];
  const out = new Float32Array(n * c).fill(pool === 'max' ? -Infinity : 0);
  for (let b = 0; b < n; b++)
    for (let p = 0; p < h * w; p++)
      for (let k = 0; k < c; k++) {
        const v = data[(b * h * w + p) * c + k]!;
        out[b * c + k] = pool === 'max' ? Math.max(out[b * c + k]!, v) : out[b * c + k]! + v / (h * w);
      }
  return out;
}

function chain(h: number, w: number, make: (x: tf.SymbolicTensor) => tf.SymbolicTensor, seed = 1): tf.LayersModel {
  const input = tf.input({ shape: [h, w, 3], name: 'img' });
  const model = tf.model({ inputs: input, outputs: make(input) });
  randomizeWeights(model, seed);
  return model;
}

const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]): tf.SymbolicTensor =>
  layer.apply(x) as tf.SymbolicTensor;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('convolutions', () => {
  for (const size of [9, 10]) {
    for (const stride of [1, 2]) {
      for (const padding of ['same', 'valid'] as const) {
        it(`Conv2D 3×3 ${padding} stride ${stride} on ${size}×${size}, bias + relu`, async () => {
          await expectParity(
            chain(size, size, (x) =>
              apply(tf.layers.conv2d({ filters: 5, kernelSize: 3, strides: stride, padding, activation: 'relu' }), x),
            ),
          );
        });
        it(`DepthwiseConv2D 3×3 ${padding} stride ${stride} on ${size}×${size}, multiplier 2`, async () => {
          await expectParity(
            chain(size, size, (x) =>
              apply(tf.layers.depthwiseConv2d({ kernelSize: 3, strides: stride, padding, depthMultiplier: 2, useBias: true }), x),
            ),
          );
        });
      }
    }
  }
  it('Conv2D with dilation 2, 5×4 kernel, no bias', async () => {
    await expectParity(
      chain(12, 11, (x) =>
        apply(tf.layers.conv2d({ filters: 4, kernelSize: [5, 4], dilationRate: 2, padding: 'same', useBias: false }), x),
      ),
    );
  });
  it('SeparableConv2D', async () => {
    await expectParity(
      chain(10, 10, (x) => apply(tf.layers.separableConv2d({ filters: 6, kernelSize: 3, padding: 'same', depthMultiplier: 2 }), x)),
    );
  });
});

describe('batch normalization', () => {
  it('folds into the convolution before it', async () => {
    const model = chain(8, 8, (x) =>
      apply(
        tf.layers.batchNormalization({ epsilon: 1e-3 }),
        apply(tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false }), x),
      ),
    );
    expect(opTypes(convertToOnnx(model, { inputScaling: SCALING }))).not.toContain('BatchNormalization');
    await expectParity(model);
  });
  it('stays a BatchNormalization op when the convolution output is also used elsewhere', async () => {
    const model = chain(8, 8, (x) => {
      const c = apply(tf.layers.conv2d({ filters: 4, kernelSize: 1, useBias: true }), x);
      const bn = apply(tf.layers.batchNormalization({ scale: false }), c);
      return apply(tf.layers.add(), [c, bn]);
    });
    expect(opTypes(convertToOnnx(model, { inputScaling: SCALING }))).toContain('BatchNormalization');
    await expectParity(model);
  });
  it('on a dense layer output (rank 2)', async () => {
    await expectParity(
      chain(6, 6, (x) => apply(tf.layers.batchNormalization(), apply(tf.layers.dense({ units: 5 }), apply(tf.layers.flatten(), x)))),
    );
  });
});

describe('pooling and padding', () => {
  for (const padding of ['same', 'valid'] as const) {
    for (const stride of [1, 2]) {
      it(`MaxPooling2D 3×3 ${padding} stride ${stride}`, async () => {
        await expectParity(
          chain(9, 10, (x) =>
            apply(
              tf.layers.maxPooling2d({ poolSize: 3, strides: stride, padding }),
              apply(tf.layers.conv2d({ filters: 3, kernelSize: 1 }), x),
            ),
          ),
        );
      });
      it(`AveragePooling2D 3×3 ${padding} stride ${stride} (edges average only real pixels)`, async () => {
        await expectParity(
          chain(9, 10, (x) =>
            apply(
              tf.layers.averagePooling2d({ poolSize: 3, strides: stride, padding }),
              apply(tf.layers.conv2d({ filters: 3, kernelSize: 1 }), x),
            ),
          ),
        );
      });
    }
  }
  it('ZeroPadding2D asymmetric, then a valid stride-2 conv (MobileNetV2 stem)', async () => {
    await expectParity(
      chain(9, 8, (x) =>
        apply(
          tf.layers.conv2d({ filters: 3, kernelSize: 3, strides: 2 }),
          apply(
            tf.layers.zeroPadding2d({
              padding: [
                [1, 2],
                [3, 0],
              ],
            }),
            x,
          ),
        ),
      ),
    );
  });
  it('GlobalAveragePooling2D and GlobalMaxPooling2D', async () => {
    await expectParity(
      chain(7, 7, (x) => {
        const c = apply(tf.layers.conv2d({ filters: 4, kernelSize: 3 }), x);
        return apply(tf.layers.concatenate(), [apply(tf.layers.globalAveragePooling2d({}), c), apply(tf.layers.globalMaxPooling2d({}), c)]);
      }),
    );
  });
});

describe('merges, shapes and activations', () => {
  it('Concatenate on channels of two branches, then Add', async () => {
    await expectParity(
      chain(8, 8, (x) => {
        const a = apply(tf.layers.conv2d({ filters: 3, kernelSize: 1 }), x);
        const b = apply(tf.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same' }), x);
        const cat = apply(tf.layers.concatenate({ axis: -1 }), [a, b]);
        return apply(tf.layers.add(), [cat, apply(tf.layers.conv2d({ filters: 5, kernelSize: 1 }), x)]);
      }),
    );
  });
  it('Flatten and Reshape keep tfjs element order', async () => {
    await expectParity(
      chain(4, 5, (x) => {
        const c = apply(tf.layers.conv2d({ filters: 2, kernelSize: 1 }), x);
        const r = apply(tf.layers.reshape({ targetShape: [10, 4] }), c);
        return apply(tf.layers.flatten(), r);
      }),
    );
  });
  it("Permute and a Dense on the last axis of a 4-D value (the fused model's in-graph resize), then a convolution", async () => {
    await expectParity(
      chain(6, 5, (x) => {
        const p = apply(tf.layers.permute({ dims: [1, 3, 2] }), x);
        const d = apply(tf.layers.dense({ units: 4, useBias: false }), p);
        const back = apply(tf.layers.permute({ dims: [1, 3, 2] }), d);
        return apply(tf.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same' }), back);
      }),
    );
  });
  const acts = [
    'relu6',
    'sigmoid',
    'tanh',
    'elu',
    'selu',
    'softplus',
    'softsign',
    'swish',
    'mish',
    'gelu',
    'hardSigmoid',
    'softmax',
    'linear',
  ] as const;
  for (const act of acts) {
    it(`activation ${act}`, async () => {
      await expectParity(
        chain(5, 5, (x) =>
          apply(tf.layers.activation({ activation: act as never }), apply(tf.layers.conv2d({ filters: 4, kernelSize: 1 }), x)),
        ),
      );
    });
  }
  it('ReLU with max_value, LeakyReLU, ELU and Softmax layers', async () => {
    await expectParity(
      chain(5, 5, (x) => {
        const c = apply(tf.layers.conv2d({ filters: 4, kernelSize: 1 }), x);
        const r = apply(tf.layers.reLU({ maxValue: 0.3 }), c);
        const l = apply(tf.layers.leakyReLU({ alpha: 0.2 }), c);
        const e = apply(tf.layers.elu({}), c);
        return apply(tf.layers.softmax({ axis: -1 }), apply(tf.layers.add(), [r, l, e]));
      }),
    );
  });
});

describe('whole models', () => {
  it('a classifier head: conv base, pooling, Dense relu, Dropout, Dense softmax', async () => {
    const model = chain(16, 16, (x) => {
      let y = apply(tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false }), x);
      y = apply(tf.layers.batchNormalization(), y);
      y = apply(tf.layers.reLU({ maxValue: 6 }), y);
      y = apply(tf.layers.globalAveragePooling2d({}), y);
      y = apply(tf.layers.dense({ units: 6, activation: 'relu' }), y);
      y = apply(tf.layers.dropout({ rate: 0.5 }), y);
      return apply(tf.layers.dense({ units: 3, activation: 'softmax' }), y);
    });
    await expectParity(model, {}, 3);
  });

  it('a base nested in a Sequential (base → pooling → softmax head)', async () => {
    const base = chain(8, 8, (x) =>
      apply(tf.layers.reLU({ maxValue: 6 }), apply(tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }), x)),
    );
    const seq = tf.sequential({
      layers: [base, tf.layers.globalAveragePooling2d({}), tf.layers.dense({ units: 3, activation: 'softmax' })],
    });
    randomizeWeights(seq, 3);
    await expectParity(seq);
  });

  it('a base called as a layer on a new input (functional nesting)', async () => {
    const base = chain(8, 8, (x) => apply(tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }), x));
    const input = tf.input({ shape: [8, 8, 3] });
    const pooled = apply(tf.layers.globalAveragePooling2d({}), apply(base, input));
    const model = tf.model({ inputs: input, outputs: apply(tf.layers.dense({ units: 2, activation: 'softmax' }), pooled) });
    randomizeWeights(model, 4);
    await expectParity(model);
  });

  it('upTo a boundary, and several pooled outputs in one pass', async () => {
    const model = chain(12, 12, (x) => {
      const a = apply(tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'block_a' }), x);
      const b = apply(tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', name: 'block_b' }), a);
      const bn = apply(tf.layers.batchNormalization({ name: 'block_b_bn' }), b);
      return apply(tf.layers.conv2d({ filters: 2, kernelSize: 1, name: 'top' }), bn);
    });
    await expectParity(model, { upTo: 'block_b_bn' });
    // block_b is requested and also feeds the BN: the BN must not be folded into it.
    await expectParity(model, {
      outputs: [{ layer: 'block_a', pool: 'avg' }, { layer: 'block_b', pool: 'max' }, 'block_b_bn', { layer: 'top', pool: 'avg' }],
    });
  });
});

describe('unsupported layers', () => {
  it('names the layer and its class, and the part below it still converts', async () => {
    const model = chain(8, 8, (x) => {
      const c = apply(tf.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', name: 'below' }), x);
      return apply(tf.layers.upSampling2d({ size: [2, 2], name: 'too_new' }), c);
    });
    let caught: unknown;
    try {
      convertToOnnx(model, { inputScaling: SCALING });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UnsupportedLayerError);
    const e = caught as UnsupportedLayerError;
    expect(e.layerName).toBe('too_new');
    expect(e.className).toBe('UpSampling2D');
    expect(e.message).toContain('"too_new" (UpSampling2D)');
    await expectParity(model, { upTo: 'below' });
  });

  it('refuses an image model without its input scaling', () => {
    const model = chain(4, 4, (x) => apply(tf.layers.conv2d({ filters: 2, kernelSize: 1 }), x));
    expect(() => convertToOnnx(model, {})).toThrow(/inputScaling/);
  });
});
