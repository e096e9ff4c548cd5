// Gradient kernels for 1×1, stride-1 convolutions on the tfjs-cpu backend. tfjs-cpu computes
// Conv2DBackpropFilter/Input with a generic naive loop (68 s for one MobileNetV2 1×1 layer at
// batch 16); for a 1×1 stride-1 convolution both are one matrix
// product, which a plain cache-friendly loop does ~50× faster. Most of MobileNetV2's and a good
// part of InceptionV3's arithmetic is 1×1 convolutions. Other shapes go to the original kernel.
// (The wasm backend's gradient kernels are in wasm-grads.ts.)
import * as tf from '@tensorflow/tfjs';

type Attrs = { strides: number | [number, number]; pad: unknown; dataFormat: string; filterShape?: number[]; inputShape?: number[] };
interface CpuBackend {
  readSync(dataId: unknown): tf.backend_util.BackendValues;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
}

function isPointwise(attrs: Attrs, kernelShape: number[] | undefined): boolean {
  const s = attrs.strides;
  const stride1 = s === 1 || (Array.isArray(s) && s[0] === 1 && s[1] === 1);
  const padOk = attrs.pad === 'same' || attrs.pad === 'valid' || attrs.pad === 0;
  return stride1 && padOk && attrs.dataFormat !== 'NCHW' && !!kernelShape && kernelShape[0] === 1 && kernelShape[1] === 1;
}

let installed = false;

/** Registers the fast paths on 'cpu' (idempotent). Returns the kernels it provides. */
export function installCpuPointwiseGrads(): string[] {
  if (installed) return ['Conv2DBackpropFilter(1×1)', 'Conv2DBackpropInput(1×1)'];
  const filterOrig = tf.getKernel('Conv2DBackpropFilter', 'cpu');
  const inputOrig = tf.getKernel('Conv2DBackpropInput', 'cpu');
  if (!filterOrig || !inputOrig) return [];
  tf.unregisterKernel('Conv2DBackpropFilter', 'cpu');
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'cpu',
    kernelFunc: (args) => {
      const attrs = args.attrs as unknown as Attrs;
      if (!isPointwise(attrs, attrs.filterShape)) return filterOrig.kernelFunc(args);
      const backend = args.backend as unknown as CpuBackend;
      const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
      const ci = x.shape[3]!;
      const co = dy.shape[3]!;
      const n = x.shape[0]! * x.shape[1]! * x.shape[2]!;
      const xv = backend.readSync(x.dataId) as Float32Array;
      const dv = backend.readSync(dy.dataId) as Float32Array;
      const out = new Float32Array(ci * co);
      // dW[ci, co] = Σ_n x[n, ci] · dy[n, co]
      for (let p = 0; p < n; p++) {
        const xo = p * ci;
        const d = dv.subarray(p * co, p * co + co);
        for (let i = 0; i < ci; i++) {
          const a = xv[xo + i]!;
          if (a === 0) continue; // post-ReLU inputs are often zero
          const o = i * co;
          for (let j = 0; j < co; j++) out[o + j]! += a * d[j]!;
        }
      }
      return backend.makeTensorInfo([1, 1, ci, co], 'float32', out);
    },
  });
  tf.unregisterKernel('Conv2DBackpropInput', 'cpu');
  tf.registerKernel({
    kernelName: 'Conv2DBackpropInput',
    backendName: 'cpu',
    kernelFunc: (args) => {
      const attrs = args.attrs as unknown as Attrs;
      const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
      if (!isPointwise(attrs, filter.shape)) return inputOrig.kernelFunc(args);
      const backend = args.backend as unknown as CpuBackend;
      const ci = filter.shape[2]!;
      const co = filter.shape[3]!;
      const n = dy.shape[0]! * dy.shape[1]! * dy.shape[2]!;
      const dv = backend.readSync(dy.dataId) as Float32Array;
      const w = backend.readSync(filter.dataId) as Float32Array;
      const out = new Float32Array(n * ci);
      // dX[n, ci] = Σ_co dy[n, co] · W[ci, co]
      for (let p = 0; p < n; p++) {
        const d = dv.subarray(p * co, p * co + co);
        const o = p * ci;
        for (let i = 0; i < ci; i++) {
          const wo = i * co;
          let s = 0;
          for (let j = 0; j < co; j++) s += d[j]! * w[wo + j]!;
          out[o + i] = s;
        }
      }
      return backend.makeTensorInfo(attrs.inputShape!, 'float32', out);
    },
  });
  installed = true;
  return ['Conv2DBackpropFilter(1×1)', 'Conv2DBackpropInput(1×1)'];
}
