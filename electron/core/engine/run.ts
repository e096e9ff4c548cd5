// One training run, start to finish, inside the engine process: frozen passes (cached), the
// head warm-up, the fine-tuning phase of strategies 1–2, test metrics, and the saved model.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { isGraphBase, type Base, type GraphBase } from './base.js';
import { runGraphHead } from './graph-run.js';
import { runFusedHead } from './fused-run.js';
import type { TrainConfig } from './config.js';
import { augment } from './augment.js';
import { FeatureCache } from './feature-cache.js';
import { cachedOutputs, type PixelSource } from './frozen.js';
import { below, between, layersBetween, reapply } from './graph.js';
import { Head, featureStats } from './head.js';
import { fitHead } from './linear-head.js';
import { trainLoop, evaluate, classWeightsFor, type EpochRecord, type LoopSpec } from './loop.js';
import { confusionMetrics, type FinalMetrics } from './metrics.js';
import { saveModelFolder } from './model-folder.js';
import { subSeed } from './seeded.js';
import type { EngineInfo } from './backend.js';
import { ComputePlan, DEFAULT_COMPUTE_SETTINGS } from './compute-plan.js';
import { takeDelegatedKernelsUsed } from './kernels/wasm-delegate.js';
import { PREPROCESSING } from '../import/preprocess.js';
import { nativeHooks, type OrtTrainer } from './ort-train/index.js';
import { scaleOffset } from '../models/scaling.js';
import { runItems, splitIndices } from './run-items.js';
import { evaluateRun, heldOutRows, inBatches, type RunEvaluation } from '../eval/run-evaluation.js';
import { concatRows } from './rows.js';
import { layerRates } from './recipe.js';
import { convexWarmup as isConvexWarmup } from '../../shared/run-estimate.js';

export type SplitName = 'train' | 'validation' | 'test';

export interface Sample extends PixelSource {
  label: number;
  split: SplitName;
}

export interface RunInput {
  /** A graph-model base trains strategy 3 only (graph-run.ts). */
  base: Base | GraphBase;
  /** Every base a fused run reads (config.fused), by id, `base` among them. */
  bases?: Map<string, Base>;
  samples: Sample[];
  labels: string[];
  config: TrainConfig;
  cache: FeatureCache;
  engine: EngineInfo;
  /** Where each part computes; default: the plan of the default compute settings on `engine`. */
  plan?: ComputePlan;
  /** Where the trained model folder goes. */
  outDir: string;
  /** The project's unlabeled images: the finished run predicts them too (eval/run-evaluation.ts). */
  unlabeled?: PixelSource[];
  isCancelled?: () => boolean;
  onEpoch?: (record: EpochRecord) => void;
  onProgress?: (phase: string, done: number, total: number) => void;
}

export interface RunOutput {
  epochs: EpochRecord[];
  metrics: FinalMetrics;
  modelDir: string;
  featureLayer: string;
  boundary: string | null;
  /** Where each part ran and what fell back (the compute plan's record). */
  backends: Record<string, string>;
  /** Class probabilities of the test images (sample order), from the training pipeline. */
  testProbs: Float32Array;
  /** What the run says about every image: held-out, out-of-fold and unlabeled predictions. */
  evaluation: RunEvaluation;
}

/** Previous block end before `layer`, the default strategy-2 boundary. */
function blockBelow(base: Base, layer: string): string {
  const names = base.model.layers.map((l) => l.name);
  const at = names.indexOf(layer);
  const candidates = base.blocks.filter((b) => names.indexOf(b) < at);
  const chosen = candidates[candidates.length - 1];
  if (!chosen) throw new Error(`No block of ${base.id} lies below ${layer}; choose a boundary.`);
  return chosen;
}

function stack(rows: Float32Array[], shape: number[]): tf.Tensor {
  const per = rows[0]!.length;
  const buf = new Float32Array(rows.length * per);
  rows.forEach((r, i) => buf.set(r, i * per));
  return tf.tensor(buf, [rows.length, ...shape]);
}

function validateInput(input: RunInput): void {
  const { samples, labels } = input;
  const train = samples.filter((s) => s.split === 'train');
  if (labels.length < 2) throw new Error('Training needs at least two labels.');
  const missing = labels.filter((_, c) => !train.some((s) => s.label === c));
  if (missing.length) throw new Error(`These labels have no training image: ${missing.join(', ')}. Add images or change the split.`);
}

export async function runTraining(input: RunInput): Promise<RunOutput> {
  validateInput(input);
  const { base, samples, labels, config, cache } = input;
  if (isGraphBase(base)) return runGraphHead(input, base);
  if (config.fused?.length) return runFusedHead(input, input.bases ?? new Map([[base.id, base]]), config.fused);
  const isCancelled = input.isCancelled ?? (() => false);
  const progress = input.onProgress ?? (() => {});
  const records: EpochRecord[] = [];
  const onEpoch = (r: EpochRecord) => {
    records.push(r);
    input.onEpoch?.(r);
  };
  const classes = labels.length;
  const featureLayer = config.featureLayer ?? base.featureLayer;
  const boundary = config.strategy === 'partial' ? (config.boundary ?? blockBelow(base, featureLayer)) : null;
  const { train, validation, test } = splitIndices(samples);
  const labelOf = (i: number) => samples[i]!.label;
  const classWeights = config.classWeights ? classWeightsFor(train.map(labelOf), classes) : null;
  const plan = input.plan ?? new ComputePlan(DEFAULT_COMPUTE_SETTINGS, input.engine);
  const startBackend = tf.getBackend();
  takeDelegatedKernelsUsed();

  // Cached items: every image as itself; training images also as their augmented variants.
  // A convex head fits the images as they are: augmented variants would triple its rows (and its cost) for little.
  const convex = config.strategy === 'head' && config.headFit === 'convex' && config.denseUnits === 0;
  const variants = config.strategy === 'full' || convex ? 0 : config.augmentedVariants;
  const { items, itemOf, pick } = runItems(samples, variants, config.seed);

  const trunk = below(base.model, featureLayer);
  let pooled: Float32Array[];
  let boundaryMaps: Float32Array[] | null = null;
  let upper: tf.LayersModel | null = null;
  const forward = await plan.frozenPass(base, [{ layer: boundary ?? featureLayer, pool: !boundary }]);
  if (boundary) {
    const lower = below(base.model, boundary);
    boundaryMaps = await cachedOutputs(
      { forward, cacheName: `${base.id}/${boundary}`, pool: false, size: base.inputSize },
      items,
      cache,
      config.augmentation,
      {
        half: true,
        isCancelled,
        onProgress: (d, t) => progress('caching', d, t),
      },
    );
    upper = between(base.model, boundary, featureLayer);
    // Pooled features for the warm-up: the part above the boundary, frozen for now.
    const mapShape = (lower.outputs[0]!.shape as number[]).slice(1);
    pooled = [];
    for (let i = 0; i < boundaryMaps.length; i += 16) {
      const rows = boundaryMaps.slice(i, i + 16);
      const out = tf.tidy(() => tf.mean(upper!.predict(stack(rows, mapShape)) as tf.Tensor, [1, 2]).dataSync() as Float32Array);
      const each = out.length / rows.length;
      rows.forEach((_, k) => pooled.push(out.slice(k * each, (k + 1) * each)));
      await new Promise<void>((r) => setImmediate(r));
    }
  } else {
    pooled = await cachedOutputs(
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
  }
  const featureDim = pooled[0]!.length;
  let head: Head;
  let cvAccuracy: number | null = null;
  // Strategies 1–2 warm the head up with the same convex fit ("linear probe, then fine-tune"):
  // fine-tuning starts from strategy 3's answer instead of a head a few Adam epochs left
  // under-fitted, whose large early gradients would also push the pretrained layers around.
  const convexWarmup = isConvexWarmup(config.strategy, config);
  if (convex || convexWarmup) {
    // Strategy 3: training + validation both fit the head; cross-validation over them chooses its
    // strength and stands in for the validation score. A warm-up fits training images only:
    // validation stays held out for the fine-tuning's early stopping. A set l2 fixes the strength instead (λ/2 = l2).
    const fitIds = convex ? [...train, ...validation] : train;
    const started = performance.now();
    progress('training', 0, 1);
    const fitted = fitHead(
      fitIds.map((i) => pooled[itemOf[i]![0]!]!),
      fitIds.map(labelOf),
      classes,
      {
        seed: subSeed(config.seed, 'head'),
        classWeights: config.classWeights ? classWeightsFor(fitIds.map(labelOf), classes) : null,
        ...(config.l2 > 0 ? { lambdas: [(2 * config.l2) / featureDim] } : {}),
      },
    );
    head = fitted.head;
    cvAccuracy = fitted.fit.cv.find((c) => c.lambda === fitted.fit.lambda)?.accuracy ?? null;
    progress('training', 1, 1);
    // One fit, recorded as the run's one epoch (numbered from 0 like every epoch record).
    onEpoch({ epoch: 0, phase: 'head', ...fitted.fit.train, valLoss: null, valAcc: cvAccuracy, ms: performance.now() - started });
  } else {
    head = new Head(
      featureDim,
      classes,
      { denseUnits: config.denseUnits, dropout: config.dropout },
      subSeed(config.seed, 'head'),
      featureStats(train.map((i) => pooled[itemOf[i]![0]!]!)),
    );
  }
  let fullTrunk: tf.LayersModel | null = null;
  let native: OrtTrainer | null = null;
  try {
    const penalty = config.l2 > 0 ? () => head.penalty(config.l2) : undefined;
    const common = {
      train,
      validation,
      labelOf,
      classes,
      seed: config.seed,
      classWeights,
      isCancelled,
      onEpoch,
      batchSize: config.batchSize,
      penalty,
      labelSmoothing: config.labelSmoothing,
    };
    const headSpec: LoopSpec = {
      ...common,
      phase: 'head',
      batch: (ids, epoch, training) => tf.tensor2d(concatRows(ids.map((i) => pooled[pick(i, epoch, training)]!)), [ids.length, featureDim]),
      forward: (x, training, step) => head.apply(x, training, step),
      variables: head.variables(),
      epochs: config.strategy === 'head' ? config.epochs : config.warmupEpochs,
      lr: config.strategy === 'head' ? config.lr : config.headLr,
      // The schedule is the main phase's: strategy 3's head, not 1–2's warm-up.
      schedule: config.strategy === 'head' ? config.lrSchedule : 'constant',
      patience: config.patience,
      onBatch: (d, t) => progress('training', d, t),
    };
    plan.head();
    if (headSpec.epochs > 0 && !convex && !convexWarmup) await trainLoop(headSpec);
    let finalSpec: LoopSpec = headSpec;

    if (config.strategy !== 'head') {
      // Before any fine-tuned copy of the network is made: its variables live on this backend.
      await plan.fineTuneBackend();
      // Where the step runs is the plan's choice (the wizard timed the same one); it records why.
      const nativeFor = async (net: tf.LayersModel, variables: tf.Variable[], batch: LoopSpec['batch']): Promise<Partial<LoopSpec>> => {
        const step = await plan.useFineTuneStep(net, head, variables, config.batchSize);
        if (!step.trainer) return { microBatch: step.microBatch };
        native = step.trainer;
        return { ...nativeHooks(native, head, batch), microBatch: step.microBatch };
      };
      if (config.strategy === 'partial') {
        const mapShape = (upper!.inputs[0]!.shape as number[]).slice(1);
        const trainable = layersBetween(base.model, boundary, featureLayer);
        const batch: LoopSpec['batch'] = (ids, epoch, training) =>
          stack(
            ids.map((i) => boundaryMaps![pick(i, epoch, training)]!),
            mapShape,
          );
        const variables = [...trainableVariables(trainable), ...head.variables()];
        finalSpec = {
          ...common,
          phase: 'finetune',
          batch,
          // training:false keeps BatchNorm on its moving statistics (its scale and shift still train).
          forward: (x, training, step) => head.apply(tf.mean(upper!.apply(x, { training: false }) as tf.Tensor, [1, 2]), training, step),
          variables,
          lrFactors: layerRates(trainable, config.lowestLayerLr),
          ...(await nativeFor(upper!, variables, batch)),
          epochs: config.epochs,
          lr: config.lr,
          schedule: config.lrSchedule,
          keepStart: convexWarmup,
          patience: config.patience,
          onBatch: (d, t) => progress('training', d, t),
        };
      } else {
        fullTrunk = config.resetWeights ? await freshCopy(trunk) : null;
        const net = fullTrunk ?? trunk;
        const pixels = await Promise.all(samples.map((s) => s.pixels()));
        const per = base.inputSize * base.inputSize * 3;
        const { scale, offset } = scaleOffset(base.scaling);
        const batch: LoopSpec['batch'] = (ids, epoch, training) => {
          const buf = new Float32Array(ids.length * per);
          ids.forEach((i, k) => {
            const px = training
              ? augment(pixels[i]!, base.inputSize, config.augmentation, subSeed(config.seed, `aug-${epoch}-${i}`))
              : pixels[i]!;
            for (let j = 0; j < per; j++) buf[k * per + j] = px[j]! * scale + offset;
          });
          return tf.tensor4d(buf, [ids.length, base.inputSize, base.inputSize, 3]);
        };
        const variables = [...trainableVariables(net.layers), ...head.variables()];
        finalSpec = {
          ...common,
          phase: 'finetune',
          batch,
          forward: (x, training, step) => head.apply(tf.mean(net.apply(x, { training: false }) as tf.Tensor, [1, 2]), training, step),
          variables,
          lrFactors: layerRates(net.layers, config.lowestLayerLr),
          ...(await nativeFor(net, variables, batch)),
          epochs: config.epochs,
          lr: config.lr,
          schedule: config.lrSchedule,
          keepStart: convexWarmup,
          patience: config.patience,
          onBatch: (d, t) => progress('training', d, t),
        };
      }
      await trainLoop(finalSpec);
    }

    const delegated = takeDelegatedKernelsUsed();
    if (delegated.length) plan.note('delegatedToCpu', delegated.join(', '));
    const backends = plan.record();
    progress('testing', 0, test.length);
    const valResult = validation.length ? await evaluate(finalSpec, validation) : null;
    // A convex head fitted validation too, so its cross-validated accuracy stands in for the
    // validation score. (Its validation predictions are then in-sample, not held out.)
    const valAcc = convex ? cvAccuracy : (valResult?.acc ?? null);
    const result = await evaluate(finalSpec, test);
    const metrics = confusionMetrics(labels, test.map(labelOf), result.probs, valAcc);

    // Features under the final trunk: strategy 3's batches are features already; 1–2 pool the (fine-tuned) part above.
    const finalTrunk = config.strategy === 'partial' ? upper! : (fullTrunk ?? trunk);
    const toFeatures = (x: tf.Tensor): tf.Tensor =>
      config.strategy === 'head' ? x : tf.mean(finalTrunk.apply(x, { training: false }) as tf.Tensor, [1, 2]);
    const unlabeled = input.unlabeled ?? [];
    const unlabeledInput = async (): Promise<(ids: number[]) => tf.Tensor> => {
      const items = unlabeled.map((source) => ({ source, variant: 0 }));
      const cached = { isCancelled, onProgress: (d: number, t: number) => progress('predicting', d, t) };
      if (config.strategy === 'full') {
        const px = await Promise.all(unlabeled.map((s) => s.pixels()));
        const { scale, offset } = scaleOffset(base.scaling);
        return (ids) =>
          tf.add(
            tf.mul(
              tf.tensor4d(concatRows(ids.map((i) => Float32Array.from(px[i]!))), [ids.length, base.inputSize, base.inputSize, 3]),
              scale,
            ),
            offset,
          );
      }
      const rows = await cachedOutputs(
        { forward, cacheName: `${base.id}/${boundary ?? featureLayer}`, pool: !boundary, size: base.inputSize },
        items,
        cache,
        config.augmentation,
        { ...cached, half: !!boundary },
      );
      const shape = boundary ? (upper!.inputs[0]!.shape as number[]).slice(1) : [featureDim];
      return (ids) =>
        stack(
          ids.map((i) => rows[i]!),
          shape,
        );
    };
    progress('checking', 0, samples.length);
    const evaluation = await evaluateRun({
      samples,
      classes,
      config,
      heldOut: heldOutRows(test, result.probs, classes, valResult ? heldOutRows(validation, valResult.probs, classes) : undefined),
      // The convex head fitted the checking pictures: their own answers are in-sample.
      validationFitted: convex,
      featuresOf: (ids) => inBatches(ids, 16, (b) => finalSpec.batch(b, 0, false), toFeatures),
      unlabeled: async () =>
        unlabeled.length ? inBatches([...unlabeled.keys()], 16, await unlabeledInput(), (x) => head.apply(toFeatures(x), false, 0)) : [],
      isCancelled,
    });

    const modelDir = input.outDir;
    const final = classifierModel(fullTrunk ?? base.model, featureLayer, head, base);
    await saveModelFolder(final, modelDir);
    fs.writeFileSync(path.join(modelDir, 'labels.json'), JSON.stringify(labels));
    fs.writeFileSync(
      path.join(modelDir, 'config.json'),
      JSON.stringify(
        {
          base: base.id,
          inputSize: base.inputSize,
          input: 'RGB uint8 pixels as float32 0..255, NHWC; scaling is inside the model',
          preprocessing: PREPROCESSING,
          featureLayer,
          boundary,
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
    return { epochs: records, metrics, modelDir, featureLayer, boundary, backends, testProbs: result.probs, evaluation };
  } finally {
    (native as OrtTrainer | null)?.dispose();
    head.dispose();
    fullTrunk?.dispose();
    if (tf.getBackend() !== startBackend) await tf.setBackend(startBackend);
  }
}

/** The variables of these layers that training may change; marks them trainable (tfjs skips the rest). */
function trainableVariables(layers: tf.layers.Layer[]): tf.Variable[] {
  const out: tf.Variable[] = [];
  for (const layer of layers) {
    if (layer.weights.length === 0) continue;
    layer.trainable = true;
    out.push(...layer.trainableWeights.map((w) => w.read() as tf.Variable));
  }
  return out;
}

/** Same architecture, fresh initial weights ("architecture only"). */
async function freshCopy(model: tf.LayersModel): Promise<tf.LayersModel> {
  const topology = model.toJSON(null, false) as object;
  return tf.models.modelFromJSON({ modelTopology: topology } as Parameters<typeof tf.models.modelFromJSON>[0]);
}

/** Pixels (0..255) → scaling → base up to the feature layer → head: the one saved model. */
export function classifierModel(
  trunkSource: tf.LayersModel,
  featureLayer: string,
  head: Head,
  base: Pick<Base, 'inputSize' | 'scaling'>,
): tf.LayersModel {
  const input = tf.input({ shape: [base.inputSize, base.inputSize, 3], name: 'pixels' });
  const { scale, offset } = scaleOffset(base.scaling);
  const scaled = tf.layers.rescaling({ scale, offset, name: 'input_scaling' }).apply(input) as tf.SymbolicTensor;
  const features = reapply(trunkSource, null, featureLayer, scaled);
  return tf.model({ inputs: input, outputs: head.attach(features), name: 'classifier' });
}
