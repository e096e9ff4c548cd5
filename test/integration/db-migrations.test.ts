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
