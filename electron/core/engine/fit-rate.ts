// How fast this computer does the convex head's arithmetic, for the run estimate: multiply-adds
// per ms of the softmax objective (softmax-lbfgs.ts), nearly all of every L-BFGS fit's cost,
// timed on a synthetic problem shaped as the real ones are (a lower-triangular Cholesky factor as
// rows). Measured, like the frozen pass's ms per image, by the wizard on this machine under its
// load of the moment; electron/shared/run-estimate.ts counts a fit's multiply-adds.
import { objective, type SoftmaxProblem } from './softmax-lbfgs.js';
import { softmaxEvalMacs } from '../../shared/run-estimate.js';

/** Rows of the timed problem: its factor (m² doubles, 512 KB) sits in cache as a run's few hundred rows' do. */
const ROWS = 256;
const CLASSES = 8;

export function measureFitRate(budgetMs = 40): number {
  const m = ROWS;
  const z = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j <= i; j++) z[i * m + j] = (((i * 31 + j * 17) % 97) / 97 - 0.5) * (i === j ? 4 : 1);
  const problem: SoftmaxProblem = {
    z,
    m,
    r: m,
    classes: CLASSES,
    labels: Array.from({ length: m }, (_, i) => i % CLASSES),
    weights: new Float64Array(m).fill(1 / m),
    lambda: 1e-3,
  };
  const theta = Float64Array.from({ length: m * CLASSES + CLASSES }, (_, i) => ((i % 13) - 6) * 1e-3);
  const grad = new Float64Array(theta.length);
  // Two untimed evaluations: the first compiles the loop, the second runs it optimised.
  objective(problem, theta, grad);
  objective(problem, theta, grad);
  let evaluations = 0;
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  do {
    objective(problem, theta, grad);
    evaluations++;
  } while (elapsed() < budgetMs);
  return (evaluations * softmaxEvalMacs(m, CLASSES)) / elapsed();
}
