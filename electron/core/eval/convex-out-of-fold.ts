// Out-of-fold predictions for a run whose head is the convex one (strategy 3 fitted to
// convergence, linear-head.ts): the same L2-regularised softmax, refitted per fold. Refitting
// that head with Adam for a few epochs instead (out-of-fold.ts, right for the other heads) gave
// predictions of another, under-fitted model: its doubts were not the run's.
//
// Cheap enough to do well: one Gram matrix of the standardised rows, then each fit works in the
// span of its rows (K = L Lᵀ; the rows of L are exact stand-ins for the feature rows), so a fit
// costs m² per step whatever the feature width — fused features of several layers cost no more
// than one layer's. That buys two things a single 5-fold pass lacks:
//   - the strength λ is chosen by the held-out log loss (a proper score: it rewards calibrated
//     probabilities, which the doubt ranking reads), not fixed;
//   - several fold splits, averaged: a picture's doubt no longer depends on which other pictures
//     happened to share its fold.
import { cholesky, gram, solveSoftmax, standardised, LAMBDA_GRID } from '../engine/linear-head.js';
import { Cancelled } from '../engine/loop.js';
import { subSeed } from '../engine/seeded.js';
import { stratifiedFolds } from './out-of-fold.js';

export const CONVEX_FOLDS = 5;
/** Fold splits averaged. The first also chooses λ; each further one costs one fit per fold. */
export const CONVEX_REPEATS = 4;
/** L-BFGS steps per refit: warm starts along the λ path and across splits settle well within this. */
const MAX_ITERATIONS = 100;

export interface ConvexOutOfFoldInput {
  /** Feature rows of every picture to predict; each is predicted by fits that never saw it. */
  rows: Float32Array[];
  labels: number[];
  classes: number;
  seed: number;
  classWeights: number[] | null;
  /** Strengths per unit of width to choose from (default the run's grid); one value fixes it. */
  lambdas?: number[];
  repeats?: number;
  folds?: number;
  isCancelled?: () => boolean;
}

export interface ConvexOutOfFold {
  /** Class probabilities per row, averaged over the fold splits. */
  probs: Float32Array[];
  /** The strength used, per unit of width. */
  lambda: number;
  /** Mean held-out log loss of the given labels per candidate strength (first split). */
  logLoss: { lambda: number; loss: number }[];
}

/** A held-out row's coordinates in the fit rows' span: z = L⁻¹ k, k its Gram row over the fit rows. */
function coordinates(l: Float64Array, m: number, g: Float64Array, n: number, fit: number[], row: number): Float64Array {
  const z = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = g[row * n + fit[i]!]!;
    for (let j = 0; j < i; j++) s -= l[i * m + j]! * z[j]!;
    z[i] = s / l[i * m + i]!;
  }
  return z;
}

function softmaxOf(z: Float64Array, theta: Float64Array, m: number, classes: number): Float64Array {
  const logits = new Float64Array(classes);
  for (let c = 0; c < classes; c++) logits[c] = theta[m * classes + c]!;
  for (let j = 0; j < m; j++) {
    const v = z[j]!;
    if (v === 0) continue;
    for (let c = 0; c < classes; c++) logits[c]! += v * theta[j * classes + c]!;
  }
  let max = -Infinity;
  for (let c = 0; c < classes; c++) max = Math.max(max, logits[c]!);
  let sum = 0;
  for (let c = 0; c < classes; c++) sum += logits[c] = Math.exp(logits[c]! - max);
  for (let c = 0; c < classes; c++) logits[c]! /= sum;
  return logits;
}

const tick = () => new Promise<void>((r) => setImmediate(r));

export async function convexOutOfFold(input: ConvexOutOfFoldInput): Promise<ConvexOutOfFold> {
  const { rows, labels, classes } = input;
  const n = rows.length;
  const isCancelled = input.isCancelled ?? (() => false);
  const uniform = () => new Float32Array(classes).fill(1 / classes);
  const folds = Math.min(input.folds ?? CONVEX_FOLDS, n);
  const perWidth = input.lambdas ?? LAMBDA_GRID;
  if (n < 2 || folds < 2) return { probs: rows.map(uniform), lambda: perWidth[0] ?? 0, logLoss: [] };
  // Standardised over every row predicted: no labels involved, and every fit sees the same scale.
  const { x, mean } = standardised(rows);
  const d = mean.length;
  const g = gram(x);
  await tick();
  // Strongest first: each fit warm-starts the next, weaker one.
  const lambdas = [...perWidth].sort((a, b) => b - a);
  const sums = lambdas.map(() => Array.from({ length: n }, () => new Float64Array(classes)));
  const counts = new Array<number>(n).fill(0);
  let chosen = 0;
  const logLoss: { lambda: number; loss: number }[] = [];
  const repeats = Math.max(1, input.repeats ?? CONVEX_REPEATS);
  for (let r = 0; r < repeats; r++) {
    const fold = stratifiedFolds(labels, folds, subSeed(input.seed, `convex-oof-${r}`));
    const path = r === 0 ? lambdas.map((_, k) => k) : [chosen];
    for (let f = 0; f < folds; f++) {
      if (isCancelled()) throw new Cancelled();
      const fit: number[] = [];
      const held: number[] = [];
      for (let i = 0; i < n; i++) (fold[i] === f ? held : fit).push(i);
      if (!held.length || !fit.length) continue;
      const m = fit.length;
      const l = cholesky(g, n, fit);
      const z = held.map((i) => coordinates(l, m, g, n, fit, i));
      const theta = new Float64Array(m * classes + classes);
      for (const k of path) {
        solveSoftmax(
          l,
          { rows: m, width: m, classes },
          fit.map((i) => labels[i]!),
          lambdas[k]! * d,
          theta,
          {
            classWeights: input.classWeights,
            maxIterations: MAX_ITERATIONS,
          },
        );
        held.forEach((i, h) => {
          const p = softmaxOf(z[h]!, theta, m, classes);
          const sum = sums[k]![i]!;
          for (let c = 0; c < classes; c++) sum[c]! += p[c]!;
        });
        await tick();
      }
      for (const i of held) counts[i]!++;
    }
    if (r === 0) {
      // The strength whose held-out probabilities of the given labels are best on average.
      const losses = lambdas.map((_, k) => sums[k]!.reduce((s, p, i) => s - Math.log(Math.max(1e-7, p[labels[i]!]!)), 0) / n);
      chosen = losses.reduce((best, v, k) => (v < losses[best]! - 1e-12 ? k : best), 0);
      logLoss.push(...lambdas.map((lambda, k) => ({ lambda, loss: losses[k]! })));
    }
  }
  const probs = sums[chosen]!.map((s, i) => (counts[i] ? Float32Array.from(s, (v) => v / counts[i]!) : uniform()));
  return { probs, lambda: lambdas[chosen]!, logLoss };
}
