// Which features strategy 3's head reads: the wizard's candidates and its rule. Pure decisions
// on what the probe measured (training + validation images only); the scores come from the
// engine (compare-features.ts): the probe's own ridge on the probe's own folds, the same folds for
// every candidate, so two candidates compare image by image.
import { layerNamesDisjoint, type FusedPart } from './fused.js';

/** What the probe of one base says: its probe points' scores and what each costs. */
export interface ProbedBase {
  base: string;
  inputSize: number;
  scores: { layer: string; score: number }[];
  best: string;
  /** Weight bytes (float32) of the trunk from the input up to each probe point. */
  bytesTo: Record<string, number>;
  /** Its layer names (input layers aside): bases sharing any cannot live in one model. */
  layerNames?: string[];
}

type CandidateName = 'single' | 'layers' | 'bases' | 'both';

export interface FeatureCandidate {
  name: CandidateName;
  /** The probe points read; `single` reads the average only (today's run), every other the average and the max. */
  parts: FusedPart[];
  /** 'avg' for `single`, 'avg+max' for the fused ones. */
  pools: 'avg' | 'avg+max';
  /** What the model carries: the weight bytes of every trunk up to its highest point read. */
  bytes: number;
}

export interface ScoredCandidate extends FeatureCandidate {
  /** The probe's cross-validated ridge accuracy on these features (training + validation, the probe's folds). */
  accuracy: number;
  /** Per training + validation image, in sample order: the share of fold draws that classified it right when held out. */
  correct: number[];
  /** Features the head reads (every part's pooled channels): the width its fit's Gram matrix costs. */
  width?: number;
}

export interface FeatureChoice {
  chosen: CandidateName;
  /** Every candidate, cheapest first: accuracy, its margin below the best and that margin's standard error, bytes. */
  candidates: {
    name: CandidateName;
    parts: FusedPart[];
    pools: string;
    accuracy: number;
    belowBest: number;
    se: number;
    bytes: number;
    width?: number;
    /** ms per picture of the frozen passes a run on it makes beyond the wizard's cache (training/speeds.ts). */
    passMsPerImage?: number;
  }[];
  rule: string;
}

/** The probe points to read per base: its best, and with it the next best (a second depth sees other patterns). */
const POINTS_PER_BASE = 2;

function topPoints(p: ProbedBase, k: number): string[] {
  const order = new Map(p.scores.map((s, i) => [s.layer, i]));
  const best = [...p.scores].sort((a, b) => b.score - a.score || order.get(a.layer)! - order.get(b.layer)!).slice(0, k);
  // Input side first, so a trunk's layers appear in the network's order.
  return best.map((s) => s.layer).sort((a, b) => order.get(a)! - order.get(b)!);
}

function bytesOf(parts: FusedPart[], probed: ProbedBase[]): number {
  let total = 0;
  for (const p of probed) {
    const used = parts.filter((q) => q.base === p.base).map((q) => p.bytesTo[q.layer] ?? 0);
    if (used.length) total += Math.max(...used);
  }
  return total;
}

/**
 * The candidates, from the probes of every base: the best base's best layer as today
 * (`single`), its two best layers (`layers`), every base's best layer (`bases`), and every
 * base's two best (`both`). `probed[0]` is the base whose best layer probed best. Each costs one
 * cross-validated fit (seconds), so the ladder is short: one step per kind of addition.
 */
export function featureCandidates(probed: ProbedBase[]): FeatureCandidate[] {
  const first = probed[0]!;
  const make = (name: CandidateName, parts: FusedPart[]): FeatureCandidate => ({
    name,
    parts,
    pools: name === 'single' ? 'avg' : 'avg+max',
    bytes: bytesOf(parts, probed),
  });
  const one = [{ base: first.base, layer: first.best }];
  const out = [make('single', one)];
  const firstTop = topPoints(first, POINTS_PER_BASE);
  if (firstTop.length > 1)
    out.push(
      make(
        'layers',
        firstTop.map((layer) => ({ base: first.base, layer })),
      ),
    );
  if (probed.length > 1 && layerNamesDisjoint(probed.map((p) => p.layerNames ?? []))) {
    out.push(
      make(
        'bases',
        probed.map((p) => ({ base: p.base, layer: p.best })),
      ),
    );
    out.push(
      make(
        'both',
        probed.flatMap((p) => topPoints(p, POINTS_PER_BASE).map((layer) => ({ base: p.base, layer }))),
      ),
    );
  }
  return out;
}

/** Standard error of the mean of the row-wise differences (a paired comparison on the same folds). */
function pairedSe(a: number[], b: number[]): number {
  const n = a.length;
  if (n < 2) return 0;
  const d = a.map((v, i) => v - b[i]!);
  const mean = d.reduce((s, v) => s + v, 0) / n;
  const variance = d.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1);
  return Math.sqrt(variance / n);
}

const ONE_SE_RULE =
  'the cheapest candidate (fewest trunk bytes, then fewest features) whose cross-validated accuracy is within one standard error of the best (paired over the same held-out images)';

/**
 * The one-standard-error rule (Breiman et al.): among candidates whose cross-validated accuracy
 * is not distinguishable from the best's — within one standard error of their paired difference
 * — the cheapest. A trunk is kept only when what it adds is more than the folds' noise, so a
 * second base's download size and time are paid only for a measurable gain.
 */
export function chooseFeatures(scored: ScoredCandidate[]): { chosen: ScoredCandidate; choice: FeatureChoice } {
  const best = scored.reduce((a, b) => (b.accuracy > a.accuracy + 1e-12 ? b : a));
  const width = (c: ScoredCandidate) => c.parts.length * (c.pools === 'avg' ? 1 : 2);
  const byCost = [...scored].sort((a, b) => a.bytes - b.bytes || width(a) - width(b));
  const rows = byCost.map((c) => {
    const se = pairedSe(best.correct, c.correct);
    return { c, belowBest: best.accuracy - c.accuracy, se };
  });
  const chosen = rows.find((r) => r.belowBest <= r.se + 1e-12)?.c ?? best;
  const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
  return {
    chosen,
    choice: {
      chosen: chosen.name,
      candidates: rows.map(({ c, belowBest, se }) => ({
        name: c.name,
        parts: c.parts,
        pools: c.pools,
        accuracy: r4(c.accuracy),
        belowBest: r4(belowBest),
        se: r4(se),
        bytes: c.bytes,
        ...(c.width !== undefined ? { width: c.width } : {}),
      })),
      rule: ONE_SE_RULE,
    },
  };
}
