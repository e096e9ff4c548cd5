// Every format arrives with the right pixels and dimensions: BMP, CMYK, grey, alpha, EXIF
// rotation, GIF, TIFF, WebP, and phone photos (HEIC, AVIF) as lossless PNG.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeBmp, halvesJpeg, meanRgb, solid } from '../../fixtures/images.js';
import { imageByName, importPaths, newProject, studio, tmp } from './fixture.js';

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
  const HEIF = path.join(import.meta.dirname, '../../fixtures/heif');

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
