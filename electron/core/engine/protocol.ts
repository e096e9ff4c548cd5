// Messages between the host and the engine process (child_process.fork / utilityProcess).
// Plain data only: they cross a process boundary.
import type { TrainConfig } from './config.js';
import type { EngineInfo } from './backend.js';
import type { ComputeSettings } from './compute-settings.js';
import type { EpochRecord } from './loop.js';
import type { FinalMetrics } from './metrics.js';
import type { BaseRef } from './base.js';
import type { EngineEnvironment } from '../environment.js';
import type { RunEvaluation } from '../eval/run-evaluation.js';
import type { FeatureCandidate, ScoredCandidate } from './feature-choice.js';

export interface SampleRef {
  /** Content key (sha256): names cache entries. */
  key: string;
  file: string;
  label: number;
  split: 'train' | 'validation' | 'test';
}

export interface StartRun {
  type: 'start';
  runId: number;
  /** The base's folder and spec, as the host's model registry resolved them. */
  base: BaseRef;
  environment: EngineEnvironment;
  labels: string[];
  samples: SampleRef[];
  /** The project's unlabeled images, which the finished run predicts as well. */
  unlabeled?: { key: string; file: string }[];
  config: TrainConfig;
  outDir: string;
  cacheDir: string;
  cacheCapBytes?: number;
  /** The host's compute settings: the engine process reads no environment for them. */
  compute: ComputeSettings;
  /** Start from this earlier run's network (its saved model folder) instead of the pretrained base. */
  continueFrom?: { runId: number; modelDir: string };
  /** The other bases a fused run reads (config.fused), besides `base`. */
  otherBases?: { id: string; ref: BaseRef }[];
}

/** The wizard's comparison of feature candidates (feature-choice.ts) on training + validation images. */
export interface CompareRequest {
  type: 'compare';
  requestId: number;
  bases: { id: string; ref: BaseRef }[];
  environment: EngineEnvironment;
  samples: SampleRef[];
  candidates: FeatureCandidate[];
  cacheDir: string;
  seed: number;
  classWeights: boolean;
  compute: ComputeSettings;
}

export interface ProbeRequest {
  type: 'probe';
  requestId: number;
  base: BaseRef;
  environment: EngineEnvironment;
  samples: SampleRef[];
  cacheDir: string;
  seed: number;
  compute: ComputeSettings;
}

/** Labeling suggestions (suggest/engine-suggest.ts): a quick fit on labeled pictures, probabilities for the rest. */
export interface SuggestRequest {
  type: 'suggest';
  requestId: number;
  /** The bases read and, per base, the layers whose average and maximum the quick model reads. */
  parts: { base: BaseRef; layers: string[] }[];
  environment: EngineEnvironment;
  compute: ComputeSettings;
  cacheDir: string;
  labeled: { key: string; file: string; label: number }[];
  unlabeled: { key: string; file: string }[];
  classes: number;
}

export interface SuggestResult {
  /** Per unlabeled picture, in the request's order. */
  probabilities: number[][];
  newFeatures: number;
  featureMs: number;
  fitMs: number;
}

export type ToEngine = StartRun | ProbeRequest | SuggestRequest | CompareRequest | { type: 'cancel'; runId: number };

export interface RunSummary {
  metrics: FinalMetrics;
  modelDir: string;
  featureLayer: string;
  boundary: string | null;
  backends: Record<string, string>;
  epochs: number;
  /** Per-image predictions: held-out, out-of-fold, unlabeled (in the order of StartRun's samples and unlabeled). */
  evaluation?: RunEvaluation;
}

export interface ProbeResult {
  scores: { layer: string; score: number }[];
  best: string;
  forwardMsPerImage: number;
  /** What ran the frozen pass ('onnx-cpu', 'wasm', or 'cache' when nothing had to run). */
  runtime: string;
  /** A measured training step of strategies 2 and 1 on this engine, ms per image. */
  stepMsPerImage?: { partial: number; full: number };
  /** Where each step was timed, in the words the run records (the compute plan's choice). */
  stepRuntime?: { partial: string; full: string };
  /** Weight bytes (float32) from the input up to each probe point: what a trunk cut there carries. */
  bytesTo?: Record<string, number>;
  /** Multiply-adds per ms of the convex head's fit on this machine (fit-rate.ts): the run estimate's fit term. */
  fitMacsPerMs?: number;
}

export type FromEngine =
  | { type: 'ready'; engine: EngineInfo }
  | { type: 'started'; runId: number; engine: EngineInfo }
  | { type: 'progress'; runId: number; phase: string; done: number; total: number }
  | { type: 'epoch'; runId: number; record: EpochRecord }
  | { type: 'done'; runId: number; summary: RunSummary }
  | { type: 'cancelled'; runId: number }
  | { type: 'error'; runId: number; message: string }
  | { type: 'probed'; requestId: number; result: ProbeResult }
  | { type: 'probeError'; requestId: number; message: string }
  | { type: 'suggestProgress'; requestId: number; done: number; total: number }
  | { type: 'suggested'; requestId: number; result: SuggestResult }
  | { type: 'suggestError'; requestId: number; message: string }
  | { type: 'compared'; requestId: number; scored: ScoredCandidate[] }
  | { type: 'compareError'; requestId: number; message: string };
