// Where a run computes, decided in one place. Per run the plan picks
//   - the frozen pass (feature caching): ONNX Runtime on the first execution provider that loads
//     (CUDA, DirectML, CoreML — each listed with why it was not used — else CPU), falling back to
//     tfjs on the engine's backend when the part does not convert or no session opens;
//   - the head (strategy 3, and the warm-up of 1–2): tfjs on the engine's backend (cached
//     features: milliseconds per epoch anywhere);
//   - the fine-tuning step (strategies 1–2): the whole step in ONNX Runtime, falling back to tfjs
//     (wasm with our gradient kernels, else the cpu backend) when the settings or the engine say so,
//     a layer is not covered, or ONNX Runtime refuses the step graph — for any of these reasons.
// The run (run.ts), the wizard's step timing (step-timing.ts) and the run record all go through
// it, so the time the wizard measures is the time of the step the run will take.
//
// The compute settings (STUDIO_ENGINE, STUDIO_NATIVE_STEPS, STUDIO_NATIVE_GEMM, STUDIO_FROZEN) are
// parsed once by the host (readComputeSettings, in compute-settings.ts so hosts can parse them
// without loading tfjs or ONNX Runtime) and reach the engine process in its start and probe
// messages; nothing below reads process.env.
import * as tf from '@tensorflow/tfjs';
import { selectEngine, trainingBackend, type EngineInfo } from './backend.js';
import type { ComputeSettings } from './compute-settings.js';
import { isGraphBase, type Base, type GraphBase } from './base.js';
import { graphForward } from './graph-classifier.js';
import { onnxFrozenForward, tfjsFrozenForward, type FrozenForward, type OutputRequest } from './forward.js';
import type { Head } from './head.js';
import { microBatchFor } from './memory.js';
import { gradientMatMulRuntime } from './kernels/wasm-grads.js';
import { nativeStepBudget, nativeWords, openNativeTrainer, type OrtTrainer } from './ort-train/index.js';
import { candidateProviders, providerTrials, type ProviderName } from '../../../native/onnx-runtime.js';

export { COMPUTE_VARIABLES, DEFAULT_COMPUTE_SETTINGS, readComputeSettings, type ComputeSettings } from './compute-settings.js';

/** The engine process's tfjs engine under these settings. */
export function selectEngineFor(settings: ComputeSettings): Promise<EngineInfo> {
  return selectEngine(settings.engine, { nativeGemm: settings.nativeGemm });
}

/** One execution provider as the record shows it: used, or why not. */
export interface ProviderUse {
  provider: ProviderName;
  used: boolean;
  reason: string | null;
}

/** Where a fine-tuning step runs. */
export interface FineTuneStep {
  where: 'onnx' | 'tfjs';
  /** The native trainer when `where` is 'onnx' (the caller disposes it). */
  trainer: OrtTrainer | null;
  /** The record's words, e.g. "ONNX Runtime: the whole training step natively on 2 threads". */
  words: string;
  /** Why the step is not in ONNX Runtime; null when it is. */
  fallback: string | null;
  /** Images per pass (gradients of micro-batches are summed). */
  microBatch: number;
  /** Each execution provider tried for the native step, in the plan's order (empty when the step stays in tfjs before trying). */
  providers: ProviderUse[];
}

/** Opens a native trainer or says why there is none (injectable so tests can make ORT refuse). */
export type StepOpener = (
  net: tf.LayersModel,
  head: Head,
  variables: tf.Variable[],
  providers: ProviderName[],
) => Promise<{ trainer: OrtTrainer } | { reason: string }>;

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 200);
}

/** The words of a step as both the run record and the wizard's timing give them. */
export function stepWords(step: Pick<FineTuneStep, 'words' | 'fallback'>): string {
  return step.fallback ? `${step.words} (not in ONNX Runtime: ${step.fallback})` : step.words;
}

/**
 * A frozen pass for these outputs: ONNX Runtime unless the settings say tfjs or it fails (then
 * tfjs, saying why). A graph-model base always runs in tfjs: the ONNX converter reads layers models.
 */
export async function frozenPass(settings: ComputeSettings, base: Base | GraphBase, outputs: OutputRequest[]): Promise<FrozenForward> {
  if (isGraphBase(base)) return graphForward(base, outputs);
  if (settings.frozen === 'tfjs') return tfjsFrozenForward(base, outputs, 'STUDIO_FROZEN=tfjs');
  try {
    return await onnxFrozenForward(base, outputs);
  } catch (err) {
    return tfjsFrozenForward(base, outputs, `ONNX conversion or session failed: ${firstLine(err)}`);
  }
}

/** A record line of providers: "cuda not used: <why>; …; cpu used". */
function providerWords(uses: ProviderUse[]): string {
  return uses.map((p) => (p.used ? `${p.provider} used` : `${p.provider} not used: ${p.reason}`)).join('; ');
}

export class ComputePlan {
  private readonly parts: Record<string, string> = {};
  private providers: ProviderUse[] | null = null;

  constructor(
    readonly settings: ComputeSettings,
    readonly engine: EngineInfo,
    private readonly openStep: StepOpener = openNativeTrainer,
  ) {}

  /** The frozen pass for these outputs (see frozenPass), recorded as the run's. */
  async frozenPass(base: Base | GraphBase, outputs: OutputRequest[]): Promise<FrozenForward> {
    const forward = await frozenPass(this.settings, base, outputs);
    this.parts.frozen = forward.runtime + (forward.fallbackReason ? ` (${forward.fallbackReason})` : '');
    if (forward.onnx)
      this.providers = [
        { provider: forward.onnx.provider, used: true, reason: null },
        ...forward.onnx.skipped.map((s) => ({ provider: s.provider, used: false, reason: s.reason })),
      ];
    return forward;
  }

  /** The head trains on the engine's own backend; returns and records it. */
  head(): string {
    this.parts.head = tf.getBackend();
    return this.parts.head;
  }

  /** Switches tfjs to the backend fine-tuning uses (the engine's, unless it lacks convolution gradients). */
  async fineTuneBackend(): Promise<string> {
    const target = trainingBackend(this.engine, true);
    if (target !== tf.getBackend()) await tf.setBackend(target);
    return target;
  }

  /** Why fine-tuning steps stay in tfjs whatever the network, or null when ONNX Runtime may take them. */
  nativeRefusal(): string | null {
    if (!this.settings.nativeSteps) return 'turned off (STUDIO_NATIVE_STEPS=0)';
    if (this.engine.name === 'tfjs-node-gpu') return 'TensorFlow on the GPU is faster';
    return null;
  }

  /**
   * Where a fine-tuning step of `net` + `head` runs, with its trainer when native. Switches tfjs to
   * the backend fine-tuning uses (the optimizer's update runs there either way). Not recorded:
   * the wizard's timing asks this too; the run records its choice with `useFineTuneStep`.
   */
  async fineTuneStep(net: tf.LayersModel, head: Head, variables: tf.Variable[], batchSize: number): Promise<FineTuneStep> {
    await this.fineTuneBackend();
    const tfjs = (fallback: string, providers: ProviderUse[] = []): FineTuneStep => ({
      where: 'tfjs',
      trainer: null,
      words: tf.getBackend() === 'wasm' ? `wasm, big matrix products in ${gradientMatMulRuntime()}` : tf.getBackend(),
      fallback,
      microBatch: microBatchFor(net, batchSize),
      providers,
    });
    const refusal = this.nativeRefusal();
    if (refusal) return tfjs(refusal);
    // The same order as the frozen pass: GPU providers first where their libraries load, then CPU.
    const unavailable: { provider: ProviderName; reason: string }[] = [];
    const order = candidateProviders(unavailable);
    const notLoaded = unavailable.map((u) => ({ provider: u.provider, used: false, reason: u.reason }));
    let opened: Awaited<ReturnType<StepOpener>>;
    try {
      opened = await this.openStep(net, head, variables, order);
    } catch (err) {
      opened = { reason: `ONNX Runtime could not open the training step (${firstLine(err)})` };
    }
    if ('reason' in opened) {
      const reason = opened.reason;
      return tfjs(reason, [...notLoaded, ...order.map((provider) => ({ provider, used: false, reason }))]);
    }
    const { trainer } = opened;
    const tried = [
      ...notLoaded,
      ...trainer.skipped.map((s) => ({ provider: s.provider, used: false, reason: s.reason })),
      { provider: trainer.provider, used: true, reason: null },
    ];
    return {
      where: 'onnx',
      trainer: opened.trainer,
      words: nativeWords(opened.trainer),
      fallback: null,
      microBatch: microBatchFor(net, batchSize, nativeStepBudget()),
      providers: tried,
    };
  }

  /** fineTuneStep, recorded as the run's fine-tuning. */
  async useFineTuneStep(net: tf.LayersModel, head: Head, variables: tf.Variable[], batchSize: number): Promise<FineTuneStep> {
    const step = await this.fineTuneStep(net, head, variables, batchSize);
    this.parts.finetune = step.words;
    if (step.providers.length) this.parts.stepProviders = providerWords(step.providers);
    else delete this.parts.stepProviders;
    if (step.fallback) this.parts.nativeSteps = `not used: ${step.fallback}`;
    else delete this.parts.nativeSteps;
    return step;
  }

  /** Adds a part of the record the plan does not decide (e.g. kernels that ran on tfjs-cpu). */
  note(part: string, words: string): void {
    this.parts[part] = words;
  }

  /** ONNX Runtime's execution providers: the frozen pass's session's, or what this installation offers. */
  providerUses(): ProviderUse[] {
    if (this.providers) return this.providers;
    const trials = providerTrials();
    const first = trials.find((t) => t.available)!.provider;
    return trials.map((t) => ({ provider: t.provider, used: t.provider === first, reason: t.reason }));
  }

  /** The run record's "where each part computed", the execution providers tried included. */
  record(): Record<string, string> {
    return { ...this.parts, onnxProviders: providerWords(this.providerUses()) };
  }
}
