import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { openDatabase, type Db } from '../../electron/core/db/connection.js';
import { migrations } from '../../electron/core/db/migrations/index.js';
import { createProject } from '../../electron/core/library/projects.js';
import { ensureLabel } from '../../electron/core/library/labels.js';
import { insertImage } from '../../electron/core/library/images.js';
import { assignSplits, resetSplits, trainingImages } from '../../electron/core/training/splits.js';

let dir: string;
let db: Db;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'splits-'));
  db = openDatabase(path.join(dir, 'studio.db'));
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

let n = 0;
function addImages(projectId: number, label: string, count: number): number[] {
  const labelId = ensureLabel(db, projectId, label);
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const sha = createHash('sha256').update(`img-${n++}`).digest('hex');
    ids.push(
      insertImage(db, { projectId, sha256: sha, bytes: 1, width: 1, height: 1, format: 'jpg', originalName: `${label}${i}.jpg`, labelId })
        .id,
    );
  }
  return ids;
}
const splitsOf = (projectId: number) => new Map(trainingImages(db, projectId).map((r) => [r.id, r.split]));

describe('splits', () => {
  it('is stratified 70/15/15 per label, and tiny labels still get a training image', () => {
    const p = createProject(db, 'p').id;
    addImages(p, 'big', 100);
    addImages(p, 'small', 20);
    const one = addImages(p, 'one', 1);
    const two = addImages(p, 'two', 2);
    const counts = assignSplits(db, p);
    expect(counts.train + counts.validation + counts.test).toBe(123);
    const rows = trainingImages(db, p);
    const per = (label: number) => {
      const c = { train: 0, validation: 0, test: 0 };
      for (const r of rows.filter((x) => x.labelId === label)) c[r.split]++;
      return c;
    };
    const labelOf = (name: string) => ensureLabel(db, p, name);
    expect(per(labelOf('big'))).toEqual({ train: 70, validation: 15, test: 15 });
    expect(per(labelOf('small'))).toEqual({ train: 14, validation: 3, test: 3 });
    expect(splitsOf(p).get(one[0]!)).toBe('train');
    expect(splitsOf(p).get(two[0]!)).toBe('train');
  });

  it('keeps old splits when images are added, and gives the new ones splits that keep the shares', () => {
    const p = createProject(db, 'p').id;
    addImages(p, 'a', 40);
    assignSplits(db, p);
    const before = splitsOf(p);
    addImages(p, 'a', 60);
    const after = splitsOf(p);
    for (const [id, split] of before) expect(after.get(id)).toBe(split);
    const c = { train: 0, validation: 0, test: 0 };
    for (const s of after.values()) c[s]++;
    expect(c).toEqual({ train: 70, validation: 15, test: 15 });
  });

  it('depends on the seed, is reproducible for a seed, and follows new fractions', () => {
    const p = createProject(db, 'p').id;
    addImages(p, 'a', 60);
    resetSplits(db, p, { seed: 1 });
    const s1 = splitsOf(p);
    resetSplits(db, p, { seed: 2 });
    const s2 = splitsOf(p);
    resetSplits(db, p, { seed: 1 });
    expect(splitsOf(p)).toEqual(s1);
    expect([...s1.values()]).not.toEqual([...s2.values()]);
    const counts = resetSplits(db, p, { train: 80, validation: 10, test: 10 });
    expect(counts).toMatchObject({ train: 48, validation: 6, test: 6 });
    expect(() => resetSplits(db, p, { train: 0.5, validation: 0.1, test: 0.1 })).toThrow(/add up to 1/);
  });
});

describe('migration 002', () => {
  it('creates the training tables on a fresh database', () => {
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name);
    expect(tables).toEqual(expect.arrayContaining(['runs', 'run_epochs', 'base_models', 'split_settings']));
    expect(db.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(2);
  });

  it('upgrades a version-1 database and keeps its images', () => {
    const file = path.join(dir, 'old.db');
    const old = openDatabase(file, { migrations: migrations.filter((m) => m.version === 1) });
    const p = old.prepare("INSERT INTO projects (name) VALUES ('x')").run().lastInsertRowid;
    old
      .prepare(
        "INSERT INTO images (project_id, sha256, bytes, width, height, format, original_name) VALUES (?, 'abc', 1, 1, 1, 'jpg', 'a.jpg')",
      )
      .run(p);
    expect(old.pragma('user_version', { simple: true })).toBe(1);
    old.close();
    const upgraded = openDatabase(file);
    expect(upgraded.pragma('user_version', { simple: true })).toBe(Math.max(...migrations.map((m) => m.version)));
    expect(upgraded.prepare('SELECT sha256, split FROM images').all()).toEqual([{ sha256: 'abc', split: null }]);
    upgraded.prepare("INSERT INTO runs (project_id, base_id, strategy, config) VALUES (?, 'b', 'head', '{}')").run(p);
    expect(() => upgraded.prepare("UPDATE runs SET status = 'bogus'").run()).toThrow();
    upgraded.close();
  });
});
