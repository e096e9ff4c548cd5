// Labeling suggestions end to end on the host side: the real engine process (tiny base), real
// SQLite, the suggest.* handlers. A bulk accept labels exactly the set its view showed, skips a
// picture labeled meanwhile, is one undoable action, and no suggestion ever changes a label.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { openDatabase, type Db } from '../../electron/core/db/connection.js';
import { DataPaths } from '../../electron/core/paths.js';
import { TrainingService } from '../../electron/core/training/service.js';
import { SuggestionService } from '../../electron/core/suggest/service.js';
import { suggestHandlers } from '../../electron/core/suggest/handlers.js';
import { createProject } from '../../electron/core/library/projects.js';
import { ensureLabel } from '../../electron/core/library/labels.js';
import { insertImage } from '../../electron/core/library/images.js';
import { assignLabel, undo, redo } from '../../electron/core/library/history.js';
import { installTinyBase } from '../fixtures/tiny-base.js';
import { testTrainingOptions } from '../fixtures/environment.js';
import { rgbOf, type Rgb } from '../fixtures/images.js';
import { rng } from '../../electron/core/engine/seeded.js';

let dir: string;
let db: Db;
let paths: DataPaths;
let training: TrainingService;
let service: SuggestionService;
let h: ReturnType<typeof suggestHandlers>;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'suggest-'));
  paths = new DataPaths(dir);
  db = openDatabase(paths.database);
  const options = testTrainingOptions(dir);
  await installTinyBase(options.models, path.join(dir, 'bases'));
  training = new TrainingService(db, paths, options);
  service = new SuggestionService(db, paths, training, {
    ...options,
    compute: training.compute,
    cacheDir: training.cacheDir,
    baseId: 'tiny',
    onChange: () => {},
  });
  h = suggestHandlers(db, service);
});
afterAll(() => {
  service.close();
  training.close();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const COLOURS: Record<string, Rgb> = { red: [220, 40, 40], green: [40, 200, 60], blue: [40, 60, 220] };

/** Colour pictures (with noise) the tiny base tells apart; the first `labeled` of each colour keep their label. */
async function colourProject(perLabel: number, labeled: number): Promise<{ projectId: number; labels: Record<string, number> }> {
  const projectId = createProject(db, 'colours').id;
  const random = rng(3);
  const labels: Record<string, number> = {};
  for (const [name, [r, g, b]] of Object.entries(COLOURS)) {
    labels[name] = ensureLabel(db, projectId, name);
    for (let k = 0; k < perLabel; k++) {
      const j = () => Math.round((random() - 0.5) * 60);
      const [dr, dg, db_] = [j(), j(), j()];
      const raw = rgbOf(40, 40, (x, y) => {
        const noise = (((x * 31 + y * 17 + k * 13) % 23) - 11) * 3;
        return [r + dr, g + dg, b + db_].map((c) => Math.max(0, Math.min(255, c + noise))) as Rgb;
      });
      const bytes = await sharp(raw, { raw: { width: 40, height: 40, channels: 3 } })
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
        width: 40,
        height: 40,
        format: 'png',
        originalName: `${name}-${k}.png`,
        labelId: k < labeled ? labels[name]! : null,
      });
    }
  }
  return { projectId, labels };
}

const labelsNow = (projectId: number) =>
  new Map(
    (db.prepare('SELECT id, label_id FROM images WHERE project_id = ?').all(projectId) as { id: number; label_id: number | null }[]).map(
      (r) => [r.id, r.label_id],
    ),
  );

describe('labeling suggestions', () => {
  it('waits for 3 pictures in two labels, then suggests for unlabeled pictures only', async () => {
    const { projectId, labels } = await colourProject(6, 2);
    const waiting = await h['suggest.refresh']({ projectId });
    expect(waiting.state).toBe('waiting');
    expect(waiting.message).toMatch(/Label 3 pictures of at least two labels/);
    // A third red and a third green: two labels known, blue not yet (so nothing is suggested as blue).
    const third = (name: string) =>
      (db.prepare('SELECT id FROM images WHERE project_id = ? AND original_name = ?').get(projectId, `${name}-2.png`) as { id: number }).id;
    assignLabel(db, projectId, { kind: 'ids', ids: [third('red'), third('green')] }, labels.red!, 'red');
    assignLabel(db, projectId, { kind: 'ids', ids: [third('green')] }, labels.green!, 'green');
    const ready = await h['suggest.refresh']({ projectId });
    expect(ready.state, ready.message).toBe('ready');
    expect(ready.labels.map((l) => l.name)).toEqual(['green', 'red']);
    const report = await h['suggest.report']({ projectId });
    const unlabeled = [...labelsNow(projectId)].filter(([, l]) => l === null).map(([id]) => id);
    expect(report.suggestions.map((s) => s.imageId).sort()).toEqual(unlabeled.sort());
    expect(
      report.suggestions.every((s) => s.probabilities.length === 2 && Math.abs(s.probabilities.reduce((a, b) => a + b) - 1) < 1e-4),
    ).toBe(true);
  }, 60_000);

  it('accepts exactly the shown set as one undoable action, and never changes a label', async () => {
    const { projectId, labels } = await colourProject(8, 3);
    const status = await h['suggest.refresh']({ projectId });
    expect(status.state, status.message).toBe('ready');
    const view = { kind: 'suggested' as const, labelId: labels.red!, minPercent: 0 };
    const shown = (await h['suggest.page']({ projectId, view, offset: 0, limit: 1000 })).rows;
    expect(shown.length).toBeGreaterThan(1);
    expect(shown.every((r) => r.labelId === null && r.suggestedLabelId === labels.red)).toBe(true);
    // The threshold narrows the same ordering: every row at ≥ t, none left out.
    const t = Math.floor(shown[Math.floor(shown.length / 2)]!.confidence * 100);
    const narrow = (await h['suggest.page']({ projectId, view: { ...view, minPercent: t }, offset: 0, limit: 1000 })).rows;
    expect(narrow.map((r) => r.imageId)).toEqual(shown.filter((r) => r.confidence >= t / 100).map((r) => r.imageId));

    // Someone labels one of the shown pictures (as blue) before the accept: the accept must leave it alone.
    const taken = shown[0]!.imageId;
    assignLabel(db, projectId, { kind: 'ids', ids: [taken] }, labels.blue!, 'blue');
    const before = labelsNow(projectId);

    // The grid's thumbnails ask for the pictures in view: the labeled one (and an unknown id) get nothing.
    const thumbs = await h['suggest.forImages']({ projectId, imageIds: [...shown.map((r) => r.imageId), 999_999] });
    expect(thumbs.version).toBe(status.version);
    expect(thumbs.rows.map((r) => r.imageId)).toEqual(shown.map((r) => r.imageId).filter((id) => id !== taken));
    expect(thumbs.rows.every((r) => r.labelId === labels.red && r.label === 'red' && r.confidence > 0)).toBe(true);

    expect(() => h['suggest.accept']({ projectId, labelId: labels.red!, minPercent: 0, version: status.version - 1 })).toThrow(
      /changed since they were shown/,
    );
    expect(service.status(projectId)).toMatchObject({ version: status.version, state: 'ready' });
    const res = await h['suggest.accept']({ projectId, labelId: labels.red!, minPercent: 0, version: status.version });
    expect(res.accepted).toBe(shown.length - 1);
    expect(res.history.undoLabel).toMatch(/^Accept \d+ suggestions for red/);
    const after = labelsNow(projectId);
    const accepted = new Set(shown.map((r) => r.imageId).filter((id) => id !== taken));
    for (const [id, label] of after) expect(label, `image ${id}`).toBe(accepted.has(id) ? labels.red : before.get(id));
    expect(after.get(taken)).toBe(labels.blue);
    const source = db
      .prepare('SELECT source, confidence FROM annotations WHERE image_id = ? ORDER BY id DESC LIMIT 1')
      .get([...accepted][0]) as { source: string; confidence: number };
    expect(source.source).toBe('model');
    expect(source.confidence).toBeGreaterThan(0);

    // Enter on a labeled picture does nothing to it.
    expect((await h['suggest.acceptOne']({ projectId, imageId: taken })).accepted).toBe(0);
    expect(labelsNow(projectId).get(taken)).toBe(labels.blue);

    // One undo restores every picture as it was; redo applies it again.
    undo(db, projectId);
    expect(labelsNow(projectId)).toEqual(before);
    redo(db, projectId);
    expect(labelsNow(projectId)).toEqual(after);
  }, 60_000);
});
