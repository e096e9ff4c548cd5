// Which compute engine this process trains on, and why. Native TensorFlow packages are
// optional dependencies (they download libtensorflow at install time), so each is tried in
// turn and the reason it was not used is kept for the run record and the UI.
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installCpuPointwiseGrads } from './kernels/cpu-pointwise-grads.js';
import { installWasmDelegates } from './kernels/wasm-delegate.js';
import { installWasmGradients } from './kernels/wasm-grads.js';
import { allowAbsentSavedInputs, installFastGradients } from './kernels/gradients.js';
import { installPoolGradients } from './kernels/pool-grads.js';

/**
 * Makes the wasm backend able to train every built-in base fast: our gradient kernels
 * (kernels/wasm-grads.ts) and gradient formulas (kernels/gradients.ts), with the cpu delegates
 * underneath for anything they do not cover — that slow path is recorded when it runs.
 * Returns what it provides. Idempotent.
 */
export function installPortableTraining(options: { nativeGemm?: boolean } = {}): {
  kernels: string[];
  gradients: string[];
  delegated: string[];
} {
  const delegated = installWasmDelegates();
  const kernels = installWasmGradients({ native: options.nativeGemm ?? true });
  const gradients = installFastGradients();
  return { kernels, gradients, delegated: delegated.filter((k) => !kernels.includes(k)) };
}

export type EngineName = 'tfjs-node-gpu' | 'tfjs-node' | 'portable-wasm' | 'portable-cpu';

export interface EngineInfo {
  name: EngineName;
  /** The tfjs backend in use. */
  backend: string;
  /** One line per engine tried, in order: what happened. */
  tried: string[];
  /** Whether the backend has the convolution gradient kernels strategies 1–2 need. */
  convGradients: boolean;
}

const require = createRequire(import.meta.url);
const CONV_GRADIENTS = [
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
];

export function hasConvGradients(backend: string): boolean {
  return CONV_GRADIENTS.every((k) => tf.getKernel(k, backend) !== undefined);
}

function reason(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0]!.slice(0, 200);
}

/**
 * Picks the engine. `only` restricts the choice (tests, and the user forcing the portable
 * engine: the compute plan passes its settings' `engine`). `nativeGemm`: whether the portable
 * engine's big gradient products go to ONNX Runtime.
 */
export async function selectEngine(only?: EngineName | null, options: { nativeGemm?: boolean } = {}): Promise<EngineInfo> {
  const forced = only ?? undefined;
  // The cpu backend is the last resort for convolutions; give it fast 1×1 gradients.
  installCpuPointwiseGrads();
  // Without this no engine can train InceptionV3 (BatchNorm without scale).
  allowAbsentSavedInputs();
  // tfjs's own 'same'-padded pooling gradients are wrong on cpu and wasm.
  installPoolGradients();
  const tried: string[] = [];
  const native: [EngineName, string, string][] = [
    ['tfjs-node-gpu', '@tensorflow/tfjs-node-gpu', 'tensorflow'],
    ['tfjs-node', '@tensorflow/tfjs-node', 'tensorflow'],
  ];
  for (const [name, pkg, backend] of native) {
    if (forced && forced !== name) continue;
    try {
      require(pkg);
      if (await tf.setBackend(backend)) {
        await tf.ready();
        tried.push(`${name}: loaded`);
        return { name, backend, tried, convGradients: true };
      }
      tried.push(`${name}: loaded but its backend did not initialise`);
    } catch (err) {
      tried.push(`${name}: not available (${reason(err)})`);
    }
  }
  if (!forced || forced === 'portable-wasm') {
    try {
      if (await tf.setBackend('wasm')) {
        await tf.ready();
        const portable = installPortableTraining(options);
        tried.push(
          `portable-wasm: loaded; our kernels for ${portable.kernels.join(', ')}; ${portable.delegated.length} other kernels it lacks would run on tfjs-cpu (named in the run if used)`,
        );
        return { name: 'portable-wasm', backend: 'wasm', tried, convGradients: hasConvGradients('wasm') };
      }
      tried.push('portable-wasm: backend did not initialise');
    } catch (err) {
      tried.push(`portable-wasm: failed (${reason(err)})`);
    }
  }
  await tf.setBackend('cpu');
  await tf.ready();
  tried.push('portable-cpu: plain JavaScript, the last resort');
  return { name: 'portable-cpu', backend: 'cpu', tried, convGradients: true };
}

/** The backend a strategy trains on: the engine's own, unless it cannot train convolutions. */
export function trainingBackend(engine: EngineInfo, trainsConvolutions: boolean): string {
  if (!trainsConvolutions || engine.convGradients) return engine.backend;
  return 'cpu';
}
