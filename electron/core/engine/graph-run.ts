// A run on a graph-model base: strategy 3 only (tfjs cannot train or cut a graph). The feature
// node's pooled outputs are cached per image and variant like a layers base's, the head trains
// as in run.ts, and the saved classifier is one graph model (graph-classifier.ts).
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { GraphBase } from './base.js';
import { cachedOutputs } from './frozen.js';
import { composeGraphClassifier, CLASSIFIER_INPUT, CLASSIFIER_OUTPUT } from './graph-classifier.js';
import { ComputePlan, DEFAULT_COMPUTE_SETTINGS } from './compute-plan.js';
import { Head, featureStats } from './head.js';
import { trainLoop, evaluate, classWeightsFor, type EpochRecord, type LoopSpec } from './loop.js';
import { confusionMetrics } from './metrics.js';
import { writeModelArtifacts } from './model-folder.js';
import { subSeed } from './seeded.js';
import { PREPROCESSING } from '../import/preprocess.js';
import type { RunInput, RunOutput } from './run.js';
import { runItems, splitIndices } from './run-items.js';
import { evaluateRun, heldOutRows, inBatches } from '../eval/run-evaluation.js';

const GRAPH_STRATEGY_ONLY =
  'a graph model computes features only: strategy 3 (a new classifier on its features) is the one way to train on it';

export async function runGraphHead(input: RunInput, base: GraphBase): Promise<RunOutput> {
  const { samples, labels, config, cache } = input;
  if (config.strategy !== 'head') throw new Error(`Base model "${base.id}" is a graph model; ${GRAPH_STRATEGY_ONLY}.`);
  const isCancelled = input.isCancelled ?? (() => false);
  const progress = input.onProgress ?? (() => {});
  const records: EpochRecord[] = [];
  const onEpoch = (r: EpochRecord) => {
    records.push(r);
    input.onEpoch?.(r);
  };
  const classes = labels.length;
  const featureLayer = config.featureLayer ?? base.featureLayer;
  const { train, validation, test } = splitIndices(samples);
  const labelOf = (i: number) => samples[i]!.label;

  const { items, itemOf, pick } = runItems(samples, config.augmentedVariants, config.seed);

  // The plan records where each part ran; a graph base's frozen pass is always tfjs (compute-plan.ts).
  const plan = input.plan ?? new ComputePlan(DEFAULT_COMPUTE_SETTINGS, input.engine);
  const forward = await plan.frozenPass(base, [{ layer: featureLayer, pool: true }]);
  plan.head();
  const pooled = await cachedOutputs(
    { forward, cacheName: `${base.id}/${featureLayer}`, pool: true, size: base.inputSize },
    items,
    cache,
    config.augmentation,
    {
      half: false,
      isCancelled,
      onProgress: (d, t) => progress('caching', d, t),
    },
  );
  const featureDim = pooled[0]!.length;
  const head = new Head(
    featureDim,
    classes,
    { denseUnits: config.denseUnits, dropout: config.dropout },
    subSeed(config.seed, 'head'),
    featureStats(train.map((i) => pooled[itemOf[i]![0]!]!)),
  );
  try {
    const spec: LoopSpec = {
      phase: 'head',
      train,
      validation,
      labelOf,
      classes,
      seed: config.seed,
      classWeights: config.classWeights ? classWeightsFor(train.map(labelOf), classes) : null,
      isCancelled,
      onEpoch,
      batchSize: config.batchSize,
      penalty: config.l2 > 0 ? () => head.penalty(config.l2) : undefined,
      batch: (ids, epoch, training) => {
        const rows = ids.map((i) => pooled[pick(i, epoch, training)]!);
        const buf = new Float32Array(rows.length * featureDim);
        rows.forEach((r, k) => buf.set(r, k * featureDim));
        return tf.tensor2d(buf, [rows.length, featureDim]);
      },
      forward: (x, training, step) => head.apply(x, training, step),
      variables: head.variables(),
      epochs: config.epochs,
      lr: config.lr,
      schedule: config.lrSchedule,
      labelSmoothing: config.labelSmoothing,
      patience: config.patience,
      onBatch: (d, t) => progress('training', d, t),
    };
    if (spec.epochs > 0) await trainLoop(spec);
    const backends = plan.record();
    progress('testing', 0, test.length);
    const valResult = validation.length ? await evaluate(spec, validation) : null;
    const valAcc = valResult?.acc ?? null;
    const result = await evaluate(spec, test);
    const metrics = confusionMetrics(labels, test.map(labelOf), result.probs, valAcc);
    const unlabeled = input.unlabeled ?? [];
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
        const rows = await cachedOutputs(
          { forward, cacheName: `${base.id}/${featureLayer}`, pool: true, size: base.inputSize },
          unlabeled.map((source) => ({ source, variant: 0 })),
          cache,
          config.augmentation,
          { half: false, isCancelled },
        );
        return inBatches(
          [...rows.keys()],
          64,
          (ids) =>
            tf.tensor2d(
              ids.flatMap((i) => Array.from(rows[i]!)),
              [ids.length, featureDim],
            ),
          (x) => head.apply(x, false, 0),
        );
      },
      isCancelled,
    });

    const modelDir = input.outDir;
    writeModelArtifacts(modelDir, await composeGraphClassifier(base, featureLayer, head));
    fs.writeFileSync(path.join(modelDir, 'labels.json'), JSON.stringify(labels));
    fs.writeFileSync(
      path.join(modelDir, 'config.json'),
      JSON.stringify(
        {
          base: base.id,
          baseFormat: 'graph',
          inputSize: base.inputSize,
          input: `RGB uint8 pixels as float32 0..255, NHWC, in "${CLASSIFIER_INPUT}"; scaling is inside the model`,
          output: CLASSIFIER_OUTPUT,
          modelFormat: 'tfjs graph model (the base graph up to the feature node, then the head)',
          preprocessing: PREPROCESSING,
          featureLayer,
          boundary: null,
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
    return { epochs: records, metrics, modelDir, featureLayer, boundary: null, backends, testProbs: result.probs, evaluation };
  } finally {
    head.dispose();
  }
}
