// npm run bench:labeling — how many actions a person needs to label clip-art-8 (528 pictures,
// 8 labels) with suggestions, against 528 one at a time. A scripted annotator drives the same
// contract calls as the Images tab (suggest.*, images.assignLabel) on a Studio of its own, the
// pictures imported with no labels. It knows the true labels and acts only as a person could:
//   - hand-picks a picture and gives its label: 1 action each;
//   - looks at a view "Suggested as X at ≥ t" (t from the slider's steps), sees which shown
//     pictures are right, and accepts the whole view: 1 action, exactly the view's set;
//   - corrects each wrong picture among those it accepted: 1 action each.
// Its strategy: label K pictures of each label (the first it meets in the grid); then, per label,
// accept the view (one of the slider's steps) that saves most actions; when no view is worth
// accepting, hand-label the HAND pictures the model is least sure about; until every picture has
// its right label. What a view saves: accepting it costs 1 plus one correction per wrong picture,
// and a wrong picture corrected costs exactly what labeling it by hand would, so accepting saves
// right − 1 actions against labeling the view's pictures by hand. The annotator takes the view
// that saves most, provided at least half of it is right (LABELING_PRECISION: a view mostly
// wrong is not one a person accepts, and its wrong pictures could come right in a later view).
// LABELING_WRONG_WEIGHT=w counts each wrong picture as w more actions (w = 1 is the earlier,
// more cautious annotator: right − wrong − 1). The annotator reads each label's view once at
// "any confidence" (most confident first): the view at t is the part of it at t% or more, as the
// tab shows it; the view it accepts is read again at its t and must be that set.
// LABELING_THRESHOLDS=… tries other steps (the contract takes any whole percent).
// Where the actions go: seeds by hand, bulk accepts, corrections, least sure pictures by hand.
// Also counted: pictures never suggested right at any refresh of the run (seeds apart) — each of
// them cost a hand label or a correction whatever views the annotator took, so the run's actions
// are at least seeds + those + accepts: what better suggestions, not a better annotator, can lower.
// Refresh time = the suggest.refresh call after each
// change (the engine's fit plus the host's bookkeeping), excluding the first reading of new
// pictures; `fitMs` the engine's fit alone.
//   LABELING_K=3 LABELING_HAND=10 LABELING_PRECISION=0.5 LABELING_WRONG_WEIGHT=0 LABELING_THRESHOLDS=99,95,…,0
//   CLIPART_DIR=…/clipart-b for the second dataset; LABELING_CACHE=dir keeps features between runs.
// Prints progress lines and, last, one JSON line.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { Studio } from '../../electron/core/studio.js';
import { testEnvironment } from '../fixtures/environment.js';
import { CLIPART } from '../fixtures/datasets.js';

const K = Number(process.env.LABELING_K ?? 3);
const HAND = Number(process.env.LABELING_HAND ?? 10);
const PRECISION = Number(process.env.LABELING_PRECISION ?? 0.5);
const WRONG_WEIGHT = Number(process.env.LABELING_WRONG_WEIGHT ?? 0);
/** The threshold slider's steps: the Images tab's (renderer/src/lib/state/suggestions.svelte.ts THRESHOLDS), most demanding first. */
const THRESHOLDS = (process.env.LABELING_THRESHOLDS ?? '99,95,90,80,70,60,50,0').split(',').map(Number);

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-labeling-'));
// LABELING_CACHE=dir keeps the pictures' features between runs (the first reading of 528 pictures
// takes minutes and is not what this measures): the data folder's feature cache is a link to it.
if (process.env.LABELING_CACHE) {
  fs.mkdirSync(process.env.LABELING_CACHE, { recursive: true });
  fs.mkdirSync(path.join(root, 'cache'), { recursive: true });
  fs.symlinkSync(path.resolve(process.env.LABELING_CACHE), path.join(root, 'cache', 'features'));
}
const dataset = path.basename(CLIPART);
const studio = new Studio({ environment: testEnvironment(root), host: 'cli' });

// The truth, by content: what the annotator knows by looking at a picture.
const truthBySha = new Map<string, string>();
const names = fs
  .readdirSync(CLIPART)
  .filter((d) => fs.statSync(path.join(CLIPART, d)).isDirectory())
  .sort();
for (const label of names)
  for (const f of fs.readdirSync(path.join(CLIPART, label)))
    truthBySha.set(
      createHash('sha256')
        .update(fs.readFileSync(path.join(CLIPART, label, f)))
        .digest('hex'),
      label,
    );

const counts = { hand: 0, accepts: 0, corrections: 0, acceptedPictures: 0 };
/** Pictures whose suggestion was their true label at one refresh or more. */
const suggestedRight = new Set<number>();
const actions = () => counts.hand + counts.accepts + counts.corrections;
const refreshes: { ms: number; fitMs: number | null; trainedOn: number }[] = [];
let firstReadMs = 0;

try {
  const projectId = (await studio.call('projects.create', { name: `${dataset} unlabeled` })).id;
  const report = await studio.importPaths(projectId, { paths: [CLIPART], displayName: dataset }, false);
  const ids = (await studio.call('images.page', { projectId, filter: { status: 'all' }, offset: 0, limit: 1000 })).rows.map((r) => r.id);
  const truth = new Map<number, string>();
  for (const id of ids) truth.set(id, truthBySha.get((await studio.call('images.get', { projectId, imageId: id })).sha256)!);
  const labelId = new Map<string, number>();
  for (const name of names) labelId.set(name, (await studio.call('labels.create', { projectId, name })).id);
  console.log(`imported ${report.imported} pictures, ${names.length} labels created (not counted as picture actions)`);

  const give = async (imageId: number, kind: 'hand' | 'corrections') => {
    await studio.call('images.assignLabel', {
      projectId,
      selection: { kind: 'ids', ids: [imageId] },
      labelId: labelId.get(truth.get(imageId)!)!,
    });
    counts[kind]++;
  };
  const unlabeled = async () =>
    (await studio.call('images.page', { projectId, filter: { label: null, status: 'all' }, offset: 0, limit: 1000 })).rows.map((r) => r.id);
  let lastVersion = -1;
  const refresh = async () => {
    const t = performance.now();
    const status = await studio.call('suggest.refresh', { projectId });
    const ms = performance.now() - t;
    // Only refreshes that refitted: one asked with nothing changed returns at once and would flatter the median.
    const refitted = status.version !== lastVersion;
    lastVersion = status.version;
    if (status.newPictures > 0) firstReadMs += ms;
    else if (status.state === 'ready' && refitted) refreshes.push({ ms, fitMs: status.refreshMs, trainedOn: status.trainedOn });
    if (status.state === 'ready' && refitted) {
      const all = await studio.call('suggest.page', { projectId, view: { kind: 'leastSure' }, offset: 0, limit: 1000 });
      for (const r of all.rows) if (r.suggestedLabel === truth.get(r.imageId)) suggestedRight.add(r.imageId);
    }
    return status;
  };

  // 1. A few of each label, the first ones met in the grid.
  const grid = await unlabeled();
  for (const name of names) for (const id of grid.filter((i) => truth.get(i) === name).slice(0, K)) await give(id, 'hand');
  /** Hand labels of this first step, apart from the least sure ones labeled later. */
  const seeds = counts.hand;

  // 2. Accept what is worth accepting; when nothing is, label the least sure by hand.
  for (let round = 0; (await unlabeled()).length > 0 && round < 500; round++) {
    let accepted = false;
    let status = await refresh();
    if (status.state !== 'ready') throw new Error(`suggestions are ${status.state}: ${status.message}`);
    for (const { labelId: id, name } of status.labels) {
      let best: { t: number; rows: { imageId: number }[]; gain: number; wrong: number[] } | null = null;
      const all = await studio.call('suggest.page', {
        projectId,
        view: { kind: 'suggested', labelId: id, minPercent: 0 },
        offset: 0,
        limit: 1000,
      });
      for (const t of THRESHOLDS) {
        const rows = all.rows.filter((r) => r.confidence >= t / 100);
        if (!rows.length) continue;
        const wrong = rows.filter((r) => truth.get(r.imageId) !== name).map((r) => r.imageId);
        const right = rows.length - wrong.length;
        const gain = right - WRONG_WEIGHT * wrong.length - 1;
        if (right / rows.length >= PRECISION && gain > 0 && (!best || gain > best.gain)) best = { t, rows, gain, wrong };
      }
      if (best) {
        // The view at the chosen position, as the tab shows it: the set the accept takes.
        const shown = await studio.call('suggest.page', {
          projectId,
          view: { kind: 'suggested', labelId: id, minPercent: best.t },
          offset: 0,
          limit: 1000,
        });
        const ids = (rows: { imageId: number }[]) => rows.map((r) => r.imageId).join(',');
        if (ids(shown.rows) !== ids(best.rows)) throw new Error(`the view at ${best.t}% is not the part of "any confidence" at ${best.t}%`);
      }
      if (!best) continue;
      const res = await studio.call('suggest.accept', { projectId, labelId: id, minPercent: best.t, version: status.version });
      if (res.accepted !== best.rows.length) throw new Error(`accepted ${res.accepted}, the view showed ${best.rows.length}`);
      counts.accepts++;
      counts.acceptedPictures += res.accepted;
      for (const w of best.wrong) await give(w, 'corrections');
      accepted = true;
      status = await refresh();
      if (status.state !== 'ready') break;
    }
    if (!accepted) {
      const page = await studio.call('suggest.page', { projectId, view: { kind: 'leastSure' }, offset: 0, limit: HAND });
      const pick = page.rows.length ? page.rows.map((r) => r.imageId) : (await unlabeled()).slice(0, HAND);
      for (const id of pick) await give(id, 'hand');
    }
    console.log(`round ${round}: ${actions()} actions so far (${JSON.stringify(counts)}), ${(await unlabeled()).length} unlabeled`);
  }

  // 3. Every label right?
  const byLabel = new Map([...labelId].map(([n, i]) => [i, n]));
  let right = 0;
  for (const id of ids)
    if (byLabel.get((await studio.call('images.get', { projectId, imageId: id })).labelId ?? -1) === truth.get(id)) right++;
  const ms = refreshes.map((r) => r.ms).sort((a, b) => a - b);
  const fit = refreshes.map((r) => r.fitMs ?? 0).sort((a, b) => a - b);
  // What the host adds to the engine's fit: the call, the request and reply, the bookkeeping.
  const host = refreshes.map((r) => r.ms - (r.fitMs ?? 0)).sort((a, b) => a - b);
  const q = (a: number[], p: number) => Math.round(a[Math.min(a.length - 1, Math.floor(p * a.length))] ?? 0);
  const result = {
    pictures: ids.length,
    oneAtATime: ids.length,
    assisted: actions(),
    ...counts,
    where: {
      seedsByHand: seeds,
      bulkAccepts: counts.accepts,
      corrections: counts.corrections,
      leastSureByHand: counts.hand - seeds,
    },
    neverSuggestedRight: ids.length - seeds - suggestedRight.size,
    correct: right,
    allCorrect: right === ids.length,
    refresh: {
      count: ms.length,
      medianMs: q(ms, 0.5),
      p90Ms: q(ms, 0.9),
      maxMs: q(ms, 1),
      fitMedianMs: q(fit, 0.5),
      fitP90Ms: q(fit, 0.9),
      fitMaxMs: q(fit, 1),
      hostMedianMs: q(host, 0.5),
    },
    firstReadMs: Math.round(firstReadMs),
    settings: { K, HAND, PRECISION, WRONG_WEIGHT, thresholds: THRESHOLDS },
    goals: { actions: 150, refreshMs: 2000 },
  };
  console.log(
    `one at a time: ${ids.length} actions; assisted: ${actions()} (hand ${counts.hand}, bulk accepts ${counts.accepts} of ${counts.acceptedPictures} pictures, corrections ${counts.corrections}); ${right}/${ids.length} right`,
  );
  console.log(
    `where the actions go: ${seeds} seeds by hand, ${counts.accepts} bulk accepts, ${counts.corrections} corrections, ${counts.hand - seeds} least sure by hand; ${result.neverSuggestedRight} pictures were never suggested right (at least ${seeds + result.neverSuggestedRight + counts.accepts} actions with these suggestions, whatever views are taken)`,
  );
  console.log(
    `refresh: median ${result.refresh.medianMs} ms, p90 ${result.refresh.p90Ms} ms, max ${result.refresh.maxMs} ms over ${ms.length} (engine's fit: median ${result.refresh.fitMedianMs} ms, p90 ${result.refresh.fitP90Ms} ms; host: median ${result.refresh.hostMedianMs} ms)`,
  );
  console.log(JSON.stringify(result));
} finally {
  studio.close();
  fs.rmSync(root, { recursive: true, force: true });
}
