// Where an imported picture's label comes from: its folder, or a CSV of path,label rows; and
// label names that are also names of Object.prototype members.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { events } from '../../../electron/shared/contract.js';
import { noiseJpeg, solid } from '../../fixtures/images.js';
import { imageByName, importPaths, newProject, studio, tmp } from './fixture.js';

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
