// Migration 003 (predictions) on a real SQLite file: upgrades a version-2 database keeping its
// runs, and the table's constraints hold (one row per run and image, errors xor confidences,
// rows follow their run and image, a deleted label leaves the run's label name).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../../electron/core/db/connection.js';
import { migrations } from '../../electron/core/db/migrations/index.js';
import { savePredictions, pagePredictions } from '../../electron/core/predict/store.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'predict-migration-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function version2WithARun(): Database.Database {
  const db = new Database(path.join(dir, 'studio.db'));
  db.pragma('foreign_keys = ON');
  migrate(
    db,
    migrations.filter((m) => m.version <= 2),
  );
  db.prepare("INSERT INTO projects (id, name) VALUES (1, 'p')").run();
  db.prepare("INSERT INTO labels (id, project_id, name, colour) VALUES (1, 1, 'bird', '#ff0000'), (2, 1, 'vehicle', '#00ff00')").run();
  for (const id of [1, 2, 3])
    db.prepare(
      "INSERT INTO images (id, project_id, sha256, bytes, width, height, format, original_name) VALUES (?, 1, ?, 1, 1, 1, 'jpg', 'x.jpg')",
    ).run(id, `sha${id}`);
  db.prepare(
    "INSERT INTO runs (id, project_id, base_id, strategy, config, status) VALUES (1, 1, 'mobilenet_v2', 'head', '{}', 'done')",
  ).run();
  return db;
}

describe('migration 003: predictions', () => {
  it('is version 3 and upgrades a version-2 database, keeping its runs', () => {
    expect(migrations.find((m) => m.version === 3)?.name).toBe('predictions');
    const db = version2WithARun();
    migrate(
      db,
      migrations.filter((m) => m.version <= 3),
    );
    expect(db.pragma('user_version', { simple: true })).toBe(3);
    expect(db.prepare('SELECT status FROM runs WHERE id = 1').get()).toEqual({ status: 'done' });
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'predictions'").get()).toEqual({ name: 'predictions' });
    db.close();
  });

  it('keeps one row per run and image, and its rows follow runs, images and labels', () => {
    const db = version2WithARun();
    migrate(
      db,
      migrations.filter((m) => m.version <= 3),
    );
    const ok = (imageId: number, label: string, labelId: number, p: number) => ({
      imageId,
      label,
      labelId,
      confidence: p,
      probabilities: { bird: p, vehicle: 1 - p },
      error: null,
    });
    savePredictions(db, 1, 'onnx-cpu', [
      ok(1, 'bird', 1, 0.9),
      ok(2, 'vehicle', 2, 0.2),
      { imageId: 3, label: null, labelId: null, confidence: null, probabilities: null, error: 'empty file' },
    ]);
    savePredictions(db, 1, 'onnx-cpu', [ok(1, 'bird', 1, 0.8)]); // predicting again replaces
    expect(pagePredictions(db, 1, 0, 10)).toEqual({
      total: 3,
      runtime: 'onnx-cpu',
      rows: [
        { imageId: 1, label: 'bird', labelId: 1, confidence: 0.8, error: null },
        { imageId: 2, label: 'vehicle', labelId: 2, confidence: 0.2, error: null },
        { imageId: 3, label: null, labelId: null, confidence: null, error: 'empty file' },
      ],
    });
    // Neither a confidence with an error nor a row with neither.
    expect(() =>
      db.prepare("INSERT INTO predictions (run_id, image_id, confidence, error, runtime) VALUES (1, 2, 0.5, 'x', 'onnx-cpu')").run(),
    ).toThrow(/CHECK/);
    expect(() => db.prepare("INSERT OR REPLACE INTO predictions (run_id, image_id, runtime) VALUES (1, 2, 'onnx-cpu')").run()).toThrow(
      /CHECK/,
    );

    db.prepare('DELETE FROM labels WHERE id = 1').run();
    expect(pagePredictions(db, 1, 0, 1).rows[0]).toEqual({ imageId: 1, label: 'bird', labelId: null, confidence: 0.8, error: null });
    db.prepare('DELETE FROM images WHERE id = 2').run();
    expect(pagePredictions(db, 1, 0, 10).total).toBe(2);
    db.prepare('DELETE FROM runs WHERE id = 1').run();
    expect(pagePredictions(db, 1, 0, 10)).toEqual({ total: 0, runtime: null, rows: [] });
    db.close();
  });
});
