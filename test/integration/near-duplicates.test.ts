// Near-duplicates through the contract, on a real SQLite file: resized, recompressed and cropped
// copies made with sharp are found as groups, unrelated pictures are not; a copy planted across
// train and test is a leak that moves only when accepted, as one undoable action, while the run
// that recorded it keeps its snapshot. Migration 009 and the backfill of older images too.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Studio } from '../../electron/core/studio.js';
import { migrate } from '../../electron/core/db/connection.js';
import { migrations } from '../../electron/core/db/migrations/index.js';
import { testEnvironment } from '../fixtures/environment.js';
import { copiesOf, scene } from '../fixtures/scenes.js';

let tmp: string;
let studio: Studio;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'near-dups-'));
  studio = new Studio({ environment: testEnvironment(path.join(tmp, 'data')), host: 'cli' });
});
afterAll(() => {
  studio.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('near-duplicates', () => {
  let projectId: number;
  const ids = new Map<string, number>();

  beforeAll(async () => {
    projectId = (await studio.call('projects.create', { name: 'dups' })).id;
    const dir = path.join(tmp, 'pictures');
    // Label folders: "a" holds two originals and their copies, "b" ten unrelated scenes.
    fs.mkdirSync(path.join(dir, 'a'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'b'), { recursive: true });
    for (const seed of [1, 2]) {
      const original = await scene(seed);
      fs.writeFileSync(path.join(dir, 'a', `s${seed}.png`), original);
      for (const [kind, bytes] of Object.entries(await copiesOf(original)))
        fs.writeFileSync(
          path.join(dir, 'a', `s${seed}-${kind}.${kind === 'recompressed' ? 'jpg' : kind === 'all' ? 'webp' : 'png'}`),
          bytes,
        );
    }
    for (let seed = 10; seed < 20; seed++) fs.writeFileSync(path.join(dir, 'b', `u${seed}.png`), await scene(seed));
    const report = await studio.importPaths(projectId, { paths: [dir], displayName: 'pictures' });
    expect(report.imported).toBe(20);
    for (const r of studio.db.prepare('SELECT id, original_name FROM images WHERE project_id = ?').all(projectId) as {
      id: number;
      original_name: string;
    }[])
      ids.set(r.original_name.replace(/\.\w+$/, ''), r.id);
  });

  it('hashes at import, and groups each original with its resized, recompressed and cropped copies only', async () => {
    expect(studio.db.prepare('SELECT COUNT(*) FROM images WHERE project_id = ? AND phash IS NULL').pluck().get(projectId)).toBe(0);
    const found = await studio.call('duplicates.find', { projectId });
    expect(found.hashedNow).toBe(0);
    expect(found.featuresUsed).toBe(false);
    // Groups come in image-id order, and ids follow the order concurrent imports finish: compare by name.
    const names = found.groups
      .map((g) => g.members.map((m) => m.originalName.replace(/\.\w+$/, '')).sort())
      .sort((a, b) => a[0]!.localeCompare(b[0]!));
    expect(names).toEqual([
      ['s1', 's1-all', 's1-cropped', 's1-recompressed', 's1-resized'],
      ['s2', 's2-all', 's2-cropped', 's2-recompressed', 's2-resized'],
    ]);
    expect(found.groups.every((g) => g.distance <= 6 && g.similarity === null)).toBe(true);
  });

  it('reports a copy planted across train and test as a leak, moves it only when accepted, and undo restores it', async () => {
    const setSplit = studio.db.prepare('UPDATE images SET split = ? WHERE id = ?');
    for (const id of ids.values()) setSplit.run('train', id);
    setSplit.run('test', ids.get('s1-cropped'));
    // A run recorded the planted split; it must keep it whatever happens to the project.
    const runId = Number(
      studio.db
        .prepare("INSERT INTO runs (project_id, base_id, strategy, config, status) VALUES (?, 'tiny', 'head', '{}', 'done')")
        .run(projectId).lastInsertRowid,
    );
    const record = studio.db.prepare(
      'INSERT INTO run_images (run_id, image_id, sha256, original_name, label, split) SELECT ?, id, sha256, original_name, ?, split FROM images WHERE id = ?',
    );
    for (const id of ids.values()) record.run(runId, 'a', id);

    const found = await studio.call('duplicates.find', { projectId });
    expect(found.leaks).toHaveLength(1);
    const [leak] = found.leaks;
    expect(leak).toMatchObject({ splits: ['train', 'test'], moveTo: 'train', imageIds: [ids.get('s1-cropped')] });
    expect(leak!.warning).toMatch(/5 near-identical pictures are split across learning and test pictures/);
    expect(found.groups[leak!.group]!.leak).toBe(true);

    // Nothing moves without the warning accepted.
    await expect(
      studio.call('duplicates.resolveLeak', { projectId, imageIds: leak!.imageIds, split: 'train', acceptWarning: false as never }),
    ).rejects.toThrow(/needs the warning accepted/);
    const splitOf = (id: number) => studio.db.prepare('SELECT split FROM images WHERE id = ?').pluck().get(id);
    expect(splitOf(ids.get('s1-cropped')!)).toBe('test');

    const moved = await studio.call('duplicates.resolveLeak', { projectId, imageIds: leak!.imageIds, split: 'train', acceptWarning: true });
    expect(moved.changed).toBe(1);
    expect(moved.history.undoLabel).toBe('Move 1 near-duplicate to train');
    expect(splitOf(ids.get('s1-cropped')!)).toBe('train');
    expect((await studio.call('duplicates.find', { projectId })).leaks).toEqual([]);
    // The run still says what it was tested on.
    const asRun = await studio.call('duplicates.find', { projectId, runId });
    expect(asRun.leaks.map((l) => l.imageIds)).toEqual([[ids.get('s1-cropped')]]);

    await studio.call('history.undo', { projectId });
    expect(splitOf(ids.get('s1-cropped')!)).toBe('test');
    await studio.call('history.redo', { projectId });
    expect(splitOf(ids.get('s1-cropped')!)).toBe('train');
  });

  it('refuses to move pictures of another project or without a split to move', async () => {
    await expect(
      studio.call('duplicates.resolveLeak', { projectId, imageIds: [999_999], split: 'train', acceptWarning: true }),
    ).rejects.toThrow(/not in this project/);
    await studio.call('images.assignLabel', { projectId, selection: { kind: 'ids', ids: [ids.get('u10')!] }, labelId: null });
    await expect(
      studio.call('duplicates.resolveLeak', { projectId, imageIds: [ids.get('u10')!], split: 'test', acceptWarning: true }),
    ).rejects.toThrow(/Only labeled, included pictures/);
  });

  it('hashes images imported before hashes existed, on first use', async () => {
    studio.db.prepare('UPDATE images SET phash = NULL WHERE project_id = ?').run(projectId);
    const found = await studio.call('duplicates.find', { projectId });
    expect(found.hashedNow).toBe(20);
    expect(found.groups).toHaveLength(2);
  });
});

describe('migration 009 perceptual hash', () => {
  it('adds a nullable, checked phash column to a version-8 database with data', () => {
    const db = new Database(path.join(tmp, 'v8.db'));
    migrate(db, migrations.slice(0, 8));
    db.exec(`INSERT INTO projects (id, name) VALUES (1, 'p');
      INSERT INTO images (id, project_id, sha256, bytes, width, height, format, original_name) VALUES (3, 1, 'abc', 1, 1, 1, 'png', 'a.png');`);
    migrate(db, migrations.slice(0, 9));
    expect(db.pragma('user_version', { simple: true })).toBe(9);
    expect(db.prepare('SELECT phash FROM images WHERE id = 3').pluck().get()).toBeNull();
    db.exec("UPDATE images SET phash = '0123456789abcdef' WHERE id = 3");
    expect(() => db.exec("UPDATE images SET phash = 'XYZ' WHERE id = 3")).toThrow(/CHECK/);
    expect(() => db.exec("UPDATE images SET phash = '0123456789abcdeg' WHERE id = 3")).toThrow(/CHECK/);
    db.close();
  });
});
