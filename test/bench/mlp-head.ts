// bench:quality's second head: a one-hidden-layer MLP (ReLU, L2 on both kernels, Adam, early
// stopping) on the same features as the convex head, to see whether a hidden layer earns its place
// (issue 16, item 5). Settings are common defaults, not tuned to these datasets. The MLP trains on
// the rows' exact span coordinates (linear-head.ts spanCoordinates): its first layer is linear and
// L2-penalised, so its optimum is the same as on the wide rows, at a cost set by the row count.
// Procedure: train on the training rows, stop early on the checking rows (the epoch count of the
// lowest checking loss), then refit on training + checking rows for that many epochs and score
// the test rows — test is read once, at the end.
import * as tf from '@tensorflow/tfjs';
import { Head } from '../../electron/core/engine/head.js';
import { spanCoordinates } from '../../electron/core/engine/linear-head.js';
import { classWeightsFor, evaluate, trainLoop, type LoopSpec } from '../../electron/core/engine/loop.js';
import { subSeed } from '../../electron/core/engine/seeded.js';

export const MLP = { hidden: 256, l2: 1e-4, lr: 1e-3, batchSize: 32, maxEpochs: 100, patience: 10 };

interface Rows {
  rows: Float32Array[];
  labels: number[];
}

/** Span coordinates scaled so a row's squared norm averages its width (‖x‖² ≈ d for standardised rows), as Glorot's init expects. */
function scaled(rows: Float64Array[], width: number): Float32Array[] {
  const m = rows[0]!.length;
  const s = Math.sqrt(m / width);
  return rows.map((r) => Float32Array.from(r, (v) => v * s));
}

async function fit(
  x: Float32Array[],
  labels: number[],
  classes: number,
  seed: number,
  train: number[],
  validation: number[],
  epochs: number,
): Promise<{ head: Head; spec: LoopSpec; bestEpoch: number }> {
  const dim = x[0]!.length;
  const head = new Head(dim, classes, { denseUnits: MLP.hidden, dropout: 0 }, seed);
  let bestEpoch = 0;
  let bestLoss = Infinity;
  const spec: LoopSpec = {
    phase: 'head',
    train,
    validation,
    labelOf: (i) => labels[i]!,
    classes,
    batch: (ids) => {
      const buf = new Float32Array(ids.length * dim);
      ids.forEach((i, k) => buf.set(x[i]!, k * dim));
      return tf.tensor2d(buf, [ids.length, dim]);
    },
    forward: (t, training, step) => head.apply(t, training, step),
    variables: head.variables(),
    epochs,
    batchSize: MLP.batchSize,
    lr: MLP.lr,
    seed: subSeed(seed, 'mlp'),
    classWeights: classWeightsFor(
      train.map((i) => labels[i]!),
      classes,
    ),
    penalty: () => head.penalty(MLP.l2),
    patience: validation.length ? MLP.patience : epochs,
    isCancelled: () => false,
    onEpoch: (r) => {
      if (r.valLoss !== null && r.valLoss < bestLoss - 1e-6) [bestLoss, bestEpoch] = [r.valLoss, r.epoch];
    },
  };
  await trainLoop(spec);
  return { head, spec, bestEpoch };
}

/** Test accuracy of the MLP fitted as above. `train` and `validation` fit it; `test` only scores it. */
export async function mlpTestAccuracy(train: Rows, validation: Rows, test: Rows, classes: number, seed = 1): Promise<number> {
  // 1. How many epochs: trained on the training rows, the checking rows' lowest loss.
  const first = spanCoordinates(train.rows, [validation.rows]);
  const x1 = [...scaled(first.fit, first.width), ...scaled(first.others[0]!, first.width)];
  const n = train.rows.length;
  const stop = await fit(
    x1,
    [...train.labels, ...validation.labels],
    classes,
    seed,
    [...Array(n).keys()],
    validation.rows.map((_, k) => n + k),
    MLP.maxEpochs,
  );
  stop.head.dispose();
  // 2. The same MLP on training + checking rows for that many epochs, scored on test.
  const all = { rows: [...train.rows, ...validation.rows], labels: [...train.labels, ...validation.labels] };
  const second = spanCoordinates(all.rows, [test.rows]);
  const x2 = [...scaled(second.fit, second.width), ...scaled(second.others[0]!, second.width)];
  const m = all.rows.length;
  const final = await fit(x2, [...all.labels, ...test.labels], classes, seed, [...Array(m).keys()], [], stop.bestEpoch + 1);
  try {
    const { acc } = await evaluate(
      final.spec,
      test.rows.map((_, k) => m + k),
    );
    return acc;
  } finally {
    final.head.dispose();
  }
}
