// Out-of-fold predictions for a run's training images: the run's own head type, refitted five
// times on the run's own (final) features, each fit predicting the fifth it never saw. A model
// always looks right on what it learned from, so these — not the run's own answers — are what
// can say a training picture's label looks wrong. Runs in the engine process, on pooled feature
// vectors only, so it costs seconds: every fit is a small dense head.
import * as tf from '@tensorflow/tfjs';
import { Head, featureStats, type HeadConfig } from '../engine/head.js';
import { trainLoop, evaluate, classWeightsFor, type LoopSpec } from '../engine/loop.js';
import { rng, shuffled, subSeed } from '../engine/seeded.js';

export const FOLDS = 5;
/**
 * Epochs of each refit, at most. Lighter than the run itself (strategy 3 trains up to 80): with
 * early stopping on the checking pictures a head on cached features settles within ~30, and five
 * refits must stay a small share of the run.
 */
export const REFIT_EPOCHS = 30;

export interface OutOfFoldInput {
  /** Final-trunk features of the training images. */
  features: Float32Array[];
  labels: number[];
  /**
   * The run's checking pictures, for early stopping of every refit. When the run's own fit learned
   * from them (`predictValidation`), they are dealt into the folds too and predicted like training
   * images: each refit stops early on the checking pictures outside its held-out fold and never
   * trains on any of them, so the one that predicts a checking picture neither fitted nor stopped on it.
   */
  validation: { features: Float32Array[]; labels: number[] };
  predictValidation?: boolean;
  classes: number;
  head: HeadConfig;
  seed: number;
  lr: number;
  batchSize: number;
  l2: number;
  patience: number;
  classWeights: boolean;
  epochs?: number;
  isCancelled?: () => boolean;
}

/** Stratified folds: each label's images dealt round-robin after a seeded shuffle. fold[i] ∈ 0..folds-1. */
export function stratifiedFolds(labels: number[], folds: number, seed: number): number[] {
  const fold = new Array<number>(labels.length).fill(0);
  const byLabel = new Map<number, number[]>();
  labels.forEach((l, i) => byLabel.set(l, [...(byLabel.get(l) ?? []), i]));
  let offset = 0;
  for (const [label, ids] of [...byLabel].sort((a, b) => a[0] - b[0])) {
    shuffled(ids, rng(subSeed(seed, `fold-${label}`))).forEach((i, k) => (fold[i] = (k + offset) % folds));
    // Continue where the last label stopped, so small labels do not all land in fold 0.
    offset += ids.length;
  }
  return fold;
}

/**
 * Probabilities per training image (row per image, `classes` wide), each from a refit that did not
 * see it; then, with `predictValidation`, per checking picture likewise.
 */
export async function outOfFold(input: OutOfFoldInput): Promise<Float32Array[]> {
  const n = input.features.length;
  const nv = input.validation.features.length;
  // One index space: training images first, then the checking pictures.
  const all = [...input.features, ...input.validation.features];
  const labelOf = (i: number) => (i < n ? input.labels[i]! : input.validation.labels[i - n]!);
  const predicted = input.predictValidation ? n + nv : n;
  const out: Float32Array[] = new Array(predicted);
  const folds = Math.min(FOLDS, n);
  // Training images are dealt as they always were (a run's training answers do not depend on
  // whether its checking pictures are predicted too); checking pictures are dealt on their own.
  const fold = [
    ...stratifiedFolds(input.labels, folds, subSeed(input.seed, 'oof')),
    ...(input.predictValidation ? stratifiedFolds(input.validation.labels, folds, subSeed(input.seed, 'oof-validation')) : []),
  ];
  const dim = all[0]!.length;
  for (let f = 0; f < folds; f++) {
    const held = [...Array(predicted).keys()].filter((i) => fold[i] === f);
    const train = [...Array(n).keys()].filter((i) => fold[i] !== f);
    const validation = [...Array(nv).keys()].map((k) => n + k).filter((i) => i >= predicted || fold[i] !== f);
    if (!held.length || !train.length) continue;
    const head = new Head(dim, input.classes, input.head, subSeed(input.seed, `oof-head-${f}`), featureStats(train.map((i) => all[i]!)));
    try {
      const spec: LoopSpec = {
        phase: 'head',
        train,
        validation,
        labelOf,
        classes: input.classes,
        seed: subSeed(input.seed, `oof-${f}`),
        classWeights: input.classWeights ? classWeightsFor(train.map(labelOf), input.classes) : null,
        isCancelled: input.isCancelled ?? (() => false),
        onEpoch: () => {},
        batchSize: input.batchSize,
        penalty: input.l2 > 0 ? () => head.penalty(input.l2) : undefined,
        batch: (ids) => {
          const buf = new Float32Array(ids.length * dim);
          ids.forEach((i, k) => buf.set(all[i]!, k * dim));
          return tf.tensor2d(buf, [ids.length, dim]);
        },
        forward: (x, training, step) => head.apply(x, training, step),
        variables: head.variables(),
        epochs: input.epochs ?? REFIT_EPOCHS,
        lr: input.lr,
        patience: input.patience,
      };
      await trainLoop(spec);
      const { probs } = await evaluate(spec, held);
      held.forEach((i, k) => (out[i] = probs.slice(k * input.classes, (k + 1) * input.classes)));
    } finally {
      head.dispose();
    }
  }
  // A fold that could not be formed (fewer images than folds) leaves no gap: uniform, i.e. "no opinion".
  for (let i = 0; i < predicted; i++) out[i] ??= new Float32Array(input.classes).fill(1 / input.classes);
  return out;
}
