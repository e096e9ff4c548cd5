// ONNX Runtime session set-up: one intra-op thread per core (ORT is the only heavy user of
// the engine process while it runs), and the fastest execution provider this installation
// has — CUDA, DirectML or CoreML — else CPU. onnxruntime-node's install script (which would
// fetch CUDA/TensorRT provider libraries) is skipped on purpose, so here that means CPU.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-node';

const require = createRequire(import.meta.url);

export type ProviderName = 'cuda' | 'dml' | 'coreml' | 'cpu';

export interface OnnxSession {
  session: ort.InferenceSession;
  /** The execution provider the session was created with (first choice that loaded). */
  provider: ProviderName;
  threads: number;
  /** Why the faster providers were not used, for the engine's report. */
  skipped: { provider: ProviderName; reason: string }[];
}

export interface SessionOptions {
  /** Default: os.availableParallelism(). */
  threads?: number;
  /** Force a list (tests pin 'cpu' for reproducible numbers). */
  providers?: ProviderName[];
  /**
   * Let ORT's idle threads busy-wait. Off by default: image decoding (sharp) runs beside
   * inference on the same cores, and spinning threads steal its time (measured here: 44 vs
   * 33 images/s for MobileNetV2 batches of 16 on 2 shared cores).
   */
  spinning?: boolean;
  /** Errors only in ORT's log (the training step graphs make it warn about unused initializers). */
  quiet?: boolean;
  /**
   * ORT's memory pattern: after the first run, one block sized for every intermediate value of
   * the plan. Default on; the training step turns it off (see ort-train/ort-step.ts).
   */
  memoryPattern?: boolean;
}

/** Where onnxruntime-node keeps its native library (and any provider libraries installed beside it). */
function bindingDir(): string {
  return path.join(path.dirname(require.resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
}

/** A provider that is not bundled needs its shared library next to the binding (its install step puts it there). */
function providerLibraryPresent(name: string): boolean {
  const dir = bindingDir();
  if (!fs.existsSync(dir)) return false;
  return fs.readdirSync(dir).some((f) => f.includes(`providers_${name}`));
}

const PROVIDER_OS: Record<Exclude<ProviderName, 'cpu'>, { platforms: NodeJS.Platform[]; words: string }> = {
  cuda: { platforms: ['linux', 'win32'], words: 'CUDA runs on Linux and Windows only' },
  dml: { platforms: ['win32'], words: 'DirectML is Windows-only' },
  coreml: { platforms: ['darwin'], words: 'CoreML is macOS-only' },
};

export interface ProviderTrial {
  provider: ProviderName;
  /** Whether a session may be created with it here (its library is bundled or installed). */
  available: boolean;
  /** Why not, when it is not. */
  reason: string | null;
}

/**
 * Every execution provider this app knows, fastest first, with whether it can load here and why
 * not. GPU providers are listed even where they cannot apply, so a run's record says what was tried.
 */
export function providerTrials(platform: NodeJS.Platform = process.platform): ProviderTrial[] {
  const supported = new Map(ort.listSupportedBackends().map((b) => [b.name, b]));
  const out: ProviderTrial[] = [];
  for (const name of ['cuda', 'dml', 'coreml'] as const) {
    const where = PROVIDER_OS[name];
    const b = supported.get(name);
    // Trying an absent CUDA library makes ORT print an error; skip it quietly instead.
    const reason = !where.platforms.includes(platform)
      ? `not this OS (${where.words})`
      : !b
        ? 'not in this onnxruntime-node build'
        : b.bundled || providerLibraryPresent(name)
          ? null
          : 'provider library not present';
    out.push({ provider: name, available: reason === null, reason });
  }
  out.push({ provider: 'cpu', available: true, reason: null });
  return out;
}

/** Providers worth trying on this platform, fastest first; the others go to `unavailable` with the reason. */
export function candidateProviders(unavailable: OnnxSession['skipped'] = []): ProviderName[] {
  const out: ProviderName[] = [];
  for (const t of providerTrials()) {
    if (t.available) out.push(t.provider);
    else unavailable.push({ provider: t.provider, reason: t.reason! });
  }
  return out;
}

export async function createOnnxSession(model: Uint8Array | string, opts: SessionOptions = {}): Promise<OnnxSession> {
  const threads = opts.threads ?? os.availableParallelism();
  const skipped: OnnxSession['skipped'] = [];
  const providers = opts.providers ?? candidateProviders(skipped);
  for (const provider of providers) {
    const options: ort.InferenceSession.SessionOptions = {
      executionProviders: provider === 'cpu' ? ['cpu'] : [provider],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      enableMemPattern: opts.memoryPattern ?? true,
      extra: { session: { intra_op: { allow_spinning: opts.spinning ? '1' : '0' } } },
      ...(opts.quiet ? { logSeverityLevel: 3 as const } : {}),
    };
    try {
      const session =
        typeof model === 'string' ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
      return { session, provider, threads, skipped };
    } catch (err) {
      // A missing GPU library is expected on most machines; a bad model fails on CPU too.
      skipped.push({ provider, reason: err instanceof Error ? err.message.split('\n')[0]! : String(err) });
      if (provider === 'cpu') throw err;
    }
  }
  throw new Error(
    `no ONNX Runtime execution provider could load the model: ${skipped.map((s) => `${s.provider}: ${s.reason}`).join('; ')}`,
  );
}
