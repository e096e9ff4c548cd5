// Files an import must not trip over: bad files are skipped each with its reason while the rest
// import, links and special files are not followed blindly, and duplicates collapse.
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeBmp, noiseJpeg, pngWithHeaderSize, solid } from '../../fixtures/images.js';
import { imageByName, importPaths, newProject, rowsWithoutFiles, studio, tmp } from './fixture.js';

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
