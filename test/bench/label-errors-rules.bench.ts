// Ranking rules for the doubted-label list, tried offline in seconds on what one bench run
// recorded: `LABEL_ERRORS_DUMP=f.jsonl npm run bench:label-errors` writes, per seed, every
// picture's recorded probabilities with its given and true label; then
//   node --import tsx test/bench/label-errors-rules.bench.ts f.jsonl
// prints recall within the first 2 × (number of flips) for the app's ranking (rankDoubts) and
// for other orders of the same probabilities, per seed and on average. A rule that wins here is
// worth a full bench run (which refits and so costs minutes per seed).
import fs from 'node:fs';
import { rankDoubts, selfConfidence, type Judged } from '../../electron/core/eval/label-errors.js';

interface Dumped {
  seed: number;
  labels: string[];
  rows: { id: number; given: string | null; truth: string; split: string | null; probs: number[] | null }[];
}

const file = process.argv[2];
if (!file) throw new Error('Usage: node --import tsx test/bench/label-errors-rules.bench.ts DUMP.jsonl (from LABEL_ERRORS_DUMP)');
const runs = fs
  .readFileSync(file, 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as Dumped);

/** Lower = more doubtful. Each gets the rows and the per-label thresholds (mean p(label) over its pictures). */
const RULES: Record<string, (r: Judged, t: number[]) => number> = {
  'p(given)': (r) => r.probs[r.given]!,
  'p(given) / threshold': (r, t) => r.probs[r.given]! / t[r.given]!,
  margin: (r) => r.probs[r.given]! - Math.max(...r.probs.filter((_, j) => j !== r.given)),
  'normalised margin': (r, t) =>
    r.probs[r.given]! / t[r.given]! - Math.max(...r.probs.map((p, j) => (j === r.given ? -Infinity : p / t[j]!))),
  'log ratio': (r) => Math.log(r.probs[r.given]! + 1e-7) - Math.log(Math.max(...r.probs.filter((_, j) => j !== r.given)) + 1e-7),
};

const totals = new Map<string, number[]>();
for (const run of runs) {
  const index = new Map(run.labels.map((l, i) => [l, i]));
  const labeled = run.rows.filter((r) => r.given !== null && r.probs && index.has(r.given));
  const judged: Judged[] = labeled.map((r) => ({ imageId: r.id, given: index.get(r.given!)!, probs: r.probs! }));
  const flipped = new Set(labeled.filter((r) => r.given !== r.truth).map((r) => r.id));
  const within = 2 * flipped.size;
  const recall = (ids: number[]) => ids.slice(0, within).filter((id) => flipped.has(id)).length / Math.max(1, flipped.size);
  const scores: [string, number][] = [['app (rankDoubts)', recall(rankDoubts(judged, run.labels.length).map((d) => d.imageId))]];
  const t = selfConfidence(judged, run.labels.length);
  for (const [name, rule] of Object.entries(RULES)) {
    const order = judged
      .map((r) => ({ id: r.imageId, s: rule(r, t) }))
      .sort((a, b) => a.s - b.s || a.id - b.id)
      .map((r) => r.id);
    scores.push([name, recall(order)]);
  }
  console.log(`seed ${run.seed}: ${flipped.size} flips; ${scores.map(([n, v]) => `${n} ${v.toFixed(2)}`).join(', ')}`);
  for (const [n, v] of scores) totals.set(n, [...(totals.get(n) ?? []), v]);
}
for (const [n, v] of totals) console.log(`${n.padEnd(22)} mean ${(v.reduce((a, b) => a + b, 0) / v.length).toFixed(3)}`);
