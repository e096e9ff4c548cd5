// The wizard's measurements, each in an engine process of its own: one base's probe (scores per
// block, the engine, its speeds, the recommendation), and strategy 3's feature candidates compared
// on the probes' cached features. The training service decides which bases to measure.
import { StudioError } from '../../shared/contract.js';
import { blockAtOrBelow, type BaseRef } from '../engine/base.js';
import { defaultConfig } from '../engine/config.js';
import type { EngineInfo } from '../engine/backend.js';
import type { EngineEnvironment } from '../environment.js';
import type { ComputeSettings } from '../engine/compute-settings.js';
import type { FromEngine, ProbeResult, ToEngine } from '../engine/protocol.js';
import { estimateAccuracy, recommend, type Recommendation } from '../engine/wizard.js';
import { chooseFeatures, featureCandidates, type FeatureChoice, type ProbedBase, type ScoredCandidate } from '../engine/feature-choice.js';
import type { FusedPart } from '../engine/fused.js';
import { layerNamesOf } from '../engine/model-folder.js';
import type { EngineChannel } from './engine-launcher.js';
import type { RunDataset } from './run-dataset.js';
import { fusedPassMsPerImage, speedFrom, type WizardSpeed } from './speeds.js';

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

/** What a measurement needs from the training service. */
export interface MeasureContext {
  base(baseId: string): BaseRef;
  dataset(projectId: number, leaveOut: readonly number[]): RunDataset;
  /** Runs `work` on a fresh engine process, counted as the wizard's while it lasts and stopped after. */
  measuring<T>(work: (child: EngineChannel) => Promise<T>): Promise<T>;
  /** The engine the last process announced. */
  lastEngine(): EngineInfo;
  /** What every engine message carries besides its own fields. */
  request: { environment: EngineEnvironment; cacheDir: string; compute: ComputeSettings };
  /** Frozen-pass speeds measured earlier in this host, by `engine/base` (a probe that read only its cache measured none). */
  lastForwardMs: Map<string, number>;
}

export const probeBest = (p: ProbeResult) => Math.max(...p.scores.map((s) => s.score));

/** Sends `message` and settles with the engine's answer (`answer` picks it, `failure` its error), or its exit. */
function askEngine<T>(
  child: EngineChannel,
  message: ToEngine,
  answer: (m: FromEngine) => T | undefined,
  failure: (m: FromEngine) => string | undefined,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    child.onMessage((m) => {
      const got = answer(m);
      if (got !== undefined) resolve(got);
      const error = failure(m);
      if (error !== undefined) reject(new StudioError('internal', error));
    });
    child.onExit(({ code, signal, stderr }) =>
      reject(new StudioError('internal', `The engine process stopped (${signal ?? `exit code ${code}`}). ${stderr.slice(-3).join(' ')}`)),
    );
    child.send(message);
  });
}

/** One base's probe, its engine's speeds and the wizard's recommendation from them. */
export async function measureBase(
  ctx: MeasureContext,
  projectId: number,
  baseId: string,
  seed: number,
  leaveOut: readonly number[],
): Promise<Omit<WizardResult, 'baseId'>> {
  const base = ctx.base(baseId);
  const spec = base.spec;
  const data = ctx.dataset(projectId, leaveOut);
  return ctx.measuring(async (child) => {
    const probe = await askEngine(
      child,
      { type: 'probe', requestId: 1, base, samples: data.samples, seed, ...ctx.request } satisfies ToEngine,
      (m) => (m.type === 'probed' ? m.result : undefined),
      (m) => (m.type === 'probeError' ? m.message : undefined),
    );
    const engine = ctx.lastEngine();
    const speed = speedFrom(
      engine,
      probe.forwardMsPerImage || (ctx.lastForwardMs.get(`${engine.name}/${baseId}`) ?? 100),
      probe.stepMsPerImage,
      probe.fitMacsPerMs,
    );
    if (probe.forwardMsPerImage) ctx.lastForwardMs.set(`${engine.name}/${baseId}`, probe.forwardMsPerImage);
    // Counted over training + validation only: the wizard never looks at the test split.
    const seen = data.samples.filter((s) => s.split !== 'test');
    const counts = data.labels.map((_, c) => seen.filter((s) => s.label === c).length);
    const recommendation = recommend({
      imagesPerLabel: Math.min(...counts),
      probeImages: seen.length,
      images: data.samples.length,
      labels: counts.length,
      probeScore: probeBest(probe),
      speed,
      blocks: spec.blocks,
      bestBlock: probe.best,
      anchorBlock: blockAtOrBelow(spec, probe.best),
      featuresOnly: base.format === 'graph',
    });
    return { probe, engine, speed, perLabel: data.perLabel, recommendation, estimate: recommendation.estimate };
  });
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

/**
 * Strategy 3's features, when the wizard chose it on layers bases: today's best layer, or fused
 * features (several probe points, both bases), by the probe's cross-validated ridge on
 * training + validation images and the one-standard-error rule (engine/feature-choice.ts).
 */
export async function refineFeatures(
  ctx: MeasureContext,
  projectId: number,
  best: WizardResult,
  all: WizardResult[],
  seed: number,
  leaveOut: readonly number[],
): Promise<WizardResult> {
  const layered = all.filter((w) => ctx.base(w.baseId).format !== 'graph' && w.probe.bytesTo);
  if (best.recommendation.strategy !== 'head' || !layered.includes(best)) return best;
  const probed: ProbedBase[] = [best, ...layered.filter((w) => w !== best)].map((w) => ({
    base: w.baseId,
    inputSize: ctx.base(w.baseId).spec.inputSize,
    scores: w.probe.scores,
    best: w.probe.best,
    bytesTo: w.probe.bytesTo!,
    layerNames: layerNamesOf(ctx.base(w.baseId).dir),
  }));
  const candidates = featureCandidates(probed);
  const data = ctx.dataset(projectId, leaveOut);
  let scored: ScoredCandidate[];
  try {
    scored = await ctx.measuring((child) =>
      askEngine(
        child,
        {
          type: 'compare',
          requestId: 1,
          bases: probed.map((p) => ({ id: p.base, ref: ctx.base(p.base) })),
          samples: data.samples,
          candidates,
          seed,
          classWeights: defaultConfig('head').classWeights,
          ...ctx.request,
        } satisfies ToEngine,
        (m) => (m.type === 'compared' ? m.scored : undefined),
        (m) => (m.type === 'compareError' ? m.message : undefined),
      ),
    );
  } catch (err) {
    // The comparison refines a choice already made: if it fails, today's single layer stands.
    process.stderr.write(`feature comparison failed, keeping the best layer: ${err instanceof Error ? err.message : String(err)}\n`);
    return best;
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
  // What each candidate would add to a run's frozen passes, for the run estimate of whichever is trained.
  const inputSizeOf = (id: string) => ctx.base(id).spec.inputSize;
  const candidatesWithPasses = choice.candidates.map((c) => ({ ...c, passMsPerImage: fusedPassMsPerImage(c.parts, all, inputSizeOf) }));
  return { ...best, recommendation, estimate: recommendation.estimate, features: { ...choice, candidates: candidatesWithPasses } };
}
