// Migration 006: run_images keeps what a run used even when the image is removed, and goes with its run.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from '../../electron/core/db/connection.js';
import { migrations } from '../../electron/core/db/migrations/index.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-db6-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('migration 007 run_images', () => {
  it('upgrades a version-6 database with data, and its rows survive image removal but not run deletion', () => {
    const db = new Database(path.join(dir, 'v6.db'));
    db.pragma('foreign_keys = ON');
    migrate(db, migrations.slice(0, 6));
    db.exec(`
      INSERT INTO projects (id, name) VALUES (1, 'p');
      INSERT INTO labels (id, project_id, name, colour) VALUES (2, 1, 'cat', '#ff0000');
      INSERT INTO images (id, project_id, sha256, bytes, width, height, format, original_name, label_id, split)
        VALUES (3, 1, 'abc', 1, 1, 1, 'png', 'a.png', 2, 'train'), (4, 1, 'def', 1, 1, 1, 'png', 'b.png', NULL, NULL);
      INSERT INTO runs (id, project_id, base_id, strategy, config) VALUES (5, 1, 'mobilenet_v2', 'head', '{}');
    `);
    migrate(db, migrations.slice(0, 7));
    expect(db.pragma('user_version', { simple: true })).toBe(7);
    db.exec(`
      INSERT INTO run_images (run_id, image_id, sha256, original_name, label, split, predicted, confidence, probabilities, kind)
        VALUES (5, 3, 'abc', 'a.png', 'cat', 'train', 'cat', 0.9, '[0.9,0.1]', 'out-of-fold'),
               (5, 4, 'def', 'b.png', NULL, NULL, 'cat', 0.6, '[0.6,0.4]', 'unlabeled');
    `);
    // A label without a split (or the reverse) is not a record of anything.
    expect(() => db.exec("INSERT INTO run_images (run_id, image_id, sha256, original_name, label) VALUES (5, 9, 'x', 'x', 'cat')")).toThrow(
      /CHECK/,
    );
    expect(() =>
      db.exec(
        "INSERT INTO run_images (run_id, image_id, sha256, original_name, label, split, kind) VALUES (5, 9, 'x', 'x', 'cat', 'train', 'guess')",
      ),
    ).toThrow(/CHECK/);
    db.exec('DELETE FROM images WHERE id = 3');
    expect(db.prepare('SELECT label, split FROM run_images WHERE image_id = 3').get()).toEqual({ label: 'cat', split: 'train' });
    db.exec('DELETE FROM runs WHERE id = 5');
    expect(db.prepare('SELECT COUNT(*) AS n FROM run_images').get()).toEqual({ n: 0 });
    expect(db.pragma('foreign_key_check')).toEqual([]);
    db.close();
  });
});
