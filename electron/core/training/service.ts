// The host side of training: turns a project into a run request (run-dataset.ts), has the wizard
// measure (wizard-measure.ts), starts the engine process and records what it reports
// (run-follow.ts), cancels, and marks runs interrupted when the process dies.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../db/connection.js';
import type { DataPaths } from '../paths.js';
import { StudioError } from '../../shared/contract.js';
import type { BaseRef } from '../engine/base.js';
import type { EngineEnvironment, ResourceLocations } from '../environment.js';
import type { ModelRegistry } from '../models/registry.js';
import { defaultConfig, trainingDefaults, type TrainConfig } from '../engine/config.js';
import { readComputeSettings, type ComputeSettings } from '../engine/compute-settings.js';
import type { EngineInfo } from '../engine/backend.js';
import type { EpochRecord } from '../engine/loop.js';
import type { ToEngine } from '../engine/protocol.js';
import type { Strategy } from '../engine/wizard.js';
import { forkEngine, type EngineChannel, type EngineLauncher } from './engine-launcher.js';
import { runDataset, type RunDataset } from './run-dataset.js';
import { measureBase, probeBest, refineFeatures, type MeasureContext, type WizardResult } from './wizard-measure.js';
import * as runs from './runs.js';
import { followRun, type Active } from './run-follow.js';
import { recordRunImages, unlabeledImages } from '../eval/store.js';

// Tests and other services read these from here.
export { speedFrom } from './speeds.js';
export type { WizardResult } from './wizard-measure.js';

export const DEFAULT_BASE = 'mobilenet_v2';

export interface StartOptions {
  strategy?: Strategy | 'auto';
  baseId?: string;
  /** Anything the user set under "Advanced"; the rest comes from the wizard or the defaults. */
  overrides?: Partial<TrainConfig>;
  /** Train again from this finished run of the same project: its network and, unless overridden, its settings. */
  fromRunId?: number;
  /** Labels this run leaves out (a label far smaller than the others): their pictures stay in the project, untouched. */
  leaveOut?: number[];
}

export interface TrainingEvents {
  progress: [{ runId: number; phase: string; done: number; total: number; etaMs: number | null }];
  epoch: [{ runId: number; record: EpochRecord }];
  finished: [runs.RunRow];
  engine: [EngineInfo];
  /** No run trains and the wizard measures nothing: background users of the engine (suggestions) may resume. */
  idle: [];
}

export interface TrainingOptions {
  /** Where bases are found by id: the environment's model registry. */
  models: ModelRegistry;
  /** The engine's entry script (an environment resource). */
  engineEntry: ResourceLocations['engineEntry'];
  /** What the engine process is told about the environment, in every message that starts work. */
  engineEnvironment: EngineEnvironment;
  /** How engine processes start: child_process.fork unless the host has its own way (desktop: via main). */
  engineLauncher?: EngineLauncher;
  cacheCapBytes?: number;
  env?: NodeJS.ProcessEnv;
  /** Where runs compute; default: parsed from `env` (the compute plan's STUDIO_* variables). */
  compute?: ComputeSettings;
}

export class TrainingService extends EventEmitter<TrainingEvents> {
  private active = new Map<number, Active>();
  /** Wizard measurements under way. */
  private probing = 0;
  private lastEngine: EngineInfo | null = null;
  /** Where runs compute (STUDIO_ENGINE, STUDIO_NATIVE_STEPS, …), sent to the engine with each job. */
  readonly compute: ComputeSettings;

  constructor(
    private db: Db,
    private paths: DataPaths,
    private options: TrainingOptions,
  ) {
    super();
    // Parsed once: a value it does not understand stops the host with a message, not a run later.
    this.compute = options.compute ?? readComputeSettings(options.env ?? process.env);
    // A run still marked running was left by a host that died: say so before anyone looks.
    runs.markInterrupted(db);
  }

  get cacheDir(): string {
    return path.join(this.paths.root, 'cache', 'features');
  }

  /** A run or the wizard is using an engine: suggestions wait (two engines at once halve each other's speed). */
  get busy(): boolean {
    return this.active.size > 0 || this.probing > 0;
  }

  private emitIfIdle(): void {
    if (!this.busy) this.emit('idle');
  }

  /** A base by id from the model registry: built in, imported or downloaded. */
  base(baseId: string): BaseRef {
    const found = this.options.models.base(baseId);
    return { dir: found.dir, spec: found.spec, format: found.format };
  }

  /** Every run setting when nothing is changed: what `start` fills in, and what the Train tab shows. */
  defaults(): { baseId: string; byStrategy: Record<Strategy, TrainConfig> } {
    return { baseId: DEFAULT_BASE, byStrategy: trainingDefaults() };
  }

  /**
   * The project's labeled images as the engine wants them (run-dataset.ts), without the labels
   * this run leaves out.
   */
  dataset(projectId: number, leaveOut: readonly number[] = []): RunDataset {
    return runDataset(this.db, this.paths, projectId, leaveOut);
  }

  private spawn(): EngineChannel {
    const launcher = this.options.engineLauncher ?? forkEngine;
    const child = launcher.start({ entry: this.options.engineEntry, ...(this.options.env ? { env: this.options.env } : {}) });
    child.onMessage((m) => {
      if (m.type === 'ready' || m.type === 'started') {
        this.lastEngine = m.engine;
        this.emit('engine', m.engine);
      }
    });
    return child;
  }

  /**
   * The wizard's measurement: probe scores per block, the engine, its speed, and the
   * recommendation. Without a base named, every built-in base is probed and the one whose best
   * layer cross-validates best on training + validation images is chosen (ties: the default).
   */
  async wizard(projectId: number, baseId?: string, seed = 1, leaveOut: readonly number[] = []): Promise<WizardResult> {
    const ctx = this.measureContext;
    if (baseId !== undefined) return { baseId, ...(await measureBase(ctx, projectId, baseId, seed, leaveOut)) };
    const ids = this.options.models
      .builtIns()
      .map((b) => b.id)
      .sort((a, b) => (a === DEFAULT_BASE ? -1 : b === DEFAULT_BASE ? 1 : a < b ? -1 : 1));
    if (!ids.length) return { baseId: DEFAULT_BASE, ...(await measureBase(ctx, projectId, DEFAULT_BASE, seed, leaveOut)) };
    let best: WizardResult | null = null;
    const all: WizardResult[] = [];
    for (const id of ids) {
      const w = { baseId: id, ...(await measureBase(ctx, projectId, id, seed, leaveOut)) };
      all.push(w);
      if (!best || probeBest(w.probe) > probeBest(best.probe) + 1e-9) best = w;
    }
    return refineFeatures(ctx, projectId, best!, all, seed, leaveOut);
  }

  /** What the wizard's measurements (wizard-measure.ts) use of this service. */
  private get measureContext(): MeasureContext {
    return {
      base: (id) => this.base(id),
      dataset: (projectId, leaveOut) => this.dataset(projectId, leaveOut),
      measuring: async (work) => {
        const child = this.spawn();
        this.probing++;
        this.probingEngines.add(child);
        try {
          return await work(child);
        } finally {
          this.probingEngines.delete(child);
          child.kill();
          this.probing--;
          this.emitIfIdle();
        }
      },
      lastEngine: () => this.lastEngine!,
      request: { environment: this.options.engineEnvironment, cacheDir: this.cacheDir, compute: this.compute },
      lastForwardMs: this.lastForwardMs,
    };
  }

  /** Engines measuring for the wizard: closing the app stops them too (they outlived the web host, writing caches). */
  private readonly probingEngines = new Set<EngineChannel>();

  private lastForwardMs = new Map<string, number>();

  /** Starts a run; `done` settles with the run as recorded once it ends, however it ends. */
  async start(projectId: number, options: StartOptions = {}): Promise<{ runId: number; done: Promise<runs.RunRow> }> {
    const from = options.fromRunId !== undefined ? this.continuable(projectId, options.fromRunId, options.baseId) : null;
    let baseId = from?.baseId ?? options.baseId ?? DEFAULT_BASE;
    if (from && this.base(baseId).format === 'graph')
      throw new StudioError(
        'invalid',
        `Run ${from.id} is on a graph model, whose network does not change in training: start a new run instead.`,
      );
    const leaveOut = options.leaveOut ?? [];
    for (const id of leaveOut)
      if (!this.db.prepare('SELECT 1 FROM labels WHERE id = ? AND project_id = ?').get(id, projectId))
        throw new StudioError('not_found', `This project has no label with id ${id} to leave out.`);
    const data = this.dataset(projectId, leaveOut);
    let config: TrainConfig;
    if (from) {
      // Its settings, so "train again" means the same recipe on the labels as they are now; the
      // wizard measured the pretrained base, not this network, so it is not asked again.
      const strategy = options.strategy && options.strategy !== 'auto' ? options.strategy : from.config.strategy;
      config = defaultConfig(strategy, { ...from.config, ...options.overrides });
    } else if (!options.strategy || options.strategy === 'auto') {
      // With no base named, the wizard chooses it too.
      const w = await this.wizard(projectId, options.baseId, options.overrides?.seed ?? 1, leaveOut);
      baseId = w.baseId;
      const r = w.recommendation;
      config = defaultConfig(r.strategy, {
        featureLayer: r.featureLayer,
        fused: r.fused,
        boundary: r.boundary,
        lr: r.lr,
        epochs: r.epochs,
        warmupEpochs: r.warmupEpochs,
        ...options.overrides,
      });
    } else config = defaultConfig(options.strategy, options.overrides);
    const base = this.base(baseId);
    if (base.format === 'graph' && config.strategy !== 'head')
      throw new StudioError(
        'invalid',
        `"${baseId}" is a graph model: it computes features but cannot be fine-tuned, so only strategy 3 (a new classifier on its features) trains on it.`,
      );
    if (config.fused?.length && (config.strategy !== 'head' || from))
      throw new StudioError('invalid', 'Fused features train a new classifier only (strategy 3) on the pretrained bases.');
    // Every other base a fused run reads: looked up now, so a missing one fails before the run starts.
    const otherBases = [...new Set((config.fused ?? []).map((p) => p.base))]
      .filter((id) => id !== baseId)
      .map((id) => ({ id, ref: this.base(id) }));
    const runId = runs.createRun(this.db, projectId, baseId, config, from?.id ?? null);
    // What the run uses is recorded now, so even a failed run says what it was given.
    const unlabeled = unlabeledImages(this.db, projectId);
    recordRunImages(
      this.db,
      runId,
      data.imageIds.map((imageId, i) => ({ imageId, label: data.labels[data.samples[i]!.label]!, split: data.samples[i]!.split })),
      unlabeled.map((u) => u.id),
    );
    const outDir = path.join(this.paths.project(projectId), 'runs', String(runId), 'model');
    const child = this.spawn();
    const state: Active = { child, cancelRequested: false, ended: false, phaseStart: new Map() };
    this.active.set(runId, state);
    const done = followRun(
      this.db,
      { runId, state, outDir, config, labels: data.labels, imageIds: data.imageIds, unlabeledIds: unlabeled.map((u) => u.id) },
      {
        progress: (p) => this.emit('progress', p),
        epoch: (e) => this.emit('epoch', e),
        released: () => this.active.delete(runId),
        finished: (row) => this.emit('finished', row),
        settled: () => this.emitIfIdle(),
      },
    );
    child.send({
      type: 'start',
      runId,
      base,
      environment: this.options.engineEnvironment,
      labels: data.labels,
      samples: data.samples,
      unlabeled: unlabeled.map((u) => ({ key: u.sha256, file: this.paths.stored(projectId, u.sha256, u.format) })),
      config,
      outDir,
      cacheDir: this.cacheDir,
      compute: this.compute,
      ...(this.options.cacheCapBytes ? { cacheCapBytes: this.options.cacheCapBytes } : {}),
      ...(from ? { continueFrom: { runId: from.id, modelDir: from.modelFolder! } } : {}),
      ...(otherBases.length ? { otherBases } : {}),
    } satisfies ToEngine);
    return { runId, done };
  }

  /** The earlier run a new one may start from: finished, of this project, with its model, on the base asked for. */
  private continuable(projectId: number, fromRunId: number, baseId: string | undefined): runs.RunRow {
    const from = runs.getRun(this.db, fromRunId);
    if (from.projectId !== projectId) throw new StudioError('invalid', `Run ${fromRunId} belongs to another project.`);
    if (from.status !== 'done')
      throw new StudioError('invalid', `Run ${fromRunId} did not finish (${from.status}), so there is no network to start from.`);
    if (!from.modelFolder || !fs.existsSync(path.join(from.modelFolder, 'model.json')))
      throw new StudioError('not_found', `Run ${fromRunId}'s model is no longer on disk (deleted?), so there is no network to start from.`);
    if (baseId !== undefined && baseId !== from.baseId)
      throw new StudioError(
        'invalid',
        `Run ${fromRunId} was trained on "${from.baseId}"; a run continuing it uses the same base, not "${baseId}".`,
      );
    return from;
  }

  /** Asks the engine to stop between batches; kills it if it has not stopped within `graceMs`. */
  cancel(runId: number, graceMs = 15_000): void {
    const state = this.active.get(runId);
    if (!state) throw new StudioError('not_found', 'That run is not training.');
    state.cancelRequested = true;
    state.child.send({ type: 'cancel', runId } satisfies ToEngine);
    setTimeout(() => {
      if (!state.ended) state.child.kill('SIGKILL');
    }, graceMs).unref();
  }

  /** The engine process of a run, for tests and diagnostics. */
  processOf(runId: number): EngineChannel | null {
    return this.active.get(runId)?.child ?? null;
  }

  /** The host is going away: record its runs as interrupted now, while the database is still open. */
  close(): void {
    for (const [runId, s] of this.active) {
      if (!s.ended) {
        s.ended = true;
        runs.finishRun(this.db, runId, 'interrupted', { error: 'The app was closed while this run was training.' });
      }
      s.child.kill();
    }
    this.active.clear();
    for (const child of this.probingEngines) child.kill();
    this.probingEngines.clear();
  }
}
