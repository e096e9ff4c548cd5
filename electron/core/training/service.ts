// The host side of training: turns a project into a run request, starts the engine process,
// records what it reports in SQLite, cancels, and marks runs interrupted when the process dies.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../db/connection.js';
import type { DataPaths } from '../paths.js';
import { StudioError } from '../../shared/contract.js';
import { blockAtOrBelow, type BaseRef } from '../engine/base.js';
import type { EngineEnvironment, ResourceLocations } from '../environment.js';
import type { ModelRegistry } from '../models/registry.js';
import { defaultConfig, trainingDefaults, type TrainConfig } from '../engine/config.js';
import { readComputeSettings, type ComputeSettings } from '../engine/compute-settings.js';
import type { EngineInfo } from '../engine/backend.js';
import type { EpochRecord } from '../engine/loop.js';
import type { ProbeResult, SampleRef, ToEngine } from '../engine/protocol.js';
import { estimateAccuracy, recommend, type Recommendation, type Strategy } from '../engine/wizard.js';
import { fusedPassMsPerImage, speedFrom, type WizardSpeed } from './speeds.js';
import { chooseFeatures, featureCandidates, type FeatureChoice, type ProbedBase, type ScoredCandidate } from '../engine/feature-choice.js';
import type { FusedPart } from '../engine/fused.js';
import { layerNamesOf } from '../engine/model-folder.js';
import { forkEngine, type EngineChannel, type EngineLauncher } from './engine-launcher.js';
import { trainingImages } from './splits.js';
import * as runs from './runs.js';
import { diskFullMessage, isDiskFull } from '../storage/disk-full.js';
import { releaseReserves } from '../storage/reserve.js';
import { scrubInstallPaths } from '../install-paths.js';
import { recordRunImages, saveRunEvaluation, unlabeledImages } from '../eval/store.js';

// Tests read it from here.
export { speedFrom } from './speeds.js';

export const DEFAULT_BASE = 'mobilenet_v2';

export interface WizardResult {
  /** The base measured (the one named, or the wizard's choice among the built-in bases). */
  baseId: string;
  probe: ProbeResult;
  engine: EngineInfo;
  speed: WizardSpeed;
  perLabel: Record<string, number>;
  recommendation: Recommendation;
  estimate: Recommendation['estimate'];
  /** Strategy 3's feature candidates as measured, and which one the wizard chose (engine/feature-choice.ts). */
  features?: FeatureChoice;
}

function describeParts(parts: FusedPart[]): string {
  const bases = [...new Set(parts.map((p) => p.base))];
  return bases
    .map(
      (b) =>
        `${b} at ${parts
          .filter((p) => p.base === b)
          .map((p) => p.layer)
          .join(' and ')}`,
    )
    .join(' with ');
}

const probeBest = (p: ProbeResult) => Math.max(...p.scores.map((s) => s.score));

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

interface Active {
  child: EngineChannel;
  cancelRequested: boolean;
  ended: boolean;
  phaseStart: Map<string, number>;
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
   * The project's labeled images as the engine wants them. Classes are numbered in label-name
   * order (code points), not display order: the importer creates labels as files finish, so
   * display order can differ between two imports of the same folder, and class numbering decides
   * the head's initial weights.
   */
  dataset(
    projectId: number,
    leaveOut: readonly number[] = [],
  ): { labels: string[]; samples: SampleRef[]; imageIds: number[]; perLabel: Record<string, number> } {
    // In content order, not row-id order: the engine draws folds, shuffles, augmentations and
    // feature batches by position, so two projects holding the same pictures (imported in any
    // order, at any time) must hand them over in the same order to train the same model.
    const left = new Set(leaveOut);
    const images = trainingImages(this.db, projectId)
      .filter((i) => !left.has(i.labelId))
      .sort((a, b) => (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : a.id - b.id));
    const labelRows = this.db.prepare('SELECT id, name FROM labels WHERE project_id = ?').all(projectId) as { id: number; name: string }[];
    labelRows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id - b.id));
    const used = labelRows.filter((l) => images.some((i) => i.labelId === l.id));
    const index = new Map(used.map((l, i) => [l.id, i]));
    const samples = images.map((i) => ({
      key: i.sha256,
      file: this.paths.stored(projectId, i.sha256, i.format),
      label: index.get(i.labelId)!,
      split: i.split,
    }));
    const perLabel = Object.fromEntries(used.map((l) => [l.name, images.filter((i) => i.labelId === l.id).length]));
    if (used.length < 2)
      throw new StudioError(
        'invalid',
        left.size > 0
          ? 'Training needs images in at least two labels besides the ones left out.'
          : 'Training needs images in at least two labels.',
      );
    return { labels: used.map((l) => l.name), samples, imageIds: images.map((i) => i.id), perLabel };
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
    if (baseId !== undefined) return { baseId, ...(await this.wizardFor(projectId, baseId, seed, leaveOut)) };
    const ids = this.options.models
      .builtIns()
      .map((b) => b.id)
      .sort((a, b) => (a === DEFAULT_BASE ? -1 : b === DEFAULT_BASE ? 1 : a < b ? -1 : 1));
    if (!ids.length) return { baseId: DEFAULT_BASE, ...(await this.wizardFor(projectId, DEFAULT_BASE, seed, leaveOut)) };
    let best: WizardResult | null = null;
    const all: WizardResult[] = [];
    for (const id of ids) {
      const w = { baseId: id, ...(await this.wizardFor(projectId, id, seed, leaveOut)) };
      all.push(w);
      if (!best || probeBest(w.probe) > probeBest(best.probe) + 1e-9) best = w;
    }
    return this.chooseFeatures(projectId, best!, all, seed, leaveOut);
  }

  /**
   * Strategy 3's features, when the wizard chose it on layers bases: today's best layer, or fused
   * features (several probe points, both bases), by the probe's cross-validated ridge on
   * training + validation images and the one-standard-error rule (engine/feature-choice.ts).
   */
  private async chooseFeatures(
    projectId: number,
    best: WizardResult,
    all: WizardResult[],
    seed: number,
    leaveOut: readonly number[],
  ): Promise<WizardResult> {
    const layered = all.filter((w) => this.base(w.baseId).format !== 'graph' && w.probe.bytesTo);
    if (best.recommendation.strategy !== 'head' || !layered.includes(best)) return best;
    const probed: ProbedBase[] = [best, ...layered.filter((w) => w !== best)].map((w) => ({
      base: w.baseId,
      inputSize: this.base(w.baseId).spec.inputSize,
      scores: w.probe.scores,
      best: w.probe.best,
      bytesTo: w.probe.bytesTo!,
      layerNames: layerNamesOf(this.base(w.baseId).dir),
    }));
    const candidates = featureCandidates(probed);
    const data = this.dataset(projectId, leaveOut);
    const child = this.spawn();
    this.probing++;
    this.probingEngines.add(child);
    let scored: ScoredCandidate[];
    try {
      scored = await new Promise<ScoredCandidate[]>((resolve, reject) => {
        child.onMessage((m) => {
          if (m.type === 'compared') resolve(m.scored);
          if (m.type === 'compareError') reject(new StudioError('internal', m.message));
        });
        child.onExit(({ code, signal, stderr }) =>
          reject(
            new StudioError('internal', `The engine process stopped (${signal ?? `exit code ${code}`}). ${stderr.slice(-3).join(' ')}`),
          ),
        );
        child.send({
          type: 'compare',
          requestId: 1,
          bases: probed.map((p) => ({ id: p.base, ref: this.base(p.base) })),
          environment: this.options.engineEnvironment,
          samples: data.samples,
          candidates,
          cacheDir: this.cacheDir,
          seed,
          classWeights: defaultConfig('head').classWeights,
          compute: this.compute,
        } satisfies ToEngine);
      });
    } catch (err) {
      // The comparison refines a choice already made: if it fails, today's single layer stands.
      process.stderr.write(`feature comparison failed, keeping the best layer: ${err instanceof Error ? err.message : String(err)}\n`);
      return best;
    } finally {
      this.probingEngines.delete(child);
      child.kill();
      this.probing--;
      this.emitIfIdle();
    }
    const { chosen, choice } = chooseFeatures(scored);
    const seen = data.samples.filter((s) => s.split !== 'test').length;
    const mb = (bytes: number) => `${Math.round(bytes / 1e6)} MB`;
    const single = scored.find((c) => c.name === 'single')!;
    const fused = chosen.name === 'single' ? null : chosen.parts;
    const words =
      fused === null
        ? ` Reading more layers or a second base did not beat this by more than the measurement's noise, so the model stays at ${mb(single.bytes)}.`
        : ` Reading ${describeParts(chosen.parts)} (average and strongest response of each) scored ${Math.round(chosen.accuracy * 100)}% against ${Math.round(single.accuracy * 100)}% for one layer in the same check, so the model carries them (${mb(chosen.bytes)}).`;
    const recommendation: Recommendation = {
      ...best.recommendation,
      featureLayer: chosen.parts[0]!.layer,
      fused,
      estimate: estimateAccuracy(chosen.accuracy, seen),
      reason: best.recommendation.reason + words,
    };
    const passMs = fused ? fusedPassMsPerImage(fused, all, (id) => this.base(id).spec.inputSize) : 0;
    return {
      ...best,
      speed: { ...best.speed, ...(passMs > 0 ? { fusedPassMsPerImage: passMs } : {}) },
      recommendation,
      estimate: recommendation.estimate,
      features: choice,
    };
  }

  private async wizardFor(
    projectId: number,
    baseId: string,
    seed: number,
    leaveOut: readonly number[],
  ): Promise<Omit<WizardResult, 'baseId'>> {
    const base = this.base(baseId);
    const spec = base.spec;
    const data = this.dataset(projectId, leaveOut);
    const child = this.spawn();
    this.probing++;
    this.probingEngines.add(child);
    try {
      const probe = await new Promise<ProbeResult>((resolve, reject) => {
        child.onMessage((m) => {
          if (m.type === 'probed') resolve(m.result);
          if (m.type === 'probeError') reject(new StudioError('internal', m.message));
        });
        child.onExit(({ code, signal, stderr }) =>
          reject(
            new StudioError('internal', `The engine process stopped (${signal ?? `exit code ${code}`}). ${stderr.slice(-3).join(' ')}`),
          ),
        );
        child.send({
          type: 'probe',
          requestId: 1,
          base,
          environment: this.options.engineEnvironment,
          samples: data.samples,
          cacheDir: this.cacheDir,
          seed,
          compute: this.compute,
        } satisfies ToEngine);
      });
      const engine = this.lastEngine!;
      const speed = speedFrom(
        engine,
        probe.forwardMsPerImage || (this.lastForwardMs.get(`${engine.name}/${baseId}`) ?? 100),
        probe.stepMsPerImage,
        probe.fitMacsPerMs,
      );
      if (probe.forwardMsPerImage) this.lastForwardMs.set(`${engine.name}/${baseId}`, probe.forwardMsPerImage);
      // Counted over training + validation only: the wizard never looks at the test split.
      const seen = data.samples.filter((s) => s.split !== 'test');
      const counts = data.labels.map((_, c) => seen.filter((s) => s.label === c).length);
      const recommendation = recommend({
        imagesPerLabel: Math.min(...counts),
        probeImages: seen.length,
        images: data.samples.length,
        labels: counts.length,
        probeScore: Math.max(...probe.scores.map((s) => s.score)),
        speed,
        blocks: spec.blocks,
        bestBlock: probe.best,
        anchorBlock: blockAtOrBelow(spec, probe.best),
        featuresOnly: base.format === 'graph',
      });
      return { probe, engine, speed, perLabel: data.perLabel, recommendation, estimate: recommendation.estimate };
    } finally {
      this.probingEngines.delete(child);
      child.kill();
      this.probing--;
      this.emitIfIdle();
    }
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
    const done = new Promise<runs.RunRow>((resolve) => {
      const end = (status: 'done' | 'failed' | 'cancelled' | 'interrupted', details: Parameters<typeof runs.finishRun>[3] = {}) => {
        if (state.ended) return;
        state.ended = true;
        runs.finishRun(this.db, runId, status, details);
        this.active.delete(runId);
        child.release();
        const row = runs.getRun(this.db, runId);
        this.emit('finished', row);
        resolve(row);
        this.emitIfIdle();
      };
      child.onMessage((m) => {
        if (!('runId' in m) || m.runId !== runId) return;
        switch (m.type) {
          case 'started':
            runs.markRunning(this.db, runId, m.engine.name);
            break;
          case 'progress': {
            const key = `${m.phase}`;
            if (m.done === 0 || !state.phaseStart.has(key)) state.phaseStart.set(key, Date.now());
            const elapsed = Date.now() - state.phaseStart.get(key)!;
            this.emit('progress', {
              runId,
              phase: m.phase,
              done: m.done,
              total: m.total,
              etaMs: m.done > 0 ? Math.round((elapsed / m.done) * (m.total - m.done)) : null,
            });
            break;
          }
          case 'epoch':
            runs.addEpoch(this.db, runId, m.record);
            this.emit('epoch', { runId, record: m.record });
            break;
          case 'done':
            // A Stop pressed while the run was already saving its model still stops it: the
            // user asked for no model, and a run that says Done after Stop reads as ignored.
            if (state.cancelRequested) {
              fs.rmSync(outDir, { recursive: true, force: true });
              end('cancelled');
              break;
            }
            if (m.summary.evaluation)
              saveRunEvaluation(
                this.db,
                runId,
                data.labels,
                m.summary.evaluation,
                data.imageIds,
                unlabeled.map((u) => u.id),
              );
            end('done', {
              modelFolder: m.summary.modelDir,
              metrics: m.summary.metrics,
              backends: m.summary.backends,
              config: { ...config, featureLayer: m.summary.featureLayer, boundary: m.summary.boundary },
            });
            break;
          case 'cancelled':
            end('cancelled');
            break;
          case 'error':
            if (isDiskFull({ message: m.message })) {
              // A model half-written on a full disk is useless and holds the space the user needs.
              releaseReserves();
              fs.rmSync(outDir, { recursive: true, force: true });
              end('failed', { error: diskFullMessage('The run stopped and its partial model was removed.') });
            } else end('failed', { error: scrubInstallPaths(m.message) });
            break;
        }
      });
      child.onExit(({ code, signal, stderr }) => {
        if (state.cancelRequested) end('cancelled');
        else
          end('interrupted', {
            error: `The engine process stopped unexpectedly (${signal ?? `exit code ${code}`}).${stderr.length ? ` ${stderr.slice(-3).join(' ')}` : ''}`,
          });
      });
    });
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
