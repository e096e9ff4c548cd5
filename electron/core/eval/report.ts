// A run's evaluation as the UI and `studio eval` read it: per-image predictions from run_images,
// the test confusion matrix, the doubted labels (label-errors.ts) and advice in plain words.
import type { Db } from '../db/connection.js';
import { getRun, listRuns, type RunRow } from '../training/runs.js';
import { StudioError } from '../../shared/contract.js';
import type { EvalImage, EvalReport, RunComparison } from '../../shared/contract-eval.js';
import { rankDoubts } from './label-errors.js';
import { runImages, type RunImageRow } from './store.js';

/** A learning−checking accuracy gap above this reads as memorising. */
const MEMORISING_GAP = 0.15;
/** A label with fewer than this share of the average label's pictures is "short". */
const SHORT_LABEL = 0.6;
/** Mix-ups of one label worth advice: at least this many pictures. */
const MIXUP_MIN = 2;

const EPS = 1e-7;

interface Current {
  id: number;
  status: string;
  label_id: number | null;
  label: string | null;
  confirmed_label_id: number | null;
}

function currentImages(db: Db, projectId: number): Map<number, Current> {
  const rows = db
    .prepare(
      'SELECT i.id, i.status, i.label_id, i.confirmed_label_id, l.name AS label FROM images i LEFT JOIN labels l ON l.id = i.label_id WHERE i.project_id = ?',
    )
    .all(projectId) as Current[];
  return new Map(rows.map((r) => [r.id, r]));
}

function toImage(r: RunImageRow, labels: string[], now: Current | undefined): EvalImage | null {
  if (!r.probabilities || !r.predicted || r.confidence === null || !r.kind) return null;
  const g = r.label === null ? -1 : labels.indexOf(r.label);
  const pg = g >= 0 ? (r.probabilities[g] ?? 0) : null;
  return {
    imageId: r.imageId,
    originalName: r.originalName,
    label: r.label,
    split: r.split,
    predicted: r.predicted,
    confidence: r.confidence,
    labelProbability: pg,
    loss: pg === null ? null : -Math.log(Math.max(EPS, pg)),
    kind: r.kind,
    now: { present: !!now, excluded: now?.status === 'excluded', labelId: now?.label_id ?? null, label: now?.label ?? null },
  };
}

export function evalReport(db: Db, runId: number): EvalReport {
  const run = getRun(db, runId);
  const labels = run.metrics?.labels ?? [];
  const now = currentImages(db, run.projectId);
  const rows = runImages(db, runId);
  const images = rows.map((r) => toImage(r, labels, now.get(r.imageId))).filter((i): i is EvalImage => i !== null);
  const index = new Map(labels.map((l, i) => [l, i]));
  const labeled = images.filter((i) => i.label !== null && index.has(i.label));
  const confusion = labels.map(() => new Array<number>(labels.length).fill(0));
  for (const i of labeled) if (i.split === 'test') confusion[index.get(i.label!)!]![index.get(i.predicted)!]!++;
  const byId = new Map(rows.map((r) => [r.imageId, r]));
  const doubts = rankDoubts(
    labeled.map((i) => ({ imageId: i.imageId, given: index.get(i.label!)!, probs: byId.get(i.imageId)!.probabilities! })),
    labels.length,
  );
  const names = new Map(images.map((i) => [i.imageId, i.originalName]));
  // A person said this label is right, and the picture still has the label the run was given.
  const confirmed = (id: number, given: number) => {
    const c = now.get(id);
    return !!c && c.label_id !== null && c.confirmed_label_id === c.label_id && c.label === labels[given];
  };
  const suspectedLabelErrors = doubts
    .filter((d) => !confirmed(d.imageId, d.given))
    .map((d) => ({
      imageId: d.imageId,
      originalName: names.get(d.imageId)!,
      givenLabel: labels[d.given]!,
      suggestedLabel: labels[d.suggested]!,
      confidence: Math.round(d.confidence * 1e4) / 1e4,
    }));
  return {
    runId,
    projectId: run.projectId,
    labels,
    trunkSawTrainingImages: run.strategy !== 'head' && images.some((i) => i.kind === 'head-out-of-fold'),
    // The convex head is refitted to convergence, not for a number of epochs (convex-out-of-fold.ts).
    refitEpochs: rows.length && !convexFit(run) ? REFIT_EPOCHS_RECORDED : null,
    confusion,
    images,
    suspectedLabelErrors,
    advice: advise(run, labeled, suspectedLabelErrors.length ? suspectedLabelErrors.map((s) => s.imageId) : []),
  };
}

// Mirrors out-of-fold.ts's REFIT_EPOCHS without importing engine code (tfjs) into the host's report path.
const REFIT_EPOCHS_RECORDED = 30;
/** The convex head's run: its settings ask for it and its one "epoch" is the fit (a graph base's head trains epochs whatever they say). */
const convexFit = (run: Pick<RunRow, 'config' | 'epochs'>) =>
  run.config.strategy === 'head' && run.config.headFit === 'convex' && run.config.denseUnits === 0 && run.epochs.length <= 1;

const pct = (x: number) => `${Math.round(x * 100)}%`;

/** Advice in plain words, most useful first: doubted labels, mix-ups, short labels, memorising. */
export function advise(run: Pick<RunRow, 'epochs'>, labeled: EvalImage[], doubted: number[]): EvalReport['advice'] {
  const out: EvalReport['advice'] = [];
  if (doubted.length)
    out.push({
      text: `${doubted.length} ${doubted.length === 1 ? 'picture looks' : 'pictures look'} mislabeled: models that never learned from them say another label. Check these first.`,
      imageIds: doubted,
    });
  // Mix-ups over every labeled picture, each judged by a model that did not learn from it.
  const wrong = labeled.filter((i) => i.predicted !== i.label);
  const perLabel = new Map<string, Map<string, number[]>>();
  for (const i of wrong) {
    const m = perLabel.get(i.label!) ?? new Map<string, number[]>();
    m.set(i.predicted, [...(m.get(i.predicted) ?? []), i.imageId]);
    perLabel.set(i.label!, m);
  }
  const ranked = [...perLabel]
    .map(([label, m]) => ({ label, m, n: [...m.values()].reduce((s, v) => s + v.length, 0) }))
    .sort((a, b) => b.n - a.n);
  for (const { label, m, n } of ranked.slice(0, 3)) {
    if (n < MIXUP_MIN) break;
    const parts = [...m].sort((a, b) => b[1].length - a[1].length).slice(0, 2);
    const shown = parts.reduce((s, [, ids]) => s + ids.length, 0);
    out.push({
      text: `${label} is mixed up with ${parts.map(([other, ids]) => `${other} (${ids.length})`).join(' and ')}: look at these ${shown} pictures.`,
      imageIds: parts.flatMap(([, ids]) => ids),
    });
  }
  const counts = new Map<string, number[]>();
  for (const i of labeled) counts.set(i.label!, [...(counts.get(i.label!) ?? []), i.imageId]);
  if (counts.size > 1) {
    const [fewest, ids] = [...counts].sort((a, b) => a[1].length - b[1].length)[0]!;
    const mean = labeled.length / counts.size;
    if (ids.length < SHORT_LABEL * mean)
      out.push({
        text: `${fewest} has the fewest pictures (${ids.length}, against ${Math.round(mean)} per label on average): adding more of it should help most.`,
        imageIds: ids,
      });
  }
  const last = run.epochs.at(-1);
  if (last && last.valAcc !== null && last.acc - last.valAcc > MEMORISING_GAP)
    out.push({
      text: `Learning ${pct(last.acc)} vs checking ${pct(last.valAcc)}: the model memorises its training pictures. More pictures, more augmentation or fewer epochs help.`,
      imageIds: [],
    });
  return out;
}

/** Which run is better on the test pictures both were tested on, matched by content hash. */
export function compareRuns(db: Db, runId: number, otherRunId: number): RunComparison {
  const [a, b] = [getRun(db, runId), getRun(db, otherRunId)];
  if (a.projectId !== b.projectId)
    throw new StudioError('invalid', 'Those two runs belong to different projects: compare runs of one project.');
  const tested = (id: number) =>
    new Map(
      runImages(db, id)
        .filter((r) => r.split === 'test' && r.predicted !== null)
        .map((r) => [r.sha256, r.predicted === r.label]),
    );
  const [ta, tb] = [tested(runId), tested(otherRunId)];
  const shared = [...ta.keys()].filter((k) => tb.has(k));
  const acc = (t: Map<string, boolean>) => (shared.length ? shared.filter((k) => t.get(k)).length / shared.length : null);
  const [accA, accB] = [acc(ta), acc(tb)];
  const better = accA === null || accB === null || accA === accB ? null : accA > accB ? runId : otherRunId;
  return { runIds: [runId, otherRunId], sharedTest: shared.length, accuracy: [accA, accB], better, changes: configChanges(a, b) };
}

function configChanges(a: RunRow, b: RunRow): string[] {
  const out: string[] = [];
  if (a.baseId !== b.baseId) out.push(`base ${a.baseId} → ${b.baseId}`);
  const ca = a.config as unknown as Record<string, unknown>;
  const cb = b.config as unknown as Record<string, unknown>;
  for (const key of [...new Set([...Object.keys(ca), ...Object.keys(cb)])].sort()) {
    const [va, vb] = [JSON.stringify(ca[key] ?? null), JSON.stringify(cb[key] ?? null)];
    if (va !== vb) out.push(`${key} ${va} → ${vb}`);
  }
  return out;
}

/** The run the history marks as best (see `eval.best`): each finished run against the best so far, on shared test pictures. */
export function bestRun(db: Db, projectId: number): number | null {
  const done = listRuns(db, projectId)
    .filter((r) => r.status === 'done' && typeof r.metrics?.testAccuracy === 'number')
    .sort((a, b) => a.id - b.id);
  let best: RunRow | null = null;
  for (const run of done) {
    if (!best) {
      best = run;
      continue;
    }
    const c = compareRuns(db, best.id, run.id);
    const later = c.sharedTest > 0 ? c.better === run.id : run.metrics!.testAccuracy! > best.metrics!.testAccuracy!;
    if (later) best = run;
  }
  return best?.id ?? null;
}
