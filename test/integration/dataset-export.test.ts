// Dataset export end to end: a real Studio and SQLite file, real files. Export → import into a new
// project must give back every image (by content hash) with its label, in both layouts; an
// existing non-empty folder is refused untouched; the CLI drives the same call.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Studio } from '../../electron/core/studio.js';
import { StudioError } from '../../electron/shared/contract.js';
import { noiseJpeg, solid } from '../fixtures/images.js';
import { testEnvironment } from '../fixtures/environment.js';
import { datasetZipPath } from '../../electron/core/dataset/handlers.js';

const ROOT = path.resolve(__dirname, '../..');
let tmp: string;
let studio: Studio;
let source: number;

/** sha256 → label name (null: unlabeled) of the project's images, optionally without excluded ones. */
function contents(projectId: number, withExcluded = true): Map<string, string | null> {
  const rows = studio.db
    .prepare(`SELECT i.sha256, l.name AS label, i.status FROM images i LEFT JOIN labels l ON l.id = i.label_id WHERE i.project_id = ?`)
    .all(projectId) as { sha256: string; label: string | null; status: string }[];
  return new Map(rows.filter((r) => withExcluded || r.status !== 'excluded').map((r) => [r.sha256, r.label]));
}

async function exportTo(
  args: { projectId: number; format: 'folders' | 'csv'; includeUnlabeled?: boolean; includeExcluded?: boolean },
  dir: string,
) {
  const destination = studio.sources.registerOutputFolder(dir);
  const finished = new Promise<{ status: string; summary: { images: number } | null; message: string | null }>((resolve) => {
    const off = studio.bus.subscribe((name, payload) => {
      if (name !== 'dataset.exportFinished') return;
      off();
      resolve(payload as never);
    });
  });
  await studio.call('dataset.export', { ...args, destination });
  return finished;
}

async function importInto(name: string, dir: string, csv?: string): Promise<number> {
  const p = await studio.call('projects.create', { name });
  const report = await studio.importPaths(p.id, csv ? { paths: [], csv, displayName: 'csv' } : { paths: [dir], displayName: 'dir' }, true);
  expect(report.skipped).toEqual([]);
  return p.id;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dataset-export-'));
  studio = new Studio({ environment: testEnvironment(path.join(tmp, 'data')), host: 'cli' });
  // Originals with clashing, unsafe and hidden-looking names, in labels whose names need care.
  const src = path.join(tmp, 'src');
  const files: [string, string, Buffer][] = [
    ['cat', 'a.jpg', await noiseJpeg(64, 10)],
    ['cat', 'A.JPG', await noiseJpeg(64, 20)],
    ['dog', 'a.jpg', await noiseJpeg(64, 30)],
    ['dog', '.hidden-looking.png', await solid(40, 30, '#c80a0a', 'png')],
    ['dog', 'what?:*.jpg', await noiseJpeg(64, 40)],
    ['con', 'CON.jpg', await noiseJpeg(64, 50)],
    ['', 'loose.jpg', await noiseJpeg(64, 60)],
    ['', 'Cat', await noiseJpeg(64, 70)],
  ];
  for (const [label, name, bytes] of files) {
    fs.mkdirSync(path.join(src, label), { recursive: true });
    fs.writeFileSync(path.join(src, label, name), bytes);
  }
  source = (await studio.call('projects.create', { name: 'Source/Project' })).id;
  const report = await studio.importPaths(source, { paths: [src], displayName: 'src' }, true);
  // '.hidden-looking.png' is skipped by the importer (hidden); give it in by path so the export must rename it.
  expect(report.imported).toBe(files.length - 1);
  await studio.importPaths(source, { paths: [path.join(src, 'dog', '.hidden-looking.png')], displayName: 'one' }, false);
  const dog = studio.db.prepare("SELECT id FROM labels WHERE project_id = ? AND name = 'dog'").get(source) as { id: number };
  const hidden = studio.db.prepare("SELECT id FROM images WHERE project_id = ? AND original_name LIKE '.hidden%'").get(source) as {
    id: number;
  };
  await studio.call('images.assignLabel', { projectId: source, selection: { kind: 'ids', ids: [hidden.id] }, labelId: dog.id });
  const one = studio.db.prepare("SELECT id FROM images WHERE project_id = ? AND original_name = 'a.jpg' LIMIT 1").get(source) as {
    id: number;
  };
  await studio.call('images.setStatus', { projectId: source, selection: { kind: 'ids', ids: [one.id] }, status: 'excluded' });
  // A label whose name a CSV must quote.
  const odd = await studio.call('labels.create', { projectId: source, name: 'big, "odd" one' });
  const capital = studio.db.prepare("SELECT id FROM images WHERE project_id = ? AND original_name = 'A.JPG'").get(source) as { id: number };
  await studio.call('images.assignLabel', { projectId: source, selection: { kind: 'ids', ids: [capital.id] }, labelId: odd.id });
}, 60_000);

afterAll(() => {
  studio.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('dataset export', () => {
  it('round-trips as CSV: every image hash and label, unlabeled and excluded included', async () => {
    const dir = path.join(tmp, 'out-csv');
    const ev = await exportTo({ projectId: source, format: 'csv', includeUnlabeled: true, includeExcluded: true }, dir);
    expect(ev.status).toBe('done');
    expect(ev.summary?.images).toBe(8);
    const header = fs.readFileSync(path.join(dir, 'labels.csv'), 'utf8').split('\n')[0];
    expect(header).toBe('path,label,split');
    const copy = await importInto('from csv', dir, path.join(dir, 'labels.csv'));
    expect(contents(copy)).toEqual(new Map([...contents(source)]));
  });

  it('round-trips as label folders, leaving out unlabeled and excluded images by default', async () => {
    const dir = path.join(tmp, 'out-folders');
    const ev = await exportTo({ projectId: source, format: 'folders' }, dir);
    expect(ev.status).toBe('done');
    // Names were made unique and safe: nothing hidden, nothing Windows refuses.
    const all = fs.readdirSync(dir, { recursive: true }) as string[];
    for (const f of all) expect(path.basename(f)).not.toMatch(/^\.|[?:*"]|^con(\.|$)/i);
    const copy = await importInto('from folders', dir);
    // Folder names cannot hold '"', so that label comes back with '_' for it; every other label is exact.
    const expected = new Map(
      [...contents(source, false)].filter(([, l]) => l !== null).map(([sha, l]) => [sha, l === 'con' ? '_con' : l!.replace(/"/g, '_')]),
    );
    expect(contents(copy)).toEqual(expected);
  });

  it('refuses a folder that is not empty and writes nothing into it', async () => {
    const dir = path.join(tmp, 'full');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'mine.txt'), 'keep me');
    const err = await exportTo({ projectId: source, format: 'folders' }, dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StudioError);
    expect((err as StudioError).code).toBe('conflict');
    expect((err as Error).message).toMatch(/not empty/);
    expect(fs.readdirSync(dir)).toEqual(['mine.txt']);
    expect(fs.readFileSync(path.join(dir, 'mine.txt'), 'utf8')).toBe('keep me');
  });

  it('without a destination, makes a zip in the data folder that the web host can name by key', async () => {
    const finished = new Promise<{ status: string; key: string | null }>((resolve) => {
      const off = studio.bus.subscribe((name, payload) => name === 'dataset.exportFinished' && (off(), resolve(payload as never)));
    });
    await studio.call('dataset.export', { projectId: source, format: 'csv' });
    const ev = await finished;
    expect(ev.status).toBe('done');
    const zip = datasetZipPath(studio.paths, ev.key!);
    expect(zip && fs.statSync(zip).size).toBeGreaterThan(100);
    expect(datasetZipPath(studio.paths, '../../etc')).toBeNull();
  });
});

describe('cancelling a dataset export', () => {
  it('stops copying and removes a data-folder export whole', async () => {
    const finished = new Promise<{ status: string; key: string | null }>((resolve) => {
      const off = studio.bus.subscribe((name, payload) => name === 'dataset.exportFinished' && (off(), resolve(payload as never)));
    });
    const list = () =>
      fs.existsSync(path.join(studio.paths.root, 'dataset-exports')) ? fs.readdirSync(path.join(studio.paths.root, 'dataset-exports')) : [];
    const before = list();
    // The job copies its first file before the call returns; the cancel lands before the second.
    const { jobId } = await studio.call('dataset.export', { projectId: source, format: 'folders', includeUnlabeled: true });
    await studio.call('dataset.cancelExport', { jobId });
    const ev = await finished;
    expect(ev.status).toBe('cancelled');
    expect(ev.key).toBeNull();
    expect(list()).toEqual(before);
  });
});

describe('studio dataset export (CLI)', () => {
  it('exports with --json, then refuses the same folder again', () => {
    const dataDir = path.join(tmp, 'data');
    const out = path.join(tmp, 'cli-out');
    const run = (extra: string[]) =>
      spawnSync(
        process.execPath,
        [path.join(ROOT, 'bin/studio.mjs'), '--data-dir', dataDir, 'dataset', 'export', String(source), '--out', out, ...extra],
        {
          encoding: 'utf8',
          env: { ...process.env, STUDIO_CLI_FROM_SOURCE: '1' },
          timeout: 120_000,
        },
      );
    // The test's own Studio holds the database too; SQLite allows both.
    const first = run(['--format', 'csv', '--include-unlabeled', '--json']);
    expect(first.stderr).not.toMatch(/studio:/);
    expect(first.status).toBe(0);
    const json = JSON.parse(first.stdout.trimEnd().split('\n').at(-1)!) as Record<string, unknown>;
    expect(json).toMatchObject({ projectId: source, format: 'csv', status: 'done', dir: out, images: 7, unlabeled: 2 });
    expect(fs.existsSync(path.join(out, 'labels.csv'))).toBe(true);
    const again = run([]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/not empty/);
    const bad = run(['--format', 'zip']);
    expect(bad.status).toBe(2);
  }, 120_000);
});
