// Importing clip-art-8 (528 pictures in 8 folders): every picture under its folder's label, a
// second import of the same folder adds nothing, and thumbnails are cached.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { CLIPART } from '../../fixtures/datasets.js';
import { CLIPART_COUNTS, imageByName, importPaths, newProject, rowsWithoutFiles, studio, tmpFilesUnder } from './fixture.js';

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
