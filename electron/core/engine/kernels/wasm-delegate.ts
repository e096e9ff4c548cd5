// The slow path: kernels the wasm backend lacks, run by the cpu backend on copies of the data.
// Our own kernels (wasm-grads.ts) sit on top of these for everything the built-in bases need;
// what remains here is for shapes they do not cover (e.g. a depthwise channel multiplier > 1)
// and kernels training never uses. Every delegated kernel that actually ran is recorded, so a
// run — and the UI — can say which slow path it took.
import * as tf from '@tensorflow/tfjs';
import { installCpuPointwiseGrads } from './cpu-pointwise-grads.js';

interface WasmBackend {
  readSync(dataId: unknown): tf.backend_util.BackendValues;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.backend_util.TypedArray;
}
interface CpuBackend {
  readSync(dataId: unknown): tf.backend_util.BackendValues;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
  disposeData(dataId: unknown, force?: boolean): boolean;
}

const used = new Set<string>();
let delegated: string[] | null = null;

/** Which delegated kernels have run since the last call (and resets the record). */
export function takeDelegatedKernelsUsed(): string[] {
  const out = [...used].sort();
  used.clear();
  return out;
}

/** Registers a cpu-backed kernel on wasm for every kernel cpu has and wasm lacks. Idempotent. */
export function installWasmDelegates(): string[] {
  if (delegated) return delegated;
  installCpuPointwiseGrads();
  const wasm = new Set(tf.getKernelsForBackend('wasm').map((k) => k.kernelName));
  delegated = [];
  for (const cpuKernel of tf.getKernelsForBackend('cpu')) {
    const name = cpuKernel.kernelName;
    if (wasm.has(name)) continue;
    delegated.push(name);
    delegateToCpu(name, name);
  }
  return delegated;
}

/**
 * Registers `wasmName` on wasm as cpu's kernel `cpuName`, run on copies of the data and recorded
 * as the slow path under `cpuName`. Also used to replace a wasm kernel that is wrong (see
 * pool-grads.ts).
 */
export function delegateToCpu(wasmName: string, cpuName: string): void {
  tf.registerKernel({
    kernelName: wasmName,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      used.add(cpuName);
      const w = backend as unknown as WasmBackend;
      const cpu = tf.findBackend('cpu') as unknown as CpuBackend;
      // The cpu kernel is looked up now: cpu-pointwise-grads may have replaced it since.
      const kernel = tf.getKernel(cpuName, 'cpu')!;
      const copies: tf.TensorInfo[] = [];
      const cpuInputs: Record<string, tf.TensorInfo> = {};
      for (const [key, info] of Object.entries(inputs as Record<string, tf.TensorInfo>)) {
        const copy = cpu.makeTensorInfo(info.shape, info.dtype, w.readSync(info.dataId));
        copies.push(copy);
        cpuInputs[key] = copy;
      }
      try {
        const result = kernel.kernelFunc({ inputs: cpuInputs, attrs: attrs ?? {}, backend: cpu as unknown as tf.KernelBackend });
        const outs = Array.isArray(result) ? result : [result];
        const back = outs.map((o) => {
          const out = w.makeOutput(o.shape, o.dtype);
          w.typedArrayFromHeap(out).set(cpu.readSync(o.dataId) as tf.backend_util.TypedArray);
          cpu.disposeData(o.dataId, true);
          return out;
        });
        return Array.isArray(result) ? back : back[0]!;
      } finally {
        for (const c of copies) cpu.disposeData(c.dataId, true);
      }
    },
  });
}
