// Each numbered migration applies on a real SQLite file, the version is recorded, and a
// database from a newer app is refused without being touched.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openDatabase, migrate, DatabaseTooNewError } from '../../electron/core/db/connection.js';
import { migrations } from '../../electron/core/db/migrations/index.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-db-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const tables = (db: Database.Database) =>
  (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);

describe('migrations', () => {
  it('are numbered 1..n without gaps', () => {
    expect(migrations.map((m) => m.version)).toEqual(migrations.map((_, i) => i + 1));
  });

  it('001 creates the library tables, in WAL mode, at user_version 1', () => {
    const file = path.join(dir, 'a.db');
    const db = new Database(file);
    migrate(db, migrations.slice(0, 1));
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    expect(tables(db)).toEqual(expect.arrayContaining(['projects', 'images', 'labels', 'annotations', 'history']));
    db.close();
    const reopened = openDatabase(file);
    expect(reopened.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(reopened.pragma('user_version', { simple: true })).toBe(migrations.length);
    reopened.close();
  });

  it('each later migration upgrades the database left by the one before it', () => {
    for (let v = 2; v <= migrations.length; v++) {
      const file = path.join(dir, `up-${v}.db`);
      const db = new Database(file);
      migrate(db, migrations.slice(0, v - 1));
      db.prepare("INSERT INTO projects (name) VALUES ('kept')").run();
      migrate(db, migrations.slice(0, v));
      expect(db.pragma('user_version', { simple: true })).toBe(v);
      expect(db.prepare('SELECT name FROM projects').get()).toEqual({ name: 'kept' });
      db.close();
    }
  });

  it('005 rebuilds the tables with AUTOINCREMENT ids, keeping every row, id, index and trigger, after a backup', () => {
    const file = path.join(dir, 'v4.db');
    const db = new Database(file);
    db.pragma('foreign_keys = ON');
    migrate(db, migrations.slice(0, 4));
    db.exec(`
      INSERT INTO projects (id, name) VALUES (3, 'p3'), (7, 'p7');
      INSERT INTO labels (id, project_id, name, colour) VALUES (5, 3, 'cat', '#ff0000'), (9, 7, 'dog', '#00ff00');
      INSERT INTO images (id, project_id, sha256, bytes, width, height, format, original_name, label_id, split)
        VALUES (11, 3, 'a', 1, 1, 1, 'png', 'a.png', 5, 'train'), (12, 3, 'b', 1, 1, 1, 'png', 'b.png', NULL, 'test'),
               (20, 7, 'c', 1, 1, 1, 'png', 'c.png', 9, NULL);
      INSERT INTO annotations (id, image_id, label_id, source) VALUES (4, 11, 5, 'person');
      INSERT INTO history (id, project_id, kind, description, payload) VALUES (6, 3, 'label', 'Label as cat', '{}');
      INSERT INTO runs (id, project_id, base_id, strategy, config) VALUES (8, 3, 'mobilenet_v2', 'head', '{}');
      INSERT INTO run_epochs (run_id, epoch, phase, loss, acc, ms) VALUES (8, 1, 'head', 1, 0.5, 10);
      INSERT INTO exports (id, run_id, format, parts) VALUES (2, 8, 'onnx', '["onnx"]');
      INSERT INTO predictions (run_id, image_id, label_id, label, confidence, runtime) VALUES (8, 12, 5, 'cat', 0.9, 'onnx-cpu');
      INSERT INTO split_settings (project_id, seed, train, validation, test) VALUES (3, 1, 0.8, 0.1, 0.1);
    `);
    const dump = (d: Database.Database) =>
      Object.fromEntries(
        ['projects', 'labels', 'images', 'annotations', 'history', 'runs', 'run_epochs', 'exports', 'predictions', 'split_settings'].map(
          (t) => [t, d.prepare(`SELECT * FROM ${t} ORDER BY 1, 2`).all()],
        ),
      );
    const schemaNames = (d: Database.Database, type: string) =>
      (d.prepare('SELECT name FROM sqlite_master WHERE type = ? ORDER BY name').pluck().all(type) as string[]).filter(
        (n) => !n.startsWith('sqlite_'),
      );
    const before = dump(db);
    const triggers = schemaNames(db, 'trigger');
    const indexes = schemaNames(db, 'index');
    migrate(db, migrations.slice(0, 5));
    expect(db.pragma('user_version', { simple: true })).toBe(5);
    expect(dump(db)).toEqual(before);
    expect(schemaNames(db, 'trigger')).toEqual(triggers);
    expect(schemaNames(db, 'index')).toEqual(indexes);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('foreign_key_check')).toEqual([]);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    for (const t of ['projects', 'labels', 'images', 'annotations', 'runs', 'exports', 'history'])
      expect(db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?").pluck().get(t), t).toMatch(/AUTOINCREMENT/);
    // A deleted highest id is never handed out again.
    db.prepare('DELETE FROM images WHERE id = 20').run();
    const next = db
      .prepare(
        "INSERT INTO images (project_id, sha256, bytes, width, height, format, original_name) VALUES (7, 'd', 1, 1, 1, 'png', 'd.png')",
      )
      .run();
    expect(Number(next.lastInsertRowid)).toBe(21);
    db.prepare('DELETE FROM projects WHERE id = 7').run();
    expect(Number(db.prepare("INSERT INTO projects (name) VALUES ('new')").run().lastInsertRowid)).toBe(8);
    // Triggers still keep the counters; cascades still cascade.
    expect(db.prepare('SELECT image_count, labeled_count FROM projects WHERE id = 3').get()).toEqual({ image_count: 2, labeled_count: 1 });
    db.prepare('UPDATE images SET label_id = 5 WHERE id = 12').run();
    expect(db.prepare('SELECT image_count FROM labels WHERE id = 5').pluck().get()).toBe(2);
    // annotations.source is wider.
    for (const source of ['folder', 'csv', 'suggestion'])
      db.prepare('INSERT INTO annotations (image_id, label_id, source) VALUES (11, 5, ?)').run(source);
    expect(() => db.prepare("INSERT INTO annotations (image_id, label_id, source) VALUES (11, 5, 'nobody')").run()).toThrow(/CHECK/);
    db.prepare('DELETE FROM projects WHERE id = 3').run();
    expect(db.prepare('SELECT COUNT(*) FROM images').pluck().get()).toBe(0);
    expect(db.prepare('SELECT COUNT(*) FROM exports').pluck().get()).toBe(0);
    db.close();
    // The database as it was, beside it.
    const backup = new Database(`${file}.v4.bak`, { readonly: true });
    expect(backup.pragma('user_version', { simple: true })).toBe(4);
    expect(dump(backup)).toEqual(before);
    backup.close();
  });

  it('a failing migration rolls back as a whole and leaves the old version', () => {
    const file = path.join(dir, 'b.db');
    const db = new Database(file);
    migrate(db, migrations.slice(0, 1));
    const broken = [
      ...migrations.slice(0, 1),
      { version: 2, name: 'ok', up: 'CREATE TABLE t2 (x)' },
      { version: 3, name: 'bad', up: 'CREATE TABLE oops (' },
    ];
    expect(() => migrate(db, broken)).toThrow();
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    expect(tables(db)).not.toContain('t2');
    db.close();
  });

  it('refuses a database written by a newer app and does not change it', () => {
    const file = path.join(dir, 'new.db');
    const raw = new Database(file);
    raw.pragma('user_version = 999');
    raw.close();
    const before = fs.readFileSync(file);
    expect(() => openDatabase(file)).toThrow(DatabaseTooNewError);
    expect(() => openDatabase(file)).toThrow(/newer Transfer Studio/);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });
});
