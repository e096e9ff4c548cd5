// Our wasm gradient kernels and gradient formulas against stock tfjs-cpu (the reference), on
// random inputs over every convolution configuration the built-in bases use (read from their
// model.json), with max|a−b| ≤ 1e-4 × max(1, max|a|). The references are computed before
// anything of ours is installed, so they are tfjs' own kernels and formulas. Run twice, by
// wasm-grads.test.ts (big products in ONNX Runtime) and wasm-grads-xnnpack.test.ts (all in wasm).
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { baseDir } from '../fixtures/environment.js';
import { installPortableTraining } from '../../electron/core/engine/backend.js';
import { takeDelegatedKernelsUsed } from '../../electron/core/engine/kernels/wasm-delegate.js';
import { WASM_GRADIENT_KERNELS, gradientMatMulRuntime } from '../../electron/core/engine/kernels/wasm-grads.js';
import { nativeGemm } from '../../electron/core/engine/kernels/native-gemm.js';

type Conv = { kind: 'conv' | 'depthwise'; kernel: [number, number]; stride: number; pad: 'same' | 'valid'; dilation: number };

/** Every distinct convolution configuration in a base's model.json. */
function configsOf(id: string): Conv[] {
  const json = JSON.parse(fs.readFileSync(path.join(baseDir(id), 'model.json'), 'utf8')) as {
    modelTopology: { model_config?: { config: { layers: unknown[] } }; config?: { layers: unknown[] } };
  };
  const topo = json.modelTopology.model_config ?? json.modelTopology;
  const out = new Map<string, Conv>();
  for (const l of topo.config!.layers as { class_name: string; config: Record<string, unknown> }[]) {
    if (l.class_name !== 'Conv2D' && l.class_name !== 'DepthwiseConv2D') continue;
    const c = l.config as {
      kernel_size: [number, number];
      strides: [number, number];
      padding: 'same' | 'valid';
      dilation_rate: [number, number];
    };
    const conv: Conv = {
      kind: l.class_name === 'Conv2D' ? 'conv' : 'depthwise',
      kernel: c.kernel_size,
      stride: c.strides[0],
      pad: c.padding,
      dilation: c.dilation_rate[0],
    };
    out.set(JSON.stringify(conv), conv);
  }
  return [...out.values()];
}

const CONFIGS = [...new Map([...configsOf('mobilenet_v2'), ...configsOf('inception_v3')].map((c) => [JSON.stringify(c), c])).values()];

interface Case {
  name: string;
  conv: Conv;
  x: number[];
  filter: number[];
}
const SMALL: Case[] = CONFIGS.flatMap((conv) =>
  // Odd and even sizes: 'same' padding with stride 2 is asymmetric on one of them.
  [9, 10].flatMap((size) => {
    const [kh, kw] = conv.kernel;
    const shapes: [number, number][] =
      conv.kind === 'depthwise'
        ? [[5, 1]]
        : kh === 1 && kw === 1
          ? [
              [6, 4],
              [3, 7],
            ]
          : [[3, 4]];
    return shapes.map(([ci, co]) => ({
      name: `${conv.kind} ${kh}×${kw} stride ${conv.stride} ${conv.pad} dilation ${conv.dilation}, ${size}×${size}×${ci}→${co}`,
      conv,
      x: [2, size, size, ci],
      filter: [kh, kw, ci, co],
    }));
  }),
);
// Big enough for the ONNX Runtime path (≥ NATIVE_MIN_MACS multiply-adds), one of each kind.
const BIG: Case[] = [
  {
    name: 'big conv 1×1 stride 1 same, 2×32×32×64→72',
    conv: { kind: 'conv', kernel: [1, 1], stride: 1, pad: 'same', dilation: 1 },
    x: [2, 32, 32, 64],
    filter: [1, 1, 64, 72],
  },
  {
    name: 'big conv 3×3 stride 2 valid, 2×33×33×32→40',
    conv: { kind: 'conv', kernel: [3, 3], stride: 2, pad: 'valid', dilation: 1 },
    x: [2, 33, 33, 32],
    filter: [3, 3, 32, 40],
  },
  {
    name: 'big conv 1×7 stride 1 same, 2×17×17×48→40',
    conv: { kind: 'conv', kernel: [1, 7], stride: 1, pad: 'same', dilation: 1 },
    x: [2, 17, 17, 48],
    filter: [1, 7, 48, 40],
  },
];
const CASES: Case[] = [...SMALL, ...BIG];

function forward(c: Conv, x: tf.Tensor4D, f: tf.Tensor4D): tf.Tensor4D {
  return c.kind === 'conv'
    ? tf.conv2d(x, f, c.stride, c.pad, 'NHWC', c.dilation)
    : tf.depthwiseConv2d(x, f, c.stride, c.pad, 'NHWC', c.dilation);
}

/** Gradients of Σ(conv(x, f) ⊙ dy) with respect to x and f. */
function grads(
  c: Conv,
  x: Float32Array,
  f: Float32Array,
  dy: Float32Array,
  shapes: { x: number[]; filter: number[]; y: number[] },
): Float32Array[] {
  return tf.tidy(() => {
    const dyT = tf.tensor(dy, shapes.y);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(forward(c, a as tf.Tensor4D, b as tf.Tensor4D), dyT)));
    return g([tf.tensor(x, shapes.x), tf.tensor(f, shapes.filter)]).map((t) => t.dataSync() as Float32Array);
  });
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string): number {
  expect(got.length, what).toBe(want.length);
  let scale = 1;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  expect(worst, `${what}: max|Δ| ${worst} vs tolerance ${1e-4 * scale}`).toBeLessThanOrEqual(1e-4 * scale);
  return worst;
}

const rand = (n: number, seed: number) => tf.tidy(() => tf.randomNormal([n], 0, 1, 'float32', seed).dataSync() as Float32Array);

interface Ref {
  x: Float32Array;
  f: Float32Array;
  dy: Float32Array;
  y: number[];
  want: Float32Array[];
}
const refs = new Map<string, Ref>();
// Stock formulas for the gradient overrides, on the same inputs.
let bnRef: { inputs: Float32Array[]; want: Float32Array[] };
let clipRef: { x: Float32Array; dy: Float32Array; want: Float32Array };
let sliceRef: { x: Float32Array; want: Float32Array[] };
// Forward of big 1×1 convolutions (ONNX Runtime takes these too): plain, and fused with bias + ReLU6.
let forwardRef: { x: Float32Array; f: Float32Array; bias: Float32Array; want: Float32Array[] };
const FWD = { x: [2, 32, 32, 64] as [number, number, number, number], f: [1, 1, 64, 72] as [number, number, number, number] };
function forwards(x: Float32Array, f: Float32Array, bias: Float32Array): Float32Array[] {
  return tf.tidy(() => {
    const xt = tf.tensor4d(x, FWD.x);
    const ft = tf.tensor4d(f, FWD.f);
    return [
      tf.conv2d(xt, ft, 1, 'same'),
      tf.fused.conv2d({ x: xt, filter: ft, strides: 1, pad: 'same', bias: tf.tensor1d(bias), activation: 'relu6' }),
      tf.fused.conv2d({ x: xt, filter: ft, strides: 1, pad: 'valid', bias: tf.tensor1d(bias), activation: 'relu' }),
    ].map((t) => t.dataSync() as Float32Array);
  });
}
const SLICES: [number[], number[]][] = [
  [
    [0, 1, 1, 0],
    [2, 8, 8, 5],
  ],
  [
    [1, 0, 2, 1],
    [1, 9, 3, 3],
  ],
  [
    [0, 0, 0, 0],
    [2, 9, 9, 5],
  ],
  [
    [0, 4, 0, 0],
    [2, 2, 9, 5],
  ],
];

function bnGrads(values: Float32Array[]): Float32Array[] {
  return tf.tidy(() => {
    const [x, mean, variance, scale, offset] = [
      tf.tensor(values[0]!, [2, 6, 6, 4]),
      ...values.slice(1).map((v) => tf.tensor1d(v)),
    ] as tf.Tensor[];
    const dy = tf.tensor(values[5]!, [2, 6, 6, 4]);
    const g = tf.grads((a: tf.Tensor, s: tf.Tensor, o: tf.Tensor) =>
      tf.sum(tf.mul(tf.batchNorm(a, mean!, tf.abs(variance!), o, s, 1e-3), dy)),
    );
    return g([x!, scale!, offset!]).map((t) => t.dataSync() as Float32Array);
  });
}
function clipGrads(x: Float32Array, dy: Float32Array): Float32Array {
  return tf.tidy(
    () =>
      tf
        .grad((a: tf.Tensor) => tf.sum(tf.mul(tf.clipByValue(a, 0, 6), tf.tensor(dy))))(tf.tensor(x))
        .dataSync() as Float32Array,
  );
}

export function defineGradientTests(native: boolean): void {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    CASES.forEach((c, i) => {
      const x = rand(tf.util.sizeFromShape(c.x), 10 + i);
      const f = rand(tf.util.sizeFromShape(c.filter), 1000 + i);
      const yT = tf.tidy(() =>
        forward(
          c.conv,
          tf.tensor4d(x, c.x as [number, number, number, number]),
          tf.tensor4d(f, c.filter as [number, number, number, number]),
        ),
      );
      const y = yT.shape as number[];
      yT.dispose();
      const dy = rand(tf.util.sizeFromShape(y), 2000 + i);
      refs.set(c.name, { x, f, dy, y, want: grads(c.conv, x, f, dy, { x: c.x, filter: c.filter, y }) });
    });
    const bnIn = [rand(288, 1), rand(4, 2), rand(4, 3), rand(4, 4), rand(4, 5), rand(288, 6)];
    bnRef = { inputs: bnIn, want: bnGrads(bnIn) };
    // Values at exactly 0 and 6 test the inclusive edges.
    const cx = Float32Array.from(rand(500, 7), (v, i) => (i % 50 === 0 ? 0 : i % 50 === 1 ? 6 : v * 5));
    const cdy = rand(500, 8);
    clipRef = { x: cx, dy: cdy, want: clipGrads(cx, cdy) };
    const sx = rand(2 * 9 * 9 * 5, 9);
    sliceRef = {
      x: sx,
      want: SLICES.map(([b, s]) => tf.tidy(() => tf.slice(tf.tensor(sx, [2, 9, 9, 5]), b, s).dataSync() as Float32Array)),
    };
    const fx = rand(2 * 32 * 32 * 64, 11);
    const ff = rand(64 * 72, 12);
    const fb = rand(72, 13);
    forwardRef = { x: fx, f: ff, bias: fb, want: forwards(fx, ff, fb) };
    await tf.setBackend('wasm');
    // Decides where the big products run; taken once, when the kernels are installed.
    installPortableTraining({ nativeGemm: native });
    takeDelegatedKernelsUsed();
  }, 120_000);

  describe(`wasm gradient kernels match stock tfjs-cpu (big products in ${native ? 'ONNX Runtime' : 'wasm'})`, () => {
    it('runs the big products where it says', () => {
      expect(gradientMatMulRuntime()).toMatch(native ? /^ONNX Runtime on \d+ threads$/ : /^tfjs-wasm/);
    });

    it('covers every convolution configuration of both built-in bases', () => {
      // MobileNetV2: 3×3 s2 valid, 1×1 same/valid, depthwise 3×3 s1 same and s2 valid; InceptionV3 adds 3×3 s1, 5×5, 1×7, 7×1, 1×3, 3×1.
      expect(CONFIGS.length).toBeGreaterThanOrEqual(10);
      expect(CONFIGS.some((c) => c.kind === 'depthwise' && c.stride === 2)).toBe(true);
      expect(CONFIGS.some((c) => c.kernel[0] === 7 && c.kernel[1] === 1)).toBe(true);
      expect([...WASM_GRADIENT_KERNELS]).toEqual([
        'Conv2DBackpropFilter',
        'Conv2DBackpropInput',
        'DepthwiseConv2dNativeBackpropFilter',
        'DepthwiseConv2dNativeBackpropInput',
      ]);
    });

    it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
      const r = refs.get(c.name)!;
      const before = nativeGemm()?.products ?? 0;
      const [dx, df] = grads(c.conv, r.x, r.f, r.dy, { x: c.x, filter: c.filter, y: r.y });
      expectClose(dx!, r.want[0]!, 'dx');
      expectClose(df!, r.want[1]!, 'dfilter');
      // No slow path: every gradient ran in our kernels on wasm.
      expect(takeDelegatedKernelsUsed()).toEqual([]);
      // The big cases' products ran in ONNX Runtime when it is on, and never when it is off.
      const products = (nativeGemm()?.products ?? 0) - before;
      if (native && BIG.includes(c)) expect(products).toBeGreaterThan(0);
      if (!native) expect(products).toBe(0);
    });

    it('big 1×1 convolutions forward (plain, fused with bias and ReLU6 or ReLU) match', () => {
      const before = nativeGemm()?.products ?? 0;
      forwards(forwardRef.x, forwardRef.f, forwardRef.bias).forEach((y, i) => expectClose(y, forwardRef.want[i]!, `forward ${i}`));
      if (native) expect(nativeGemm()!.products - before).toBe(3);
    });

    it('the BatchNorm and ReLU6 gradient formulas match the stock ones', () => {
      bnGrads(bnRef.inputs).forEach((g, i) => expectClose(g, bnRef.want[i]!, `batchNorm grad ${i}`));
      const clip = clipGrads(clipRef.x, clipRef.dy);
      expect(Array.from(clip)).toEqual(Array.from(clipRef.want));
    });

    it('Slice reads the same values as stock', () => {
      SLICES.forEach(([b, s], i) => {
        const got = tf.tidy(
          () =>
            tf
              .slice(tf.tensor(sliceRef.x, [2, 9, 9, 5]), b as [number, number, number, number], s as [number, number, number, number])
              .dataSync() as Float32Array,
        );
        expect(Array.from(got)).toEqual(Array.from(sliceRef.want[i]!));
      });
    });

    it('a channel multiplier > 1 still works, on the recorded slow path', () => {
      const c: Conv = { kind: 'depthwise', kernel: [3, 3], stride: 1, pad: 'same', dilation: 1 };
      const x = rand(2 * 5 * 5 * 3, 1);
      const f = rand(3 * 3 * 3 * 2, 2);
      const dy = rand(2 * 5 * 5 * 6, 3);
      const [dx, df] = grads(c, x, f, dy, { x: [2, 5, 5, 3], filter: [3, 3, 3, 2], y: [2, 5, 5, 6] });
      expect(dx!.length).toBe(150);
      expect(df!.length).toBe(54);
      expect(takeDelegatedKernelsUsed()).toEqual(['DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput']);
    });
  });
}
