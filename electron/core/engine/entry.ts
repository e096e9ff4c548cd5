// The engine process. Started by the host with child_process.fork (or Electron's utilityProcess),
// it picks a compute engine, trains one run at a time and streams what happens. It never
// touches the database: the host records everything from these messages.
import fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { selectEngine, trainingBackend, type EngineInfo } from './backend.js';
import { blockAtOrBelow, loadBaseFolder } from './base.js';
import { measureSteps } from './step-timing.js';
import { nativeStepsWanted } from './ort-train/index.js';
import { FeatureCache } from './feature-cache.js';
import { runTraining, type Sample } from './run.js';
import { Cancelled } from './loop.js';
import { findTransitionPoint } from './transition.js';
import type { FromEngine, SampleRef, ToEngine } from './protocol.js';
import { decodeForModel } from '../import/preprocess.js';

// Electron's utilityProcess talks through process.parentPort; child_process.fork through process.send.
const parentPort = (
  process as unknown as { parentPort?: { on(event: 'message', cb: (e: { data: unknown }) => void): void; postMessage(m: unknown): void } }
).parentPort;
const send = (m: FromEngine) => (parentPort ? parentPort.postMessage(m) : process.send?.(m));
const cancelled = new Set<number>();
const enginePromise: Promise<EngineInfo> = selectEngine();
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

async function handle(msg: ToEngine): Promise<void> {
  const engine = await enginePromise;
  if (msg.type === 'start') {
    send({ type: 'started', runId: msg.runId, engine });
    const base = await loadBaseFolder(msg.base.dir, msg.base.spec);
    try {
      const out = await runTraining({
        base,
        samples: samplesFrom(msg.samples, base.inputSize),
        labels: msg.labels,
        config: msg.config,
        cache: new FeatureCache(msg.cacheDir, msg.cacheCapBytes ? { capBytes: msg.cacheCapBytes } : {}),
        engine,
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
        },
      });
    } finally {
      base.model.dispose();
    }
  } else if (msg.type === 'probe') {
    const base = await loadBaseFolder(msg.base.dir, msg.base.spec);
    try {
      const result = await findTransitionPoint(base, samplesFrom(msg.samples, base.inputSize), new FeatureCache(msg.cacheDir), {
        seed: msg.seed,
      });
      // The step timing trains at the wizard's own cut: the block end at or below the best layer.
      // A failed timing leaves the wizard on its rough estimate rather than failing it.
      let timing: { partial: number; full: number } | undefined;
      try {
        const engine = await enginePromise;
        await tf.setBackend(trainingBackend(engine, true));
        // The cut below the best layer; when that layer is a block end itself, the block below it.
        const anchor = blockAtOrBelow(base, result.best);
        const cut = anchor === result.best ? (base.blocks[base.blocks.indexOf(anchor) - 1] ?? anchor) : anchor;
        timing = await measureSteps(base, cut, result.best, nativeStepsWanted(engine));
      } catch (err) {
        process.stderr.write(`step timing failed: ${err instanceof Error ? err.message : String(err)}\n`);
      }
      send({ type: 'probed', requestId: msg.requestId, result: timing ? { ...result, stepMsPerImage: timing } : result });
    } finally {
      base.model.dispose();
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
    handle(msg).catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      if (msg.environment.settings.debug && !(err instanceof Cancelled)) console.error(err);
      if (msg.type === 'start')
        send(err instanceof Cancelled ? { type: 'cancelled', runId: msg.runId } : { type: 'error', runId: msg.runId, message });
      if (msg.type === 'probe') send({ type: 'probeError', requestId: msg.requestId, message });
    }),
  );
}

if (parentPort) parentPort.on('message', (e) => onMessage(e.data));
else process.on('message', onMessage);

// The host going away must not leave a training process behind.
process.on('disconnect', () => process.exit(0));

void enginePromise.then((engine) => send({ type: 'ready', engine }));
