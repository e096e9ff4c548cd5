// The engine process. Started by the host with child_process.fork (or Electron's utilityProcess),
// it picks a compute engine (with the compute settings of the first message: the process reads
// none from its environment), trains one run at a time and streams what happens. It never
// touches the database: the host records everything from these messages.
import fs from 'node:fs';
import type { EngineInfo } from './backend.js';
import { ComputePlan, selectEngineFor, type ComputeSettings } from './compute-plan.js';
import { blockAtOrBelow, disposeBase, isGraphBase, loadBase, type Base, type GraphBase } from './base.js';
import { fusedInputSize } from './fused.js';
import { compareFeatures } from './compare-features.js';
import { measureSteps } from './step-timing.js';
import { measureFitRate } from './fit-rate.js';
import { FeatureCache } from './feature-cache.js';
import { runTraining, type Sample } from './run.js';
import { continueFrom } from './continue-from.js';
import { Cancelled } from './loop.js';
import { findTransitionPoint } from './transition.js';
import type { FromEngine, SampleRef, ToEngine } from './protocol.js';
import { decodeForModel } from '../import/preprocess.js';
import { handleSuggest } from '../suggest/engine-suggest.js';

// Electron's utilityProcess talks through process.parentPort; child_process.fork through process.send.
const parentPort = (
  process as unknown as { parentPort?: { on(event: 'message', cb: (e: { data: unknown }) => void): void; postMessage(m: unknown): void } }
).parentPort;
const send = (m: FromEngine) => (parentPort ? parentPort.postMessage(m) : process.send?.(m));
const cancelled = new Set<number>();
let enginePromise: Promise<EngineInfo> | null = null;
let busy: Promise<void> = Promise.resolve();

function samplesFrom(refs: SampleRef[], size: number): Sample[] {
  return refs.map((r) => {
    let pixels: Promise<Uint8Array> | null = null;
    return {
      key: r.key,
      label: r.label,
      split: r.split,
      // Decoded once per run, and only if the cache misses.
      pixels: () => (pixels ??= decodeForModel(fs.readFileSync(r.file), size).then((d) => d.data)),
    };
  });
}

/** The engine, chosen once per process under the first message's settings; announced when ready. */
function engineFor(compute: ComputeSettings): Promise<EngineInfo> {
  if (!enginePromise) {
    enginePromise = selectEngineFor(compute);
    void enginePromise.then((engine) => send({ type: 'ready', engine }));
  }
  return enginePromise;
}

async function handle(msg: Exclude<ToEngine, { type: 'cancel' }>): Promise<void> {
  const engine = await engineFor(msg.compute);
  if (msg.type === 'suggest') {
    const { requestId } = msg;
    const result = await handleSuggest(msg, (done, total) => send({ type: 'suggestProgress', requestId, done, total }));
    send({ type: 'suggested', requestId, result });
    return;
  }
  const plan = new ComputePlan(msg.compute, engine);
  if (msg.type === 'start') {
    send({ type: 'started', runId: msg.runId, engine });
    const loaded = await loadBase(msg.base);
    const base =
      msg.continueFrom && !isGraphBase(loaded) ? await continueFrom(loaded, msg.continueFrom.modelDir, msg.continueFrom.runId) : loaded;
    const others = await Promise.all((msg.otherBases ?? []).map((o) => loadBase(o.ref)));
    try {
      const bases = new Map<string, Base>();
      if (!isGraphBase(base)) bases.set(base.id, base);
      for (const o of others) if (!isGraphBase(o)) bases.set(o.id, o);
      // A fused model's one input is its largest trunk's size (fused.ts); pictures are decoded at it.
      const size = msg.config.fused?.length ? fusedInputSize([...bases.values()]) : base.inputSize;
      const out = await runTraining({
        base,
        bases,
        samples: samplesFrom(msg.samples, size),
        unlabeled: samplesFrom(
          (msg.unlabeled ?? []).map((u) => ({ ...u, label: -1, split: 'test' as const })),
          size,
        ),
        labels: msg.labels,
        config: msg.config,
        cache: new FeatureCache(msg.cacheDir, msg.cacheCapBytes ? { capBytes: msg.cacheCapBytes } : {}),
        engine,
        plan,
        outDir: msg.outDir,
        isCancelled: () => cancelled.has(msg.runId),
        onEpoch: (record) => send({ type: 'epoch', runId: msg.runId, record }),
        onProgress: (phase, done, total) => send({ type: 'progress', runId: msg.runId, phase, done, total }),
      });
      send({
        type: 'done',
        runId: msg.runId,
        summary: {
          metrics: out.metrics,
          modelDir: out.modelDir,
          featureLayer: out.featureLayer,
          boundary: out.boundary,
          backends: out.backends,
          epochs: out.epochs.length,
          evaluation: out.evaluation,
        },
      });
    } finally {
      disposeBase(base);
      others.forEach(disposeBase);
    }
  } else if (msg.type === 'compare') {
    const loaded = new Map<string, Promise<Base | GraphBase>>();
    const refs = new Map(msg.bases.map((b) => [b.id, b.ref]));
    const load = (id: string) => {
      if (!loaded.has(id)) loaded.set(id, loadBase(refs.get(id)!));
      return loaded.get(id)!;
    };
    try {
      const decoded = new Map(msg.bases.map((b) => [b.id, samplesFrom(msg.samples, b.ref.spec.inputSize)]));
      const scored = await compareFeatures(
        msg.candidates,
        msg.samples.map((s, i) => ({ label: s.label, split: s.split, source: (id: string) => decoded.get(id)![i]! })),
        load,
        new FeatureCache(msg.cacheDir),
        { seed: msg.seed, classWeights: msg.classWeights, compute: msg.compute },
      );
      send({ type: 'compared', requestId: msg.requestId, scored });
    } finally {
      for (const b of loaded.values()) disposeBase(await b);
    }
  } else if (msg.type === 'probe') {
    const base = await loadBase(msg.base);
    try {
      const result = await findTransitionPoint(base, samplesFrom(msg.samples, base.inputSize), new FeatureCache(msg.cacheDir), {
        seed: msg.seed,
        compute: msg.compute,
      });
      // The step timing trains at the wizard's own cut: the block end at or below the best layer.
      // A failed timing leaves the wizard on its rough estimate rather than failing it.
      let timing: Awaited<ReturnType<typeof measureSteps>> | undefined;
      // A graph model cannot be fine-tuned, so there is no training step to time.
      if (!isGraphBase(base))
        try {
          // The cut below the best layer; when that layer is a block end itself, the block below it.
          const anchor = blockAtOrBelow(base, result.best);
          const cut = anchor === result.best ? (base.blocks[base.blocks.indexOf(anchor) - 1] ?? anchor) : anchor;
          timing = await measureSteps(base, cut, result.best, plan);
        } catch (err) {
          process.stderr.write(`step timing failed: ${err instanceof Error ? err.message : String(err)}\n`);
        }
      // The convex head's arithmetic rate (a few tens of ms): its fit is a run's other cost than passes and steps.
      const measured = { ...result, fitMacsPerMs: measureFitRate() };
      send({
        type: 'probed',
        requestId: msg.requestId,
        result: timing
          ? { ...measured, stepMsPerImage: { partial: timing.partial, full: timing.full }, stepRuntime: timing.where }
          : measured,
      });
    } finally {
      disposeBase(base);
    }
  }
}

function onMessage(raw: unknown): void {
  const msg = raw as ToEngine;
  if (msg.type === 'cancel') {
    cancelled.add(msg.runId);
    return;
  }
  // One job at a time: two trainings would halve each other's speed and double the memory.
  busy = busy.then(() =>
    handle(msg as Exclude<ToEngine, { type: 'cancel' }>).catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      if (msg.environment.settings.debug && !(err instanceof Cancelled)) console.error(err);
      if (msg.type === 'start')
        send(err instanceof Cancelled ? { type: 'cancelled', runId: msg.runId } : { type: 'error', runId: msg.runId, message });
      if (msg.type === 'probe') send({ type: 'probeError', requestId: msg.requestId, message });
      if (msg.type === 'suggest') send({ type: 'suggestError', requestId: msg.requestId, message });
      if (msg.type === 'compare') send({ type: 'compareError', requestId: msg.requestId, message });
    }),
  );
}

if (parentPort) parentPort.on('message', (e) => onMessage(e.data));
else process.on('message', onMessage);

// The host going away must not leave a training process behind.
process.on('disconnect', () => process.exit(0));
