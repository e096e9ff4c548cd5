// A strategy-3 run on fused features (fused.ts): every trunk's frozen pass in ONNX Runtime,
// cached per image per (base, layer, pooling); the convex head on the concatenation; one saved
// model holding every trunk, so the app's prediction and every export run the same graph.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Base } from './base.js';
import { FUSED_POOLS, fusedFeatures, fusedInputSize, trunkFeatures, trunksOf, type FusedPart } from './fused.js';
import type { Head } from './head.js';
import { cachedRows, pooledCacheName, pooledFeatures } from './transition.js';
import type { FrozenForward } from './forward.js';
import type { PixelSource } from './frozen.js';
import { fitHead } from './linear-head.js';
import { classWeightsFor, evaluate, type EpochRecord, type LoopSpec } from './loop.js';
import { confusionMetrics } from './metrics.js';
import { saveModelFolder } from './model-folder.js';
import { subSeed } from './seeded.js';
import { splitIndices } from './run-items.js';
import { ComputePlan, DEFAULT_COMPUTE_SETTINGS } from './compute-plan.js';
import { convertToOnnxDetailed } from './onnx/index.js';
import { runBatch } from './onnx/run.js';
import { createOnnxSession } from '../../../native/onnx-runtime.js';
import { PREPROCESSING } from '../import/preprocess.js';
import { evaluateRun, heldOutRows, inBatches } from '../eval/run-evaluation.js';
import type { RunInput, RunOutput } from './run.js';
import { concatRows } from './rows.js';

/**
 * The frozen pass of a trunk fed the fused input when its own size is smaller: the fused graph's
 * own sub-graph (scaling, in-graph resize, trunk, pooling), converted to ONNX. Sessions are kept
 * for the process's life, as forward.ts keeps its own.
 */
const resizedSessions = new Map<string, Promise<Pick<FrozenForward, 'run' | 'runtime'>>>();

function resizedTrunkForward(base: Base, size: number, layers: string[]): Promise<Pick<FrozenForward, 'run' | 'runtime'>> {
  const key = `${base.id}@${size}|${layers.join(',')}`;
  let entry = resizedSessions.get(key);
  if (!entry) {
    entry = (async () => {
      const input = tf.input({ shape: [size, size, 3], name: 'pixels' });
      const pooled = trunkFeatures(input, base, size, layers, 'trunk');
      const model = tf.model({ inputs: input, outputs: pooled.map((p) => p.tensor), name: `${base.id}_at_${size}` });
      try {
        const converted = convertToOnnxDetailed(model, { inputScaling: { from: [0, 255], to: [0, 255] } });
        const onnx = await createOnnxSession(converted.bytes);
        const names = pooled.map((p) => p.name);
        return {
          runtime: `onnx-${onnx.provider}`,
          async run(pixels: Uint8Array[]) {
            const out = await runBatch(onnx.session, pixels, [size, size, 3]);
            return names.map((name) => {
              const { data, perImage } = out[name]!;
              return pixels.map((_, i) => data.slice(i * perImage, (i + 1) * perImage));
            });
          },
        };
      } catch (err) {
        // The same graph in tfjs: slower, same numbers to float precision.
        process.stderr.write(`fused trunk not in ONNX Runtime: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n`);
        return {
          runtime: tf.getBackend(),
          async run(pixels: Uint8Array[]) {
            const per = size * size * 3;
            const buf = new Float32Array(pixels.length * per);
            pixels.forEach((p, i) => buf.set(p, i * per));
            const flats = tf.tidy(() => {
              const ys = model.predict(tf.tensor4d(buf, [pixels.length, size, size, 3])) as tf.Tensor | tf.Tensor[];
              return (Array.isArray(ys) ? ys : [ys]).map((y) => y.dataSync() as Float32Array);
            });
            return flats.map((flat) => {
              const each = flat.length / pixels.length;
              return pixels.map((_, i) => flat.slice(i * each, (i + 1) * each));
            });
          },
        };
      }
    })();
    resizedSessions.set(key, entry);
    entry.catch(() => resizedSessions.delete(key));
  }
  return entry;
}

/** Fused feature rows of these pictures (decoded at the fused input size), in fused.ts's order. */
async function fusedRows(
  sources: PixelSource[],
  bases: Map<string, Base>,
  parts: FusedPart[],
  size: number,
  input: Pick<RunInput, 'cache' | 'isCancelled'> & { compute: ComputePlan['settings'] },
  onTrunk?: (runtime: string) => void,
): Promise<Float32Array[]> {
  const blocks: Float32Array[][] = [];
  for (const t of trunksOf(parts)) {
    const base = bases.get(t.base)!;
    const requests = t.layers.flatMap((layer) => FUSED_POOLS.map((pool) => ({ layer, pool })));
    // At its own size a trunk's pass is the probe's, and shares its cache entries.
    const got =
      base.inputSize === size
        ? await pooledFeatures(base, base.id, sources, requests, input.cache, input.compute)
        : await cachedRows(
            sources,
            requests.map((r) => pooledCacheName(`${base.id}@${size}`, r.layer, r.pool)),
            input.cache,
            () => resizedTrunkForward(base, size, t.layers),
            input.isCancelled,
          );
    onTrunk?.(got.runtime);
    blocks.push(...got.features);
  }
  return sources.map((_, i) => {
    const out = new Float32Array(blocks.reduce((n, b) => n + b[i]!.length, 0));
    let at = 0;
    for (const b of blocks) {
      out.set(b[i]!, at);
      at += b[i]!.length;
    }
    return out;
  });
}

export async function runFusedHead(input: RunInput, bases: Map<string, Base>, parts: FusedPart[]): Promise<RunOutput> {
  const { samples, labels, config } = input;
  if (config.strategy !== 'head' || config.headFit !== 'convex' || config.denseUnits !== 0)
    throw new Error('Fused features train a new classifier only (strategy 3, fitted to convergence without a hidden layer).');
  for (const p of parts) if (!bases.has(p.base)) throw new Error(`The fused model reads "${p.base}", which this run was not given.`);
  const isCancelled = input.isCancelled ?? (() => false);
  const progress = input.onProgress ?? (() => {});
  const records: EpochRecord[] = [];
  const classes = labels.length;
  const used = trunksOf(parts).map((t) => bases.get(t.base)!);
  const size = fusedInputSize(used);
  const { train, validation, test } = splitIndices(samples);
  const labelOf = (i: number) => samples[i]!.label;
  const plan = input.plan ?? new ComputePlan(DEFAULT_COMPUTE_SETTINGS, input.engine);
  const runtimes = new Set<string>();
  const env = { cache: input.cache, isCancelled, compute: plan.settings };

  progress('caching', 0, samples.length);
  const features = await fusedRows(samples, bases, parts, size, env, (r) => runtimes.add(r));
  progress('caching', samples.length, samples.length);
  plan.note('frozen', `fused trunks: ${[...runtimes].join(', ')}`);
  plan.head();
  const featureDim = features[0]!.length;

  // As run.ts's convex head: training + validation fit it, cross-validation over them picks its strength.
  const fitIds = [...train, ...validation];
  const started = performance.now();
  progress('training', 0, 1);
  const fitted = fitHead(
    fitIds.map((i) => features[i]!),
    fitIds.map(labelOf),
    classes,
    {
      seed: subSeed(config.seed, 'head'),
      classWeights: config.classWeights ? classWeightsFor(fitIds.map(labelOf), classes) : null,
      ...(config.l2 > 0 ? { lambdas: [(2 * config.l2) / featureDim] } : {}),
    },
  );
  const head = fitted.head;
  const cvAccuracy = fitted.fit.cv.find((c) => c.lambda === fitted.fit.lambda)?.accuracy ?? null;
  progress('training', 1, 1);
  const record: EpochRecord = {
    epoch: 0,
    phase: 'head',
    ...fitted.fit.train,
    valLoss: null,
    valAcc: cvAccuracy,
    ms: performance.now() - started,
  };
  records.push(record);
  input.onEpoch?.(record);
  try {
    const spec: Pick<LoopSpec, 'batch' | 'forward' | 'labelOf' | 'classes' | 'batchSize'> = {
      batch: (ids) => tf.tensor2d(concatRows(ids.map((i) => features[i]!)), [ids.length, featureDim]),
      forward: (x) => head.apply(x, false, 0),
      labelOf,
      classes,
      batchSize: 64,
    };
    const backends = plan.record();
    progress('testing', 0, test.length);
    const valResult = validation.length ? await evaluate(spec, validation) : null;
    const result = await evaluate(spec, test);
    const metrics = confusionMetrics(labels, test.map(labelOf), result.probs, cvAccuracy);
    const unlabeled = input.unlabeled ?? [];
    progress('checking', 0, samples.length);
    const evaluation = await evaluateRun({
      samples,
      classes,
      config,
      heldOut: heldOutRows(test, result.probs, classes, valResult ? heldOutRows(validation, valResult.probs, classes) : undefined),
      featuresOf: (ids) =>
        inBatches(
          ids,
          64,
          (b) => spec.batch(b, 0, false),
          (x) => x,
        ),
      unlabeled: async () => {
        if (!unlabeled.length) return [];
        const rows = await fusedRows(unlabeled, bases, parts, size, env);
        return inBatches(
          [...rows.keys()],
          64,
          (ids) => tf.tensor2d(concatRows(ids.map((i) => rows[i]!)), [ids.length, featureDim]),
          (x) => head.apply(x, false, 0),
        );
      },
      isCancelled,
    });

    const modelDir = input.outDir;
    const final = fusedClassifierModel(bases, parts, head);
    await saveModelFolder(final, modelDir);
    fs.writeFileSync(path.join(modelDir, 'labels.json'), JSON.stringify(labels));
    const primary = used[0]!;
    fs.writeFileSync(
      path.join(modelDir, 'config.json'),
      JSON.stringify(
        {
          base: primary.id,
          inputSize: size,
          input: "RGB uint8 pixels as float32 0..255, NHWC; scaling (and each smaller trunk's resize) is inside the model",
          preprocessing: PREPROCESSING,
          featureLayer: parts[0]!.layer,
          boundary: null,
          fused: { parts, trunks: trunksOf(parts).map((t) => ({ ...t, inputSize: bases.get(t.base)!.inputSize })), pools: FUSED_POOLS },
          config,
          engine: input.engine.name,
          backends,
          compute: { settings: plan.settings, providers: plan.providerUses() },
          metrics,
        },
        null,
        2,
      ),
    );
    return {
      epochs: records,
      metrics,
      modelDir,
      featureLayer: parts[0]!.layer,
      boundary: null,
      backends,
      testProbs: result.probs,
      evaluation,
    };
  } finally {
    head.dispose();
  }
}

/** Pixels (0..255) at the fused size → every trunk (scaled, resized where smaller) → pooled, concatenated → head. */
export function fusedClassifierModel(bases: Map<string, Base>, parts: FusedPart[], head: Head): tf.LayersModel {
  const size = fusedInputSize(trunksOf(parts).map((t) => bases.get(t.base)!));
  const input = tf.input({ shape: [size, size, 3], name: 'pixels' });
  return tf.model({ inputs: input, outputs: head.attachPooled(fusedFeatures(input, bases, parts, size)), name: 'classifier' });
}
