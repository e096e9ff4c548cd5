// Gradient formulas that tfjs-core defines with operations the wasm backend runs slowly, given
// again with the same mathematics in fast operations. Gradients are registered per kernel name,
// not per backend, so these apply on every backend (tfjs-cpu included); tests compare them with
// the stock formulas.
//
//   FusedBatchNorm  stock: tiles 1/√(var+ε) to the full activation shape (wasm's Tile: 60 ms
//                   for one MobileNetV2 layer) and sums over batch and space with Sum (which
//                   transposes first on wasm). Here: a broadcast multiply, and the sums as a
//                   [1, m]·[m, c] matMul.
//   ClipByValue     (ReLU6) stock: greaterEqual, lessEqual, logicalAnd, where and zerosLike,
//                   five passes. Here: one kernel, ClipByValueGrad, on wasm and cpu.
import * as tf from '@tensorflow/tfjs';
import { installPoolGradients } from './pool-grads.js';

export const CLIP_GRAD_KERNEL = 'StudioClipByValueGrad';

interface HeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.backend_util.TypedArray;
}
interface CpuBackend {
  readSync(dataId: unknown): tf.backend_util.BackendValues;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
}

/** dx = dy where min ≤ x ≤ max, else 0 (tfjs' ClipByValue gradient, inclusive at both ends). */
function clipGrad(dy: ArrayLike<number>, x: ArrayLike<number>, out: Float32Array, min: number, max: number): void {
  for (let i = 0; i < out.length; i++) {
    const v = x[i]!;
    out[i] = v >= min && v <= max ? dy[i]! : 0;
  }
}

/** Sum over every axis but the last, as a matMul with ones (fast on wasm; fine elsewhere). */
function sumToChannels(t: tf.Tensor, channels: number): tf.Tensor1D {
  const m = t.size / channels;
  return tf.reshape(tf.matMul(tf.ones([1, m]), tf.reshape(t, [m, channels])), [channels]);
}

let absentFixed = false;

/**
 * tfjs-core 4.22 records an absent optional input on the gradient tape and then crashes on it
 * (saving it: "reading 'dataId'"; walking the tape: "reading 'id'") — a BatchNorm without
 * scale, as in every InceptionV3 layer, so stock tfjs cannot train InceptionV3 at all. Absent
 * inputs are left off the tape instead; a gradient that names one reads it as undefined (the
 * BatchNorm formulas then use a scale of 1). Applies to every backend. Idempotent.
 */
export function allowAbsentSavedInputs(): void {
  if (absentFixed) return;
  type Inputs = Record<string, tf.Tensor | undefined>;
  const engine = tf.engine() as unknown as {
    getTensorsForGradient(kernel: string, inputs: Inputs, outputs: unknown): (tf.Tensor | undefined)[];
    addTapeNode(name: string, inputs: Inputs, ...rest: unknown[]): void;
  };
  const getSaved = engine.getTensorsForGradient.bind(engine);
  engine.getTensorsForGradient = (kernel, inputs, outputs) => getSaved(kernel, inputs, outputs).filter((t) => t != null);
  const addTapeNode = engine.addTapeNode.bind(engine);
  engine.addTapeNode = (name, inputs, ...rest) => {
    const present = Object.values(inputs).every((t) => t != null)
      ? inputs
      : Object.fromEntries(Object.entries(inputs).filter(([, t]) => t != null));
    addTapeNode(name, present, ...rest);
  };
  absentFixed = true;
}

let installed: string[] | null = null;

/** Registers the gradient formulas and the kernels they use (idempotent). Returns their names. */
export function installFastGradients(): string[] {
  if (installed) return installed;
  allowAbsentSavedInputs();
  // The same loop on both backends; they differ only in how tensors are read and made.
  const io: Record<
    'wasm' | 'cpu',
    (backend: unknown) => {
      read(t: tf.TensorInfo): ArrayLike<number>;
      make(shape: number[], fill: (out: Float32Array) => void): tf.TensorInfo;
    }
  > = {
    wasm: (backend) => {
      const b = backend as HeapBackend;
      return {
        read: (t) => b.typedArrayFromHeap(t),
        make: (shape, fill) => {
          const out = b.makeOutput(shape, 'float32');
          fill(b.typedArrayFromHeap(out) as Float32Array);
          return out;
        },
      };
    },
    cpu: (backend) => {
      const b = backend as CpuBackend;
      return {
        read: (t) => b.readSync(t.dataId) as Float32Array,
        make: (shape, fill) => {
          const out = new Float32Array(tf.util.sizeFromShape(shape));
          fill(out);
          return b.makeTensorInfo(shape, 'float32', out);
        },
      };
    },
  };
  for (const backendName of ['wasm', 'cpu'] as const) {
    tf.registerKernel({
      kernelName: CLIP_GRAD_KERNEL,
      backendName,
      kernelFunc: ({ inputs, attrs, backend }) => {
        const { dy, x } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
        const { min, max } = attrs as unknown as { min: number; max: number };
        const b = io[backendName](backend);
        // Outputs first: on wasm, making one can grow memory and detach earlier views.
        return b.make(x.shape, (out) => clipGrad(b.read(dy), b.read(x), out, min, max));
      },
    });
  }
  // Backends without the kernel (a native TensorFlow) keep the stock formula.
  const stockClip = tf.getGradient('ClipByValue')!;
  tf.registerGradient({
    kernelName: 'ClipByValue',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      if (!tf.getKernel(CLIP_GRAD_KERNEL, tf.getBackend())) return stockClip.gradFunc(dy, saved, attrs);
      const [x] = saved as [tf.Tensor];
      const { clipValueMin, clipValueMax } = attrs as unknown as { clipValueMin: number; clipValueMax: number };
      return {
        x: () =>
          tf.engine().runKernel(CLIP_GRAD_KERNEL, { dy: dy as tf.Tensor, x }, {
            min: clipValueMin,
            max: clipValueMax,
          } as unknown as tf.NamedAttrMap) as tf.Tensor,
      };
    },
  });
  tf.registerGradient({
    kernelName: 'FusedBatchNorm',
    inputsToSave: ['x', 'mean', 'variance', 'scale'],
    gradFunc: (dyIn, saved, attrs) => {
      const dy = dyIn as tf.Tensor;
      const { varianceEpsilon } = attrs as unknown as { varianceEpsilon: number };
      const [x, mean, variance, scale] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor | undefined];
      const scaleValue = scale ?? tf.scalar(1);
      const perChannel = mean.rank === 1;
      const c = mean.shape[0] ?? 1;
      const reduce = (t: tf.Tensor) => (perChannel ? sumToChannels(t, c) : t);
      const rsqrtVar = tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)));
      return {
        x: () => tf.reshape(tf.mul(dy, tf.mul(rsqrtVar, scaleValue)), x.shape),
        mean: () => tf.reshape(reduce(tf.mul(tf.mul(rsqrtVar, tf.scalar(-1)), tf.mul(dy, scaleValue))), mean.shape),
        variance: () => {
          const minusHalfRCube = tf.mul(tf.pow(rsqrtVar, 3), tf.scalar(-0.5));
          return tf.reshape(reduce(tf.mul(tf.mul(minusHalfRCube, tf.sub(x, mean)), tf.mul(dy, scaleValue))), variance.shape);
        },
        scale: () => tf.reshape(reduce(tf.mul(dy, tf.mul(tf.sub(x, mean), rsqrtVar))), mean.shape),
        offset: () => tf.reshape(reduce(dy), mean.shape),
      };
    },
  });
  installed = [
    'gradient of FusedBatchNorm (broadcast, matMul sums)',
    `gradient of ClipByValue (${CLIP_GRAD_KERNEL} on wasm and cpu)`,
    ...installPoolGradients(),
  ];
  return installed;
}
