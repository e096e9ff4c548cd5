// The compute settings of a host: the STUDIO_* variables that say where training computes,
// parsed once into a typed object that travels to the engine process in its messages. Kept apart
// from compute-plan.ts (which acts on them) so a host parses them without loading tfjs or ONNX
// Runtime.
import type { EngineName } from './backend.js';

const ENGINE_NAMES: readonly EngineName[] = ['tfjs-node-gpu', 'tfjs-node', 'portable-wasm', 'portable-cpu'];

/** The compute settings of a host, parsed once from its environment. */
export interface ComputeSettings {
  /** STUDIO_ENGINE: the only tfjs engine to try (null: the first that loads). */
  engine: EngineName | null;
  /** STUDIO_NATIVE_STEPS=0 turns this off: every fine-tuning step in tfjs (benchmarks compare both). */
  nativeSteps: boolean;
  /** STUDIO_NATIVE_GEMM=0 turns this off: the tfjs path's big gradient products stay in wasm. */
  nativeGemm: boolean;
  /** STUDIO_FROZEN=tfjs: the frozen pass in tfjs rather than ONNX Runtime. */
  frozen: 'auto' | 'tfjs';
}

export const DEFAULT_COMPUTE_SETTINGS: Readonly<ComputeSettings> = Object.freeze({
  engine: null,
  nativeSteps: true,
  nativeGemm: true,
  frozen: 'auto',
});

/** The variables readComputeSettings reads, with what each does (for the README and `--help`). */
export const COMPUTE_VARIABLES: Readonly<Record<string, string>> = Object.freeze({
  STUDIO_ENGINE: `only this tfjs engine (${ENGINE_NAMES.join(', ')}); default: the first that loads`,
  STUDIO_NATIVE_STEPS: '0 keeps every fine-tuning step in tfjs instead of ONNX Runtime; default 1',
  STUDIO_NATIVE_GEMM: "0 keeps the tfjs path's big gradient products in wasm instead of ONNX Runtime; default 1",
  STUDIO_FROZEN: 'tfjs runs the frozen pass (feature caching) in tfjs instead of ONNX Runtime; default auto',
});

function flag(env: Record<string, string | undefined>, name: string): boolean {
  const v = env[name];
  if (v === undefined || v === '' || v === '1') return true;
  if (v === '0') return false;
  throw new Error(`${name}=${v} is not understood: use 0 or 1.`);
}

/** Parses the compute variables of `env`; a value it does not understand is an error naming the choices. */
export function readComputeSettings(env: Record<string, string | undefined>): ComputeSettings {
  const engine = env.STUDIO_ENGINE || null;
  if (engine !== null && !ENGINE_NAMES.includes(engine as EngineName))
    throw new Error(`STUDIO_ENGINE=${engine} is not an engine: use one of ${ENGINE_NAMES.join(', ')}.`);
  const frozen = env.STUDIO_FROZEN || 'auto';
  if (frozen !== 'auto' && frozen !== 'tfjs') throw new Error(`STUDIO_FROZEN=${frozen} is not understood: use tfjs or auto.`);
  return {
    engine: engine as EngineName | null,
    nativeSteps: flag(env, 'STUDIO_NATIVE_STEPS'),
    nativeGemm: flag(env, 'STUDIO_NATIVE_GEMM'),
    frozen,
  };
}
