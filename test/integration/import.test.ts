// The import pipeline end to end: real files on disk, a real Studio with its SQLite file.
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Studio } from '../../electron/core/studio.js';
import { events, StudioError } from '../../electron/shared/contract.js';
import type { ImportReport } from '../../electron/shared/schemas.js';
import { createRun } from '../../electron/core/training/runs.js';
import { defaultConfig } from '../../electron/core/engine/config.js';
import { createExport, recordExportPath } from '../../electron/core/export/store.js';
import { encodeBmp, halvesJpeg, meanRgb, noiseJpeg, pngWithHeaderSize, solid } from '../fixtures/images.js';

import { CLIPART } from '../fixtures/datasets.js';
import { testEnvironment } from '../fixtures/environment.js';
const CLIPART_COUNTS = { beverage: 51, bird: 47, bug: 49, fruit: 88, hardware: 54, mammal: 115, music: 72, vehicle: 52 };

let tmp: string;
let studio: Studio;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'import-it-'));
  studio = new Studio({ environment: testEnvironment(path.join(tmp, 'data')), host: 'cli' });
});
afterAll(() => {
  studio.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function newProject(name: string): Promise<number> {
  return (await studio.call('projects.create', { name })).id;
}

function importPaths(projectId: number, paths: string[], folderLabels = true, csv?: string): Promise<ImportReport> {
  return studio.importPaths(projectId, { paths, displayName: 'x', ...(csv ? { csv } : {}) }, folderLabels);
}

/** Every image row of the project has its stored original and its thumbnail on disk. */
function rowsWithoutFiles(projectId: number): number[] {
  const rows = studio.db.prepare('SELECT id, sha256, format FROM images WHERE project_id = ?').all(projectId) as {
    id: number;
    sha256: string;
    format: string;
  }[];
  return rows
    .filter(
      (r) =>
        !fs.existsSync(studio.paths.stored(projectId, r.sha256, r.format)) || !fs.existsSync(studio.paths.thumbnail(projectId, r.sha256)),
    )
    .map((r) => r.id);
}

function tmpFilesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.tmp'));
}

function imageByName(projectId: number, name: string) {
  const r = studio.db.prepare('SELECT id FROM images WHERE project_id = ? AND original_name = ?').get(projectId, name) as
    { id: number } | undefined;
  if (!r) throw new Error(`no image named ${name}`);
  return studio.call('images.get', { projectId, imageId: r.id });
}

describe('importing clipart-8', () => {
  let projectId: number;

  it('imports 528 images into the 8 folder labels with their exact counts', async () => {
    projectId = await newProject('clipart');
    const report = await importPaths(projectId, [CLIPART]);
    expect(report).toMatchObject({ imported: 528, duplicates: 0, skipped: [], cancelled: false, labels: CLIPART_COUNTS });
    const counts = await studio.call('labels.counts', { projectId });
    expect(counts.total).toBe(528);
    expect(counts.unlabeled).toBe(0);
    expect(Object.fromEntries(counts.labels.map((l) => [l.name, l.count]))).toEqual(CLIPART_COUNTS);
    expect(rowsWithoutFiles(projectId)).toEqual([]);
    expect(tmpFilesUnder(studio.paths.project(projectId))).toEqual([]);
    const one = await imageByName(projectId, fs.readdirSync(path.join(CLIPART, 'bird')).sort()[0]!);
    expect(one.format).toBe('jpg');
    // Named by its folder, not by a person.
    expect(one.labelSource).toBe('folder');
  });

  it('re-importing the same folder adds nothing and counts 528 duplicates', async () => {
    const report = await importPaths(projectId, [CLIPART]);
    expect(report).toMatchObject({ imported: 0, duplicates: 528, skipped: [], labels: {} });
    expect((await studio.call('labels.counts', { projectId })).total).toBe(528);
  });

  it('with folderLabels off, everything arrives unlabeled', async () => {
    const other = await newProject('unlabeled');
    const report = await importPaths(other, [CLIPART], false);
    expect(report).toMatchObject({ imported: 528, labels: {} });
    const counts = await studio.call('labels.counts', { projectId: other });
    expect(counts).toMatchObject({ total: 528, unlabeled: 528, labels: [] });
  });

  it('serves thumbnails from the cache without regenerating, and regenerates a missing one', async () => {
    const { rows } = await studio.call('images.page', { projectId, filter: { status: 'all' }, offset: 0, limit: 1 });
    const id = rows[0]!.id;
    const first = await studio.imageFile(id, 'thumb');
    expect(first?.mime).toBe('image/webp');
    const before = fs.statSync(first!.path).mtimeMs;
    await new Promise((r) => setTimeout(r, 20));
    const second = await studio.imageFile(id, 'thumb');
    expect(second!.path).toBe(first!.path);
    expect(fs.statSync(second!.path).mtimeMs).toBe(before);
    fs.rmSync(first!.path);
    const third = await studio.imageFile(id, 'thumb');
    expect(fs.existsSync(third!.path)).toBe(true);
    const meta = await sharp(third!.path).metadata();
    expect(meta.format).toBe('webp');
    expect(Math.max(meta.width!, meta.height!)).toBeLessThanOrEqual(256);
    expect(await studio.imageFile(999_999, 'thumb')).toBeNull();
  });
});

describe('bad input never stops an import', () => {
  it('skips each bad file with a reason while the good files around it import', async () => {
    const dir = path.join(tmp, 'mixed');
    const cls = path.join(dir, 'cats');
    fs.mkdirSync(cls, { recursive: true });
    fs.writeFileSync(path.join(cls, 'good1.jpg'), await noiseJpeg(64, 100));
    fs.writeFileSync(path.join(cls, 'good2.png'), await solid(30, 30, '#aa3300', 'png'));
    fs.writeFileSync(path.join(cls, 'actually-png.bmp'), await solid(31, 30, '#0033aa', 'png'));
    fs.writeFileSync(path.join(cls, 'empty.jpg'), '');
    fs.writeFileSync(path.join(cls, 'notes.jpg'), 'this is text, not a JPEG\n');
    const jpg = await noiseJpeg(200, 90);
    fs.writeFileSync(path.join(cls, 'truncated.jpg'), jpg.subarray(0, jpg.length >> 1));
    fs.writeFileSync(path.join(cls, 'bomb.png'), await pngWithHeaderSize(30_000, 30_000));
    const pal: [number, number, number][] = [
      [0, 0, 0],
      [255, 255, 255],
    ];
    fs.writeFileSync(
      path.join(cls, 'rle.bmp'),
      encodeBmp({ width: 4, height: 4, bpp: 8, pixel: () => [0, 0, 0], palette: pal, compression: 1 }),
    );
    fs.writeFileSync(path.join(cls, '.hidden.jpg'), await noiseJpeg(32, 50));
    fs.mkdirSync(path.join(dir, '.git'));
    fs.writeFileSync(path.join(dir, '.git', 'x.jpg'), await noiseJpeg(32, 60));
    const outside = path.join(tmp, 'outside.jpg');
    fs.writeFileSync(outside, await noiseJpeg(32, 70));
    fs.symlinkSync(outside, path.join(cls, 'escape.jpg'));
    fs.symlinkSync(path.join(cls, 'good1.jpg'), path.join(cls, 'inside-link.jpg')); // inside: followed, a duplicate
    fs.symlinkSync(dir, path.join(cls, 'loop')); // a cycle must not hang the scan
    const huge = path.join(cls, 'huge.jpg');
    fs.writeFileSync(huge, await noiseJpeg(16, 10));
    fs.truncateSync(huge, 257 * 1024 * 1024); // sparse: costs no disk

    const projectId = await newProject('mixed');
    const report = await importPaths(projectId, [dir]);
    const reasons = Object.fromEntries(report.skipped.map((s) => [s.path, s.reason]));
    expect(reasons).toEqual({
      'mixed/cats/empty.jpg': 'empty file',
      'mixed/cats/notes.jpg': 'not an image (looks like text)',
      'mixed/cats/truncated.jpg': expect.stringMatching(/^corrupt or truncated JPEG file \(.+\)$/),
      'mixed/cats/bomb.png': expect.stringMatching(/^image too large \(30000×30000 pixels/),
      'mixed/cats/loop': 'symbolic link to a folder it is inside (a loop; not followed)',
      'mixed/cats/rle.bmp': 'unsupported BMP compression (RLE8)',
      'mixed/cats/escape.jpg': 'symbolic link to outside the picked folder (not followed)',
      'mixed/cats/huge.jpg': 'file is larger than 256 MB',
    });
    expect(report).toMatchObject({ imported: 3, duplicates: 1, labels: { cats: 3 }, cancelled: false });
    expect((await imageByName(projectId, 'actually-png.bmp')).format).toBe('png');
    expect(rowsWithoutFiles(projectId)).toEqual([]);
  });
});

describe('folder labels', () => {
  it("label = the image's parent folder; files in the picked root and picked files get none", async () => {
    const root = path.join(tmp, 'nested');
    fs.mkdirSync(path.join(root, 'a', 'b'), { recursive: true });
    fs.writeFileSync(path.join(root, 'top.jpg'), await noiseJpeg(20, 10));
    fs.writeFileSync(path.join(root, 'a', 'y.jpg'), await noiseJpeg(20, 20));
    fs.writeFileSync(path.join(root, 'a', 'b', 'x.jpg'), await noiseJpeg(20, 30));
    const loose = path.join(tmp, 'loose.png');
    fs.writeFileSync(loose, await solid(9, 9, '#abcdef', 'png'));
    const projectId = await newProject('nested');
    const report = await importPaths(projectId, [root, loose]);
    expect(report).toMatchObject({ imported: 4, labels: { a: 1, b: 1 }, skipped: [] });
    const counts = await studio.call('labels.counts', { projectId });
    const nameOf = (id: number | null) => counts.labels.find((l) => l.id === id)?.name ?? null;
    expect(nameOf((await imageByName(projectId, 'top.jpg')).labelId)).toBeNull();
    expect(nameOf((await imageByName(projectId, 'y.jpg')).labelId)).toBe('a');
    expect(nameOf((await imageByName(projectId, 'x.jpg')).labelId)).toBe('b');
    expect(nameOf((await imageByName(projectId, 'loose.png')).labelId)).toBeNull();
  });
});

describe('links and special files', () => {
  it('a symbolic link to its own folder (or one above) is not walked again under a bogus label, and is reported', async () => {
    const root = path.join(tmp, 'selflink');
    fs.mkdirSync(path.join(root, 'cats'), { recursive: true });
    fs.writeFileSync(path.join(root, 'cats', 'pic.png'), await solid(11, 13, '#aa2200', 'png'));
    // Sorted before pic.png, so a walk through it would name and label the image first.
    fs.symlinkSync('.', path.join(root, 'cats', 'again'));
    fs.symlinkSync('..', path.join(root, 'cats', 'above'));
    const projectId = await newProject('selflink');
    const report = await importPaths(projectId, [root]);
    expect(report.imported).toBe(1);
    expect(Object.entries(report.labels)).toEqual([['cats', 1]]);
    expect(report.skipped.map((s) => s.path).sort()).toEqual(['selflink/cats/above', 'selflink/cats/again']);
    const counts = await studio.call('labels.counts', { projectId });
    expect(counts.labels.map((l) => l.name)).toEqual(['cats']);
  });

  it('a FIFO in the folder is listed in the report, not dropped silently', async (ctx) => {
    const root = path.join(tmp, 'fifo');
    fs.mkdirSync(root, { recursive: true });
    fs.writeFileSync(path.join(root, 'ok.png'), await solid(10, 17, '#00aa22', 'png'));
    const made = spawnSync('mkfifo', [path.join(root, 'pipe.jpg')]);
    if (made.status !== 0) return ctx.skip('mkfifo is not available here');
    const projectId = await newProject('fifo');
    const report = await importPaths(projectId, [root]);
    expect(report.imported).toBe(1);
    expect(report.skipped).toEqual([{ path: 'fifo/pipe.jpg', reason: expect.stringMatching(/not a regular file/) }]);
  });
});

describe('duplicates inside one import', () => {
  it('the file first in scan order names and labels the image', async () => {
    const dir = path.join(tmp, 'twice');
    fs.mkdirSync(path.join(dir, 'alpha'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'beta'), { recursive: true });
    const same = await noiseJpeg(300, 120);
    fs.writeFileSync(path.join(dir, 'alpha', 'first.jpg'), same);
    fs.writeFileSync(path.join(dir, 'beta', 'second.jpg'), same);
    const projectId = await newProject('twice');
    const report = await importPaths(projectId, [dir]);
    expect(report).toMatchObject({ imported: 1, duplicates: 1, labels: { alpha: 1 } });
    expect(await imageByName(projectId, 'first.jpg')).toMatchObject({ format: 'jpg' });
  });
});

describe('formats', () => {
  let projectId: number;
  const dir = () => path.join(tmp, 'formats');

  beforeAll(async () => {
    fs.mkdirSync(dir(), { recursive: true });
    const put = (name: string, bytes: Buffer) => fs.writeFileSync(path.join(dir(), name), bytes);
    const px = (x: number, y: number): [number, number, number] => [x * 30, y * 40, 200];
    put('bmp24.bmp', encodeBmp({ width: 6, height: 5, bpp: 24, pixel: px }));
    put('bmp32.bmp', encodeBmp({ width: 6, height: 5, bpp: 32, pixel: px, topDown: true }));
    put(
      'bmp8.bmp',
      encodeBmp({
        width: 6,
        height: 5,
        bpp: 8,
        pixel: (x) => (x < 3 ? [255, 0, 0] : [0, 0, 255]),
        palette: [
          [255, 0, 0],
          [0, 0, 255],
        ],
      }),
    );
    put('rotated.jpg', await halvesJpeg(40, 20, 6));
    const rgba = Buffer.alloc(10 * 10 * 4); // fully transparent
    put(
      'alpha.png',
      await sharp(rgba, { raw: { width: 10, height: 10, channels: 4 } })
        .png()
        .toBuffer(),
    );
    put(
      'cmyk.jpg',
      await sharp({ create: { width: 12, height: 12, channels: 3, background: '#ff0000' } })
        .toColourspace('cmyk')
        .jpeg()
        .toBuffer(),
    );
    put(
      'grey.png',
      await sharp({ create: { width: 12, height: 12, channels: 3, background: '#404040' } })
        .toColourspace('b-w')
        .png()
        .toBuffer(),
    );
    put('a.gif', await solid(13, 7, '#ff00ff', 'gif'));
    put('a.tiff', await solid(14, 7, '#ffff00', 'tiff'));
    put('a.webp', await solid(15, 7, '#00ffff', 'webp'));
    projectId = await newProject('formats');
    const report = await importPaths(projectId, [dir()]);
    expect(report.skipped).toEqual([]);
    expect(report.imported).toBe(10);
  });

  it('records the sniffed format and display dimensions', async () => {
    const expectations: [string, string, number, number][] = [
      ['bmp24.bmp', 'bmp', 6, 5],
      ['bmp32.bmp', 'bmp', 6, 5],
      ['bmp8.bmp', 'bmp', 6, 5],
      ['rotated.jpg', 'jpg', 20, 40],
      ['a.gif', 'gif', 13, 7],
      ['a.tiff', 'tiff', 14, 7],
      ['a.webp', 'webp', 15, 7],
    ];
    for (const [name, format, width, height] of expectations) {
      expect(await imageByName(projectId, name), name).toMatchObject({ format, width, height });
    }
  });

  it('keeps the original bytes in the store under their sha256', async () => {
    const img = await imageByName(projectId, 'bmp24.bmp');
    const stored = fs.readFileSync(studio.paths.stored(projectId, img.sha256, img.format));
    expect(stored.equals(fs.readFileSync(path.join(dir(), 'bmp24.bmp')))).toBe(true);
  });

  async function thumbPixels(name: string) {
    const img = await imageByName(projectId, name);
    const file = (await studio.imageFile(img.id, 'thumb'))!.path;
    return sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  }

  it('thumbnails show BMP pixels, flattened alpha, sRGB CMYK/grey, and the EXIF rotation', async () => {
    const b8 = await thumbPixels('bmp8.bmp');
    // Thumbnails are lossy WebP (chroma at half resolution): check whole halves, not single columns.
    expect(meanRgb(b8.data, 6, 3, 0, 0, 2, 5)[0]).toBeGreaterThan(200); // left red
    expect(meanRgb(b8.data, 6, 3, 4, 0, 2, 5)[2]).toBeGreaterThan(200); // right blue
    const alpha = await thumbPixels('alpha.png');
    expect(meanRgb(alpha.data, 10, 3, 0, 0, 10, 10)).toEqual([255, 255, 255]);
    const cmyk = await thumbPixels('cmyk.jpg');
    expect(cmyk.info.channels).toBe(3);
    const [r, g, b] = meanRgb(cmyk.data, 12, 3, 0, 0, 12, 12);
    expect(r).toBeGreaterThan(200);
    expect(g + b).toBeLessThan(80);
    const grey = await thumbPixels('grey.png');
    const gm = meanRgb(grey.data, 12, 3, 0, 0, 12, 12);
    expect(Math.abs(gm[0] - 64) + Math.abs(gm[1] - 64) + Math.abs(gm[2] - 64)).toBeLessThan(8);
    const rot = await thumbPixels('rotated.jpg');
    expect([rot.info.width, rot.info.height]).toEqual([20, 40]);
    expect(meanRgb(rot.data, 20, 3, 2, 2, 16, 14)[0]).toBeGreaterThan(200); // top red
    expect(meanRgb(rot.data, 20, 3, 2, 24, 16, 14)[2]).toBeGreaterThan(200); // bottom blue
  });

  it("serves the 'full' variant as a rotated WebP preview, cached", async () => {
    const img = await imageByName(projectId, 'rotated.jpg');
    const full = await studio.imageFile(img.id, 'full');
    expect(full?.mime).toBe('image/webp');
    const meta = await sharp(full!.path).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 20, 40]);
    const mtime = fs.statSync(full!.path).mtimeMs;
    expect((await studio.imageFile(img.id, 'full'))!.path).toBe(full!.path);
    expect(fs.statSync(full!.path).mtimeMs).toBe(mtime);
    const tiff = await imageByName(projectId, 'a.tiff');
    expect((await sharp((await studio.imageFile(tiff.id, 'full'))!.path).metadata()).format).toBe('webp');
  });
});

describe('phone photos: HEIC and AVIF', () => {
  const HEIF = path.join(import.meta.dirname, '../fixtures/heif');

  it('imports them as lossless PNG with their pixels (red left half, blue right), skips a damaged one with its reason, and knows them again', async () => {
    const dir = path.join(tmp, 'heif');
    fs.mkdirSync(path.join(dir, 'phone'), { recursive: true });
    fs.copyFileSync(path.join(HEIF, 'photo.heic'), path.join(dir, 'phone', 'IMG_0001.HEIC'));
    fs.copyFileSync(path.join(HEIF, 'photo.avif'), path.join(dir, 'phone', 'IMG_0002.avif'));
    fs.writeFileSync(path.join(dir, 'phone', 'IMG_0003.heic'), fs.readFileSync(path.join(HEIF, 'photo.heic')).subarray(0, 300));
    const projectId = await newProject('heif');
    const report = await importPaths(projectId, [dir]);
    expect(report.imported).toBe(2);
    expect(report.skipped).toEqual([{ path: expect.stringContaining('IMG_0003.heic'), reason: expect.stringMatching(/corrupt .*HEIC/) }]);
    for (const name of ['IMG_0001.HEIC', 'IMG_0002.avif']) {
      const img = await imageByName(projectId, name);
      expect(img, name).toMatchObject({ format: 'png', width: 96, height: 64 });
      expect(img.labelId, name).not.toBeNull();
      const { data, info } = await sharp((await studio.imageFile(img.id, 'thumb'))!.path)
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      const at = (x: number) => [...data.subarray((20 * info.width + x) * 3, (20 * info.width + x) * 3 + 3)];
      expect(at(5)[0], `${name} left is red`).toBeGreaterThan(180);
      expect(at(info.width - 5)[2], `${name} right is blue`).toBeGreaterThan(180);
    }
    const again = await importPaths(projectId, [path.join(dir, 'phone', 'IMG_0001.HEIC')]);
    expect(again).toMatchObject({ imported: 0, duplicates: 1 });
  });
});

describe('CSV import', () => {
  it('imports good rows with their labels and lists bad rows by line', async () => {
    const dir = path.join(tmp, 'csvset');
    fs.mkdirSync(path.join(dir, 'imgs'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'imgs', 'a.jpg'), await noiseJpeg(40, 30));
    fs.writeFileSync(path.join(dir, 'imgs', 'b.png'), await solid(20, 20, '#102030', 'png'));
    fs.writeFileSync(path.join(dir, 'c, d.webp'), await solid(20, 20, '#302010', 'webp'));
    fs.writeFileSync(path.join(dir, 'bad.jpg'), 'nope');
    fs.writeFileSync(path.join(tmp, 'escaped.jpg'), await noiseJpeg(40, 31));
    const csv = path.join(dir, 'labels.csv');
    fs.writeFileSync(
      csv,
      [
        'path,label',
        'imgs/a.jpg,apple',
        'imgs/b.png,',
        '"c, d.webp","pear, green"',
        ',apple',
        'imgs/a.jpg,apple,x',
        'gone.jpg,apple',
        '../escaped.jpg,apple',
        'bad.jpg,apple',
      ].join('\n'),
    );
    const projectId = await newProject('csv');
    const report = await importPaths(projectId, [], true, csv);
    expect(report).toMatchObject({ imported: 3, duplicates: 0, labels: { apple: 1, 'pear, green': 1 } });
    expect(report.skipped).toEqual([
      { path: 'labels.csv', reason: 'line 5: missing path' },
      { path: 'imgs/a.jpg', reason: 'line 6: too many columns (3; expected path,label)' },
      { path: 'gone.jpg', reason: 'line 7: file not found' },
      { path: '../escaped.jpg', reason: "line 8: path is outside the CSV's folder" },
      { path: 'bad.jpg', reason: 'not an image (looks like text)' },
    ]);
    const counts = await studio.call('labels.counts', { projectId });
    expect(counts.unlabeled).toBe(1);
    expect(counts.labels.map((l) => l.name).sort()).toEqual(['apple', 'pear, green']);
    expect((await imageByName(projectId, 'a.jpg')).labelSource).toBe('csv');
  });
});

describe('labels named like Object.prototype members', () => {
  const NAMES = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'];

  it('folder labels: every image is counted under its label, and the report survives the contract schema', async () => {
    const dir = path.join(tmp, 'proto-folders');
    for (const [i, name] of NAMES.entries()) {
      fs.mkdirSync(path.join(dir, name), { recursive: true });
      for (let j = 0; j < i + 1; j++) fs.writeFileSync(path.join(dir, name, `${j}.png`), await solid(12 + j, 10 + i, '#123456', 'png'));
    }
    const projectId = await newProject('proto folders');
    const report = await importPaths(projectId, [dir]);
    // Not an object literal: `{ __proto__: 3 }` would not make a key.
    const expected = Object.fromEntries(NAMES.map((name, i) => [name, i + 1]));
    expect(report.imported).toBe(15);
    expect(Object.entries(report.labels).sort()).toEqual(Object.entries(expected).sort());
    // The contract's schemas (the import.finished event, over JSON as the web host sends it) keep every label.
    const wire = events['import.finished'].parse(JSON.parse(JSON.stringify({ projectId, report })));
    expect(Object.entries(wire.report.labels).sort()).toEqual(Object.entries(expected).sort());
    const counts = await studio.call('labels.counts', { projectId });
    expect(Object.fromEntries(counts.labels.map((l) => [l.name, l.count]))).toEqual(expected);
  });

  it('CSV labels: the same, through the import.start call as the web host runs it', async () => {
    const dir = path.join(tmp, 'proto-csv');
    fs.mkdirSync(dir, { recursive: true });
    const lines = ['path,label'];
    for (const [i, name] of NAMES.entries()) {
      fs.writeFileSync(path.join(dir, `${i}.png`), await solid(30 + i, 10, '#654321', 'png'));
      lines.push(`${i}.png,${name}`);
    }
    fs.writeFileSync(path.join(dir, 'labels.csv'), lines.join('\n'));
    const projectId = await newProject('proto csv');
    const token = studio.sources.register({ paths: [], displayName: 'labels.csv', csv: path.join(dir, 'labels.csv') });
    const finished = new Promise<unknown>((resolve) => {
      const off = studio.bus.subscribe((name, payload) => {
        if (name !== 'import.finished') return;
        off();
        resolve(payload);
      });
    });
    await studio.call('import.start', { projectId, source: token, folderLabels: true });
    const { report } = events['import.finished'].parse(JSON.parse(JSON.stringify(await finished)));
    expect(report.imported).toBe(5);
    expect(Object.keys(report.labels).sort()).toEqual([...NAMES].sort());
    expect(Object.values(report.labels)).toEqual([1, 1, 1, 1, 1]);
  });
});

describe('deleting a project during an import into it', () => {
  /** Resolves once the project's import has stored `n` files. */
  const importedSome = (projectId: number, n = 20) =>
    new Promise<void>((resolve) => {
      const off = studio.bus.subscribe((name, payload) => {
        const p = payload as { projectId?: number; phase?: string; done?: number };
        if (name !== 'job.progress' || p.projectId !== projectId || p.phase !== 'importing' || (p.done ?? 0) < n) return;
        off();
        resolve();
      });
    });

  it('the delete answers ok; the import stops with a clear message and leaves no files or rows behind', async () => {
    const projectId = await newProject('doomed');
    const token = studio.sources.register({ paths: [CLIPART], displayName: 'clipart-8' });
    const finished = new Promise<{ report: ImportReport }>((resolve) => {
      const off = studio.bus.subscribe((name, payload) => {
        if (name !== 'import.finished' || (payload as { projectId: number }).projectId !== projectId) return;
        off();
        resolve(payload as { report: ImportReport });
      });
    });
    const some = importedSome(projectId);
    await studio.call('import.start', { projectId, source: token, folderLabels: true });
    await some;
    await expect(studio.call('projects.delete', { projectId })).resolves.toEqual({ ok: true });
    const { report } = await finished;
    expect(report.cancelled).toBe(true);
    expect(report.skipped.map((s) => s.reason).join('\n')).toMatch(/project was deleted during the import/);
    expect(report.skipped.map((s) => s.reason).join('\n')).not.toMatch(/FOREIGN KEY/);
    expect(fs.existsSync(studio.paths.project(projectId))).toBe(false);
    expect(studio.db.prepare('SELECT COUNT(*) FROM images WHERE project_id = ?').pluck().get(projectId)).toBe(0);
  });

  it('deleted by another process: the import notices, stops with the same message and removes what it stored', async () => {
    const projectId = await newProject('doomed elsewhere');
    const some = importedSome(projectId);
    const importing = importPaths(projectId, [CLIPART]);
    await some;
    const other = new Database(studio.paths.database);
    other.pragma('foreign_keys = ON');
    other.pragma('busy_timeout = 5000');
    other.prepare('DELETE FROM projects WHERE id = ?').run(projectId);
    other.close();
    await expect(importing).rejects.toThrow(/project was deleted during the import/);
    expect(fs.existsSync(studio.paths.project(projectId))).toBe(false);
  });

  it("removes the deleted project's export folders in the data folder, and leaves exports the user put elsewhere", async () => {
    const projectId = await newProject('exported');
    const runId = createRun(studio.db, projectId, 'mobilenet_v2', defaultConfig('head', {}));
    const inside = path.join(studio.paths.root, 'exports', `run-${runId}-export-1`);
    const outside = path.join(tmp, 'users-export');
    for (const [dir, zip] of [
      [inside, `${inside}.zip`],
      [outside, `${outside}.zip`],
    ] as const) {
      const exportId = createExport(studio.db, runId, 'onnx', ['onnx'], false);
      recordExportPath(studio.db, exportId, 'dir', dir);
      recordExportPath(studio.db, exportId, 'zip', zip);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'model.onnx'), 'x');
      fs.writeFileSync(zip, 'PK');
    }
    await studio.call('projects.delete', { projectId });
    expect(fs.existsSync(inside)).toBe(false);
    expect(fs.existsSync(`${inside}.zip`)).toBe(false);
    expect(fs.existsSync(path.join(outside, 'model.onnx'))).toBe(true);
    expect(fs.existsSync(`${outside}.zip`)).toBe(true);
    expect(studio.db.prepare('SELECT COUNT(*) FROM exports WHERE run_id = ?').pluck().get(runId)).toBe(0);
  });
});

describe('cancel', () => {
  it('stops promptly mid-import; every row that exists has its files, and nothing half-written remains', async () => {
    const projectId = await newProject('cancel');
    const token = studio.sources.register({ paths: [CLIPART], displayName: 'clipart-8' });
    const finished = new Promise<ImportReport>((resolve) => {
      const off = studio.bus.subscribe((name, payload) => {
        if (name === 'import.finished') {
          off();
          resolve((payload as { report: ImportReport }).report);
        }
      });
    });
    let cancelled = false;
    let cancelledAt = 0;
    const off = studio.bus.subscribe((name, payload) => {
      const p = payload as { phase?: string; done?: number; jobId?: string };
      if (name === 'job.progress' && p.phase === 'importing' && (p.done ?? 0) >= 40 && !cancelled) {
        cancelled = true;
        cancelledAt = Date.now();
        void studio.call('import.cancel', { jobId: p.jobId! });
      }
    });
    const { jobId } = await studio.call('import.start', { projectId, source: token, folderLabels: true });
    const report = await finished;
    const stopMs = Date.now() - cancelledAt;
    off();
    expect(stopMs).toBeLessThan(2000); // only the files in flight finish
    expect(report.jobId).toBe(jobId);
    expect(report.cancelled).toBe(true);
    expect(report.imported).toBeGreaterThanOrEqual(40);
    expect(report.imported).toBeLessThan(528);
    const total = (await studio.call('labels.counts', { projectId })).total;
    expect(total).toBe(report.imported);
    expect(rowsWithoutFiles(projectId)).toEqual([]);
    expect(tmpFilesUnder(studio.paths.project(projectId))).toEqual([]);
    expect(await studio.call('jobs.active', {})).toEqual([]);
    // The rest arrives on a second import; nothing already there is duplicated.
    const rest = await importPaths(projectId, [CLIPART]);
    expect(rest.imported + rest.duplicates).toBe(528);
    expect(rest.imported).toBe(528 - report.imported);
  });
});

describe('webcam capture', () => {
  it('stores a frame like an import and refuses a corrupt one', async () => {
    const projectId = await newProject('capture');
    const label = await studio.call('labels.create', { projectId, name: 'me' });
    const frame = await halvesJpeg(64, 48);
    const row = await studio.call('images.capture', {
      projectId,
      labelId: label.id,
      mime: 'image/jpeg',
      dataBase64: frame.toString('base64'),
    });
    expect(row).toMatchObject({ labelId: label.id, width: 64, height: 48, status: 'active' });
    expect(rowsWithoutFiles(projectId)).toEqual([]);
    const bad = studio.call('images.capture', {
      projectId,
      labelId: null,
      mime: 'image/jpeg',
      dataBase64: frame.subarray(0, 200).toString('base64'),
    });
    await expect(bad).rejects.toBeInstanceOf(StudioError);
    await expect(bad).rejects.toMatchObject({ code: 'invalid' });
    expect((await studio.call('labels.counts', { projectId })).total).toBe(1);
  });

  it('one capture session is one undo: undo takes its pictures out, redo puts them back under the same ids', async () => {
    const projectId = await newProject('capture-undo');
    const label = await studio.call('labels.create', { projectId, name: 'me' });
    const shoot = async (size: number, batch: string) =>
      studio.call('images.capture', {
        projectId,
        labelId: label.id,
        mime: 'image/jpeg',
        dataBase64: (await halvesJpeg(size, 48)).toString('base64'),
        batch,
      });
    const a = await shoot(64, 'session-1');
    const b = await shoot(66, 'session-1');
    // The same frame again is the picture already there: nothing new to undo.
    await shoot(66, 'session-1');
    expect(await studio.call('history.state', { projectId })).toMatchObject({ canUndo: true, undoLabel: 'Capture 2 pictures' });
    const undone = await studio.call('history.undo', { projectId });
    expect(undone).toMatchObject({ canUndo: false, canRedo: true, redoLabel: 'Capture 2 pictures' });
    expect(await studio.call('labels.counts', { projectId })).toMatchObject({ total: 0, labels: [{ name: 'me', count: 0 }] });
    await studio.call('history.redo', { projectId });
    expect(await studio.call('labels.counts', { projectId })).toMatchObject({ total: 2, labels: [{ name: 'me', count: 2 }] });
    for (const r of [a, b]) expect(await studio.call('images.get', { projectId, imageId: r.id })).toMatchObject({ labelId: label.id });
    expect(rowsWithoutFiles(projectId)).toEqual([]);
    // A later session is its own action.
    await shoot(68, 'session-2');
    expect(await studio.call('history.state', { projectId })).toMatchObject({ undoLabel: 'Capture 1 picture' });
  });
});
