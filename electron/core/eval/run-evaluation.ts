// What a finished run says about every image of its project, computed in the engine process
// right after training: held-out answers for the test pictures, out-of-fold answers for the
// training pictures (out-of-fold.ts) — and for the checking pictures when the run's fit learned
// from them (the convex head), held-out answers otherwise — and answers for the unlabeled pictures. The host
// stores them in run_images (migration 006).
import * as tf from '@tensorflow/tfjs';
import type { TrainConfig } from '../engine/config.js';
import { outOfFold, REFIT_EPOCHS } from './out-of-fold.js';
import { convexOutOfFold } from './convex-out-of-fold.js';
import { classWeightsFor } from '../engine/loop.js';

export type PredictionKind = 'held-out' | 'out-of-fold' | 'head-out-of-fold' | 'unlabeled';

export interface RunEvaluation {
  /** Per sample of the run, in sample order: probabilities in the run's label order. */
  probs: number[][];
  kinds: PredictionKind[];
  /** Per unlabeled image, in the order the host sent them. */
  unlabeled: number[][];
  /** Epochs each out-of-fold refit trained at most; null for the convex head, refitted to convergence. */
  refitEpochs: number | null;
}

export interface EvaluationInput {
  samples: readonly { label: number; split: 'train' | 'validation' | 'test' }[];
  classes: number;
  config: TrainConfig;
  /** The final model's probabilities of the validation and test samples (the run's own evaluation). */
  heldOut: Map<number, Float32Array>;
  /**
   * True when the run's own fit learned from the validation samples (the convex head fits training
   * and checking pictures together): their answers in `heldOut` are then in-sample, so they are
   * replaced by out-of-fold ones like the training images'. That head is the one fit that does, so
   * this also says the refits are its own (convex-out-of-fold.ts). Default: true for fused
   * features, which train that head only (fused-run.ts).
   */
  validationFitted?: boolean;
  /** Pooled features of these samples under the final (possibly fine-tuned) trunk. */
  featuresOf: (ids: number[]) => Promise<Float32Array[]>;
  /** The final model's probabilities of the unlabeled images. */
  unlabeled: () => Promise<Float32Array[]>;
  isCancelled?: () => boolean;
}

/** Decimals a recorded probability keeps (an export's parity check against the record allows for the rounding). */
export const RECORDED_DECIMALS = 5;
const SCALE = 10 ** RECORDED_DECIMALS;
const round = (p: Float32Array): number[] => Array.from(p, (v) => Math.round(v * SCALE) / SCALE);

export async function evaluateRun(input: EvaluationInput): Promise<RunEvaluation> {
  const { samples, config } = input;
  const idx = (split: string) => samples.map((s, i) => (s.split === split ? i : -1)).filter((i) => i >= 0);
  const train = idx('train');
  const validation = idx('validation');
  const [trainFeatures, valFeatures] = [await input.featuresOf(train), await input.featuresOf(validation)];
  const validationFitted = input.validationFitted ?? !!config.fused?.length;
  const convex = validationFitted;
  const oof = convex
    ? await convexRefits(input, [...train, ...validation], [...trainFeatures, ...valFeatures])
    : await outOfFold({
        features: trainFeatures,
        labels: train.map((i) => samples[i]!.label),
        validation: { features: valFeatures, labels: validation.map((i) => samples[i]!.label) },
        classes: input.classes,
        head: { denseUnits: config.denseUnits, dropout: config.dropout },
        seed: config.seed,
        // Strategies 1–2 refit the head alone, at the learning rate their head warm-up uses.
        lr: config.strategy === 'head' ? config.lr : config.headLr,
        batchSize: config.strategy === 'head' ? config.batchSize : 64,
        l2: config.l2,
        patience: Math.min(config.patience, 8),
        classWeights: config.classWeights,
        predictValidation: validationFitted,
        epochs: Math.min(REFIT_EPOCHS, config.strategy === 'head' ? config.epochs : REFIT_EPOCHS),
        ...(input.isCancelled ? { isCancelled: input.isCancelled } : {}),
      });
  const probs: number[][] = new Array(samples.length);
  const kinds: PredictionKind[] = new Array(samples.length);
  train.forEach((i, k) => {
    probs[i] = round(oof[k]!);
    kinds[i] = config.strategy === 'head' ? 'out-of-fold' : 'head-out-of-fold';
  });
  for (const [i, p] of input.heldOut) {
    probs[i] = round(p);
    kinds[i] = 'held-out';
  }
  if (validationFitted)
    validation.forEach((i, k) => {
      probs[i] = round(oof[train.length + k]!);
      kinds[i] = config.strategy === 'head' ? 'out-of-fold' : 'head-out-of-fold';
    });
  const unlabeled = (await input.unlabeled()).map(round);
  return { probs, kinds, unlabeled, refitEpochs: convex ? null : REFIT_EPOCHS };
}

/** The convex head's refits (convex-out-of-fold.ts) over the pictures it learned from, in that order. */
async function convexRefits(input: EvaluationInput, ids: number[], rows: Float32Array[]): Promise<Float32Array[]> {
  const { config, classes } = input;
  const labels = ids.map((i) => input.samples[i]!.label);
  const width = rows[0]?.length ?? 1;
  const { probs } = await convexOutOfFold({
    rows,
    labels,
    classes,
    seed: config.seed,
    classWeights: config.classWeights ? classWeightsFor(labels, classes) : null,
    // A set l2 fixes the run's strength (λ/2 = l2, as run.ts); otherwise chosen on held-out log loss.
    ...(config.l2 > 0 ? { lambdas: [(2 * config.l2) / width] } : {}),
    ...(input.isCancelled ? { isCancelled: input.isCancelled } : {}),
  });
  return probs;
}

/** Rows of a [n, d] computation done in batches: `make` builds the batch's input, `apply` maps it (both inside a tidy). */
export async function inBatches(
  ids: number[],
  batchSize: number,
  make: (ids: number[]) => tf.Tensor,
  apply: (x: tf.Tensor) => tf.Tensor,
): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let b = 0; b < ids.length; b += batchSize) {
    const part = ids.slice(b, b + batchSize);
    const flat = tf.tidy(() => apply(make(part)).dataSync() as Float32Array);
    const per = flat.length / part.length;
    part.forEach((_, k) => out.push(flat.slice(k * per, (k + 1) * per)));
    await new Promise<void>((r) => setImmediate(r));
  }
  return out;
}

/** Sample index → its row of a flat [n, classes] probability array, for the samples evaluated in that order. */
export function heldOutRows(
  ids: number[],
  probs: Float32Array,
  classes: number,
  into = new Map<number, Float32Array>(),
): Map<number, Float32Array> {
  ids.forEach((i, k) => into.set(i, probs.slice(k * classes, (k + 1) * classes)));
  return into;
}
