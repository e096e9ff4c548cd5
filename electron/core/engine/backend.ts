// Which compute engine this process trains on, and why. Native TensorFlow packages are
// optional dependencies (they download libtensorflow at install time), so each is tried in
// turn and the reason it was not used is kept for the run record and the UI.
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installCpuPointwiseGrads } from './kernels/cpu-pointwise-grads.js';
import { installWasmDelegates } from './kernels/wasm-delegate.js';

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
const CONV_GRADIENTS = ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'];

export function hasConvGradients(backend: string): boolean {
  return CONV_GRADIENTS.every((k) => tf.getKernel(k, backend) !== undefined);
}

function reason(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0]!.slice(0, 200);
}

/**
 * Picks the engine. `only` restricts the choice (tests, and the user forcing the portable
 * engine). STUDIO_ENGINE does the same from the environment.
 */
export async function selectEngine(only?: EngineName): Promise<EngineInfo> {
  const forced = only ?? (process.env.STUDIO_ENGINE as EngineName | undefined);
  // The cpu backend is where the portable engine trains convolutions; give it fast 1×1 gradients.
  installCpuPointwiseGrads();
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
        const native = hasConvGradients('wasm');
        // Kernels wasm lacks run on tfjs-cpu on copies of the data; training stays on wasm.
        const delegated = native ? [] : installWasmDelegates();
        tried.push(
          `portable-wasm: loaded${native ? '' : `; ${delegated.length} kernels it lacks run on tfjs-cpu, among them the convolution gradients (${delegated.filter((k) => /Backprop/.test(k)).join(', ')})`}`,
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

/** The backend a strategy trains on: wasm lacks convolution gradients today, cpu has them. */
export function trainingBackend(engine: EngineInfo, trainsConvolutions: boolean): string {
  if (!trainsConvolutions || engine.convGradients) return engine.backend;
  return 'cpu';
}
