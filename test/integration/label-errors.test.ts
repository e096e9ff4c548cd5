// A finished run records what it used and said about every picture (run_images), and pictures
// whose label was planted wrong come first in its doubted-label list. Real engine process, tiny
// base, real SQLite.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, type Db } from '../../electron/core/db/connection.js';
import { DataPaths } from '../../electron/core/paths.js';
import { TrainingService } from '../../electron/core/training/service.js';
import { assignSplits } from '../../electron/core/training/splits.js';
import { compareRuns, evalReport } from '../../electron/core/eval/report.js';
import { runImages } from '../../electron/core/eval/store.js';
import { removeImages } from '../../electron/core/library/images.js';
import { installTinyBase } from '../fixtures/tiny-base.js';
import { testTrainingOptions } from '../fixtures/environment.js';
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { createProject } from '../../electron/core/library/projects.js';
import { ensureLabel } from '../../electron/core/library/labels.js';
import { insertImage } from '../../electron/core/library/images.js';
import { rgbOf, type Rgb } from '../fixtures/images.js';
import { rng } from '../../electron/core/engine/seeded.js';
import { runStudio, lastJson } from '../fixtures/cli.js';
import { evalHandlers } from '../../electron/core/eval/handlers.js';
import { redo, undo } from '../../electron/core/library/history.js';

let dir: string;
let db: Db;
let paths: DataPaths;
let service: TrainingService;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'label-errors-'));
  paths = new DataPaths(dir);
  db = openDatabase(paths.database);
  await installTinyBase(testTrainingOptions(dir).models, path.join(dir, 'bases'));
  service = new TrainingService(db, paths, testTrainingOptions(dir));
});
afterAll(() => {
  service.close();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const COLOURS: Record<string, Rgb> = { red: [220, 40, 40], green: [40, 200, 60], blue: [40, 60, 220] };

/**
 * Pictures a tiny random-convolution base tells apart (by colour, under noise and a stripe of
 * another colour), so the test is about the ranking, not about how good the features are.
 */
async function colourProject(perLabel: number): Promise<number> {
  const projectId = createProject(db, 'colours').id;
  const random = rng(7);
  for (const [name, [r, g, b]] of Object.entries(COLOURS)) {
    const label = ensureLabel(db, projectId, name);
    for (let k = 0; k < perLabel; k++) {
      const stripe = Math.floor(random() * 40);
      const jitter = () => Math.round((random() - 0.5) * 80);
      const [dr, dg, db_] = [jitter(), jitter(), jitter()];
      const raw = rgbOf(48, 48, (x, y) => {
        const noise = (((x * 31 + y * 17 + k * 13) % 23) - 11) * 3;
        const base: Rgb = y >= stripe && y < stripe + 6 ? [120, 120, 120] : [r + dr, g + dg, b + db_];
        return base.map((c) => Math.max(0, Math.min(255, c + noise))) as Rgb;
      });
      const bytes = await sharp(raw, { raw: { width: 48, height: 48, channels: 3 } })
        .png()
        .toBuffer();
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const file = paths.stored(projectId, sha256, 'png');
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, bytes);
      insertImage(db, {
        projectId,
        sha256,
        bytes: bytes.length,
        width: 48,
        height: 48,
        format: 'png',
        originalName: `${name}-${k}.png`,
        labelId: label,
      });
    }
  }
  return projectId;
}

const labelId = (projectId: number, name: string) =>
  (db.prepare('SELECT id FROM labels WHERE project_id = ? AND name = ?').get(projectId, name) as { id: number }).id;

describe('what a run used and said', () => {
  it('ranks planted mislabels first, and its record survives relabeling and removal', async () => {
    const projectId = await colourProject(20);
    assignSplits(db, projectId);
    // Plant: two training reds labeled green, one training green labeled blue.
    const train = (label: string) =>
      (
        db
          .prepare("SELECT id FROM images WHERE project_id = ? AND label_id = ? AND split = 'train' ORDER BY sha256")
          .all(projectId, labelId(projectId, label)) as { id: number }[]
      ).map((r) => r.id);
    const planted = [...train('red').slice(0, 2), train('green')[0]!];
    db.prepare('UPDATE images SET label_id = ? WHERE id IN (?, ?)').run(labelId(projectId, 'green'), planted[0], planted[1]);
    db.prepare('UPDATE images SET label_id = ? WHERE id = ?').run(labelId(projectId, 'blue'), planted[2]);
    // One unlabeled picture: predicted, not trained on.
    const unlabeled = train('blue').at(-1)!;
    db.prepare('UPDATE images SET label_id = NULL WHERE id = ?').run(unlabeled);

    const { runId, done } = await service.start(projectId, {
      strategy: 'head',
      baseId: 'tiny',
      overrides: { epochs: 40, patience: 40, augmentedVariants: 0, lr: 0.01 },
    });
    const run = await done;
    expect(run.status, run.error ?? '').toBe('done');

    const rows = runImages(db, runId);
    expect(rows).toHaveLength(60);
    expect(rows.every((r) => r.predicted !== null && r.probabilities?.length === 3)).toBe(true);
    expect(rows.find((r) => r.imageId === unlabeled)).toMatchObject({ label: null, split: null, kind: 'unlabeled' });
    // The default convex head fits training and checking pictures together: both are judged out-of-fold.
    expect(new Set(rows.filter((r) => r.split === 'train' || r.split === 'validation').map((r) => r.kind))).toEqual(
      new Set(['out-of-fold']),
    );
    expect(new Set(rows.filter((r) => r.split === 'test').map((r) => r.kind))).toEqual(new Set(['held-out']));

    const report = evalReport(db, runId);
    // The report's test confusion matrix is the run's own.
    expect(report.confusion).toEqual(run.metrics!.confusion);
    const top = report.suspectedLabelErrors.slice(0, 2 * planted.length).map((s) => s.imageId);
    expect(top.slice(0, planted.length).sort(), JSON.stringify(report.suspectedLabelErrors.slice(0, 8))).toEqual([...planted].sort());
    expect(report.suspectedLabelErrors.find((s) => s.imageId === planted[0])).toMatchObject({ givenLabel: 'green', suggestedLabel: 'red' });
    expect(Object.keys(report.suspectedLabelErrors[0] ?? {}).sort()).toEqual([
      'confidence',
      'givenLabel',
      'imageId',
      'originalName',
      'suggestedLabel',
    ]);

    // "This label is right": the picture leaves the list for good (a new read of the report), and undo brings it back.
    const confirmed = await evalHandlers(db)['eval.confirmLabel']({ projectId, imageId: planted[0]! });
    expect(confirmed).toMatchObject({ changed: 1, history: { undoLabel: 'Confirm green' } });
    expect(evalReport(db, runId).suspectedLabelErrors.map((s) => s.imageId)).not.toContain(planted[0]);
    undo(db, projectId);
    expect(evalReport(db, runId).suspectedLabelErrors.map((s) => s.imageId)).toContain(planted[0]);
    redo(db, projectId);
    // Relabeled since: the confirmation was about another label, so the doubt shows again.
    db.prepare('UPDATE images SET label_id = ? WHERE id = ?').run(labelId(projectId, 'blue'), planted[0]);
    expect(evalReport(db, runId).suspectedLabelErrors.map((s) => s.imageId)).toContain(planted[0]);
    db.prepare('UPDATE images SET label_id = ? WHERE id = ?').run(labelId(projectId, 'green'), planted[0]);
    expect(evalReport(db, runId).suspectedLabelErrors.map((s) => s.imageId)).not.toContain(planted[0]);
    undo(db, projectId);

    // A run compared with itself: the same test pictures by content, no winner, no changes.
    expect(compareRuns(db, runId, runId)).toMatchObject({ sharedTest: run.metrics!.testCount, better: null, changes: [] });

    // `studio eval RUN --json`: the same report; one key names the doubted labels, and no stored-file path shows.
    const cli = await runStudio(['eval', String(runId), '--json', '--data-dir', dir], { cwd: dir });
    expect(cli.code, cli.stderr).toBe(0);
    const json = lastJson(cli.stdout);
    expect(
      json.suspectedLabelErrors
        .slice(0, planted.length)
        .map((s: { imageId: number }) => s.imageId)
        .sort(),
    ).toEqual([...planted].sort());
    const keys: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object')
        for (const [k, x] of Object.entries(v)) {
          keys.push(k);
          walk(x);
        }
    };
    walk(json);
    expect(keys.filter((k) => /suspect|labelError|mislabel/i.test(k))).toEqual(['suspectedLabelErrors']);
    expect(json).toMatchObject({ nearDuplicateGroups: expect.any(Array), leaks: expect.any(Array) });
    expect(cli.stdout).not.toContain(dir);
    expect(cli.stdout).not.toMatch(/[a-f0-9]{64}/);

    // The record is the run's: relabeling and removing the picture change the project, not what the run used.
    db.prepare('UPDATE images SET label_id = ? WHERE id = ?').run(labelId(projectId, 'red'), planted[0]);
    removeImages(db, projectId, [planted[1]!]);
    const after = runImages(db, runId);
    expect(after.find((r) => r.imageId === planted[0])?.label).toBe('green');
    expect(after.find((r) => r.imageId === planted[1])?.label).toBe('green');
    const again = evalReport(db, runId).images;
    expect(again.find((i) => i.imageId === planted[1])?.now.present).toBe(false);
    expect(again.find((i) => i.imageId === planted[0])?.now.label).toBe('red');
  });
});
