// Backup and restore end to end: real Studios on real SQLite files, a tiny project with a finished
// tiny run. Backup → restore into another data folder (which has a project of its own) must give
// back every label, image (by content hash), split, annotation, history entry, run record and
// model file; a truncated archive, flipped bytes and a foreign file are refused and change nothing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Studio } from '../../electron/core/studio.js';
import { testEnvironment } from '../fixtures/environment.js';
import { installTinyBase } from '../fixtures/tiny-base.js';
import { makeTrainingProject } from '../fixtures/training-project.js';
import { noiseJpeg } from '../fixtures/images.js';
import { backupFilePath } from '../../electron/core/backup/handlers.js';
import { lastJson, runStudio } from '../fixtures/cli.js';

let tmp: string;
let a: Studio;
let b: Studio;
let source: number;
let other: number;
let archive: string;

const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** Everything a project holds, with ids replaced by what they name, so two copies compare equal. */
function snapshot(s: Studio, projectId: number) {
  const db = s.db;
  const all = (sql: string) => db.prepare(sql).all(projectId) as Record<string, unknown>[];
  const images = all(
    'SELECT i.*, l.name AS label FROM images i LEFT JOIN labels l ON l.id = i.label_id WHERE i.project_id = ? ORDER BY sha256',
  );
  const shaOf = new Map(images.map((i) => [i.id as number, i.sha256 as string]));
  const labelOf = new Map(all('SELECT id, name FROM labels WHERE project_id = ?').map((l) => [l.id as number, l.name as string]));
  const runs = all('SELECT * FROM runs WHERE project_id = ? ORDER BY id');
  const runIndex = new Map(runs.map((r, i) => [r.id as number, i]));
  return {
    project: db.prepare('SELECT name, image_count, excluded_count, labeled_count FROM projects WHERE id = ?').get(projectId),
    labels: all('SELECT name, colour, position, image_count FROM labels WHERE project_id = ? ORDER BY name'),
    images: images.map((i) => ({
      sha256: i.sha256,
      label: i.label,
      split: i.split,
      status: i.status,
      name: i.original_name,
      bytes: i.bytes,
      created: i.created_at,
      // The stored file's own hash, read from disk.
      file: sha(s.paths.stored(projectId, i.sha256 as string, i.format as string)),
    })),
    splits: db.prepare('SELECT seed, train, validation, test FROM split_settings WHERE project_id = ?').get(projectId),
    annotations: all(
      'SELECT a.image_id, l.name AS label, a.source, a.confidence, a.created_at FROM annotations a JOIN images i ON i.id = a.image_id LEFT JOIN labels l ON l.id = a.label_id WHERE i.project_id = ? ORDER BY a.id',
    ).map((r) => ({ ...r, image_id: shaOf.get(r.image_id as number) })),
    history: all('SELECT kind, description, payload, undone, created_at FROM history WHERE project_id = ? ORDER BY id').map((h) => {
      const p = JSON.parse(h.payload as string) as { ids: number[]; before: unknown[]; after: unknown };
      const name = (v: unknown) => (h.kind === 'label' && typeof v === 'number' ? labelOf.get(v) : v);
      return { ...h, payload: { ids: p.ids.map((id) => shaOf.get(id)), before: p.before.map(name), after: name(p.after) } };
    }),
    runs: runs.map((r) => ({
      ...r,
      id: undefined,
      project_id: undefined,
      model_folder: r.model_folder === null ? null : 'set',
      host_pid: undefined,
      epochs: db
        .prepare('SELECT epoch, phase, loss, acc, val_loss, val_acc, ms FROM run_epochs WHERE run_id = ? ORDER BY phase, epoch')
        .all(r.id),
      model: r.model_folder
        ? fs
            .readdirSync(r.model_folder as string)
            .sort()
            .map((f) => [f, sha(path.join(r.model_folder as string, f))])
        : null,
    })),
    predictions: db
      .prepare(
        'SELECT p.run_id, p.image_id, p.label, p.confidence, p.runtime FROM predictions p JOIN runs r ON r.id = p.run_id WHERE r.project_id = ? ORDER BY p.run_id, p.image_id',
      )
      .all(projectId)
      .map((p) => {
        const r = p as Record<string, unknown>;
        return { ...r, run_id: runIndex.get(r.run_id as number), image_id: shaOf.get(r.image_id as number) };
      }),
    exports: db
      .prepare('SELECT e.format, e.status, e.dir, e.manifest_sha256 FROM exports e JOIN runs r ON r.id = e.run_id WHERE r.project_id = ?')
      .all(projectId),
  };
}

/** The data folder's files (but the database's) and every table's row count: what "changed nothing" means. */
function state(s: Studio) {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (!e.name.startsWith('studio.db')) files.push(path.relative(s.paths.root, p));
    }
  };
  walk(s.paths.root);
  const tables = s.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").pluck().all() as string[];
  return {
    files: files.sort(),
    rows: Object.fromEntries(tables.map((t) => [t, s.db.prepare(`SELECT COUNT(*) FROM "${t}"`).pluck().get()])),
  };
}

async function backup(s: Studio, projectId: number, file: string) {
  return s.call('backup.create', { projectId, destination: s.sources.registerOutputFile(file) });
}

function restore(s: Studio, file: string) {
  return s.call('backup.restore', { source: s.sources.register({ paths: [file], displayName: path.basename(file) }) });
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'backup-'));
  a = new Studio({ environment: testEnvironment(path.join(tmp, 'a')), host: 'cli' });
  b = new Studio({ environment: testEnvironment(path.join(tmp, 'b')), host: 'cli' });
  await installTinyBase(a.environment.models, path.join(tmp, 'bases'));
  source = makeTrainingProject(a.db, a.paths, { bird: 6, vehicle: 6 }, 'Birds & vehicles');
  const run = await a.training.start(source, {
    strategy: 'head',
    baseId: 'tiny',
    overrides: { epochs: 1, patience: 10, augmentedVariants: 0 },
  });
  const done = await run.done;
  expect(done.status, done.error ?? '').toBe('done');
  // History, a person's relabel and an exclusion, one of them undone; an unlabeled image; a model's guess.
  const ids = a.db.prepare('SELECT id FROM images WHERE project_id = ? ORDER BY id').pluck().all(source) as number[];
  const labels = await a.call('labels.counts', { projectId: source });
  const vehicle = labels.labels.find((l) => l.name === 'vehicle')!.id;
  await a.call('images.assignLabel', { projectId: source, selection: { kind: 'ids', ids: [ids[0]!, ids[1]!] }, labelId: vehicle });
  await a.call('images.setStatus', { projectId: source, selection: { kind: 'ids', ids: [ids[2]!] }, status: 'excluded' });
  await a.call('images.assignLabel', { projectId: source, selection: { kind: 'ids', ids: [ids[3]!] }, labelId: null });
  await a.call('history.undo', { projectId: source });
  await a.call('labels.create', { projectId: source, name: 'empty label' });
  a.db.prepare("INSERT INTO annotations (image_id, label_id, source, confidence) VALUES (?, ?, 'model', 0.75)").run(ids[4], vehicle);
  // Data folder b already has a project with an image: a restore must leave it as it is.
  other = (await b.call('projects.create', { name: 'Birds & vehicles' })).id;
  const f = path.join(tmp, 'other.jpg');
  fs.writeFileSync(f, await noiseJpeg(32, 5));
  await b.importPaths(other, { paths: [f], displayName: 'one' }, false);
  archive = path.join(tmp, 'project.studio-backup.tar');
  await backup(a, source, archive);
}, 60_000);

afterAll(() => {
  a?.close();
  b?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('backup and restore', () => {
  it('restores into another data folder as a new project with everything equal, leaving its other project alone', async () => {
    const before = snapshot(b, other);
    const r = await restore(b, archive);
    expect(r.project.id).not.toBe(other);
    // The name is taken in b, so the copy says it was restored.
    expect(r.project.name).toBe('Birds & vehicles (restored)');
    expect(r.images).toBe(12);
    expect(r.runs).toBe(1);
    const want = snapshot(a, source);
    const got = snapshot(b, r.project.id);
    expect({ ...(got.project as object), name: 'x' }).toEqual({ ...(want.project as object), name: 'x' });
    for (const key of ['labels', 'images', 'splits', 'annotations', 'history', 'runs', 'predictions', 'exports'] as const)
      expect(got[key], key).toEqual(want[key]);
    expect(got.runs[0]!.model!.length).toBeGreaterThan(2);
    expect(snapshot(b, other)).toEqual(before);
    // The restored run is usable where it now lives: its folder is in the new project's.
    const run = (await b.call('runs.list', { projectId: r.project.id }))[0]!;
    expect(run.status).toBe('done');
  });

  it('restores into the same data folder too, and undo still works on the copy (and only there)', async () => {
    const original = snapshot(a, source);
    const r = await restore(a, archive);
    expect(r.project.id).not.toBe(source);
    const redoBefore = (await a.call('history.state', { projectId: r.project.id })).redoLabel;
    expect(redoBefore).toBe('Remove label');
    const undone = await a.call('history.undo', { projectId: r.project.id });
    expect(undone.skipped ?? 0).toBe(0);
    expect(snapshot(a, r.project.id).images.filter((i) => i.status === 'excluded')).toEqual([]);
    expect(snapshot(a, source)).toEqual(original);
  });

  it('never writes over an existing file', async () => {
    const existing = path.join(tmp, 'existing.tar');
    fs.writeFileSync(existing, 'mine');
    await expect(backup(a, source, existing)).rejects.toThrow(/already exists/);
    expect(fs.readFileSync(existing, 'utf8')).toBe('mine');
  });

  it('makes a backup in the data folder when no file is named (the web download)', async () => {
    const r = await a.call('backup.create', { projectId: source });
    expect(r.key).toMatch(/^[a-f0-9]{16}$/);
    const file = backupFilePath(a.paths, r.key!);
    expect(file && path.basename(file)).toBe(r.fileName);
    expect(fs.statSync(file!).size).toBe(r.bytes);
  });

  it('refuses a truncated archive, flipped bytes and a foreign file, changing nothing', async () => {
    const bytes = fs.readFileSync(archive);
    const imageAt = bytes.indexOf(Buffer.from('images/'));
    const manifestAt = bytes.lastIndexOf(Buffer.from('"entries"'));
    const damaged: [string, Buffer, RegExp][] = [
      ['truncated', bytes.subarray(0, Math.floor(bytes.length / 2)), /damaged: the file ends early/],
      ['truncated at the end', bytes.subarray(0, bytes.length - 1024), /damaged/],
      ['a byte of an image', flip(bytes, imageAt + 512 + 100), /damaged: images\/[a-f0-9]+\.jpg does not match its checksum/],
      ['a byte of a header', flip(bytes, imageAt + 3), /damaged: a tar header is damaged/],
      ['a byte of the manifest', flip(bytes, manifestAt + 40), /damaged: the manifest does not match its checksum/],
      ['a byte in the zero end', flip(bytes, bytes.length - 10), /damaged: the end of the archive is damaged/],
      ['a foreign file', Buffer.from('PK\u0003\u0004 not a backup at all'.padEnd(2048, 'x')), /not a Transfer Studio backup/],
    ];
    const before = state(b);
    for (const [what, content, message] of damaged) {
      const file = path.join(tmp, `bad-${what.replace(/\W+/g, '-')}.tar`);
      fs.writeFileSync(file, content);
      await expect(restore(b, file), what).rejects.toThrow(message);
      await expect(restore(b, file), what).rejects.toThrow(/Nothing was restored/);
    }
    expect(state(b)).toEqual(before);
  });
});

describe('studio backup / studio restore', () => {
  it('backs up with --out FILE and restores FILE through the contract', async () => {
    const file = path.join(tmp, 'cli.studio-backup.tar');
    const made = await runStudio(['--data-dir', a.paths.root, 'backup', String(source), '--out', file, '--json'], { cwd: tmp });
    expect(made.code, made.stderr).toBe(0);
    expect(lastJson(made.stdout)).toMatchObject({ projectId: source, file, images: 12, runs: 1, bytes: fs.statSync(file).size });
    const back = await runStudio(['--data-dir', path.join(tmp, 'c'), 'restore', file, '--json'], { cwd: tmp });
    expect(back.code, back.stderr).toBe(0);
    expect(lastJson(back.stdout)).toMatchObject({ name: 'Birds & vehicles', images: 12, labels: 3, runs: 1 });
  });
});

function flip(buf: Buffer, at: number): Buffer {
  const copy = Buffer.from(buf);
  copy[at] = copy[at]! ^ 0x5a;
  return copy;
}
