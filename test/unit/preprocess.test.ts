import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import {
  decodeForModel,
  inspectImage,
  makePreview,
  makeThumbnail,
  normalisedImage,
  ImageRejected,
  PREPROCESSING,
} from '../../electron/core/import/preprocess.js';
import { halvesJpeg, meanRgb, noiseJpeg, pngWithHeaderSize, solid } from '../fixtures/images.js';

const close = (a: number[], b: number[], tol: number) => a.every((v, i) => Math.abs(v - b[i]!) <= tol);

async function rawOf(img: sharp.Sharp) {
  return img.raw().toBuffer({ resolveWithObject: true });
}

describe('preprocessing', () => {
  it('documents one method for model input', () => {
    expect(PREPROCESSING).toEqual({
      fit: 'letterbox',
      background: '#ffffff',
      kernel: 'lanczos3',
      colourSpace: 'srgb',
      orientation: 'exif',
    });
  });

  it('flattens PNG alpha on white', async () => {
    // Left half transparent, right half opaque green.
    const w = 20;
    const h = 10;
    const rgba = Buffer.alloc(w * h * 4);
    for (let i = 0; i < w * h; i++) if (i % w >= w / 2) rgba.set([0, 200, 0, 255], i * 4);
    const png = await sharp(rgba, { raw: { width: w, height: h, channels: 4 } })
      .png()
      .toBuffer();
    const { data, info } = await rawOf(normalisedImage(png));
    expect(info.channels).toBe(3);
    expect(meanRgb(data, w, 3, 0, 0, 10, 10)).toEqual([255, 255, 255]);
    expect(meanRgb(data, w, 3, 10, 0, 10, 10)).toEqual([0, 200, 0]);
    const model = await decodeForModel(png, 10);
    expect(meanRgb(model.data, 10, 3, 0, 3, 3, 3)).toEqual([255, 255, 255]);
  });

  it('converts CMYK JPEG to sRGB', async () => {
    const cmyk = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#ff0000' } })
      .toColourspace('cmyk')
      .jpeg()
      .toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const { data, info } = await rawOf(normalisedImage(cmyk));
    expect(info.channels).toBe(3);
    const [r, g, b] = meanRgb(data, 16, 3, 0, 0, 16, 16);
    expect(r).toBeGreaterThan(200);
    expect(g).toBeLessThan(60);
    expect(b).toBeLessThan(60);
  });

  it('converts grey (and 16-bit grey) PNG to 3-channel 8-bit sRGB', async () => {
    const grey = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } })
      .toColourspace('b-w')
      .png()
      .toBuffer();
    expect((await sharp(grey).metadata()).channels).toBe(1);
    const { data, info } = await rawOf(normalisedImage(grey));
    expect(info.channels).toBe(3);
    expect(data.length).toBe(8 * 8 * 3); // 8 bits per channel
    expect(meanRgb(data, 8, 3, 0, 0, 8, 8)).toEqual([128, 128, 128]);
    const grey16 = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } })
      .toColourspace('grey16')
      .png()
      .toBuffer();
    const model = await decodeForModel(grey16, 8);
    expect(model.data.length).toBe(8 * 8 * 3);
    expect(close(meanRgb(model.data, 8, 3, 0, 0, 8, 8), [128, 128, 128], 1)).toBe(true);
  });

  it('applies EXIF orientation 6: dimensions swap and the left half ends up on top', async () => {
    const jpg = await halvesJpeg(40, 20, 6);
    expect(await inspectImage(jpg)).toEqual({ format: 'jpg', width: 20, height: 40 });
    const thumb = await makeThumbnail(jpg);
    expect([thumb.info.width, thumb.info.height]).toEqual([20, 40]);
    const { data } = await rawOf(sharp(thumb.data).removeAlpha());
    expect(close(meanRgb(data, 20, 3, 2, 2, 16, 14), [255, 0, 0], 40)).toBe(true); // top: red
    expect(close(meanRgb(data, 20, 3, 2, 24, 16, 14), [0, 0, 255], 40)).toBe(true); // bottom: blue
  });

  it('letterboxes model input on white, centred', async () => {
    const red = await solid(40, 20, '#ff0000', 'png');
    const { data } = await decodeForModel(red, 20);
    expect(data.length).toBe(20 * 20 * 3);
    expect(meanRgb(data, 20, 3, 0, 0, 20, 4)).toEqual([255, 255, 255]); // top band
    expect(meanRgb(data, 20, 3, 0, 16, 20, 4)).toEqual([255, 255, 255]); // bottom band
    expect(meanRgb(data, 20, 3, 0, 6, 20, 8)).toEqual([255, 0, 0]); // the image, full width
  });

  it('makes thumbnails within 256 px and previews within 1600 px, never enlarged', async () => {
    const big = await solid(2000, 1000, '#123456', 'jpeg');
    const t = await makeThumbnail(big);
    expect([t.info.width, t.info.height, t.info.format]).toEqual([256, 128, 'webp']);
    const p = await makePreview(big);
    expect([p.info.width, p.info.height, p.info.format]).toEqual([1600, 800, 'webp']);
    const small = await makePreview(await solid(30, 20, '#123456', 'png'));
    expect([small.info.width, small.info.height]).toEqual([30, 20]);
  });

  it('accepts GIF (first frame), TIFF and WebP', async () => {
    for (const fmt of ['gif', 'tiff', 'webp'] as const) {
      const bytes = await solid(12, 9, '#00ff00', fmt);
      const info = await inspectImage(bytes);
      expect(info, fmt).toEqual({ format: fmt, width: 12, height: 9 });
      const { data } = await decodeForModel(bytes, 12);
      expect(close(meanRgb(data, 12, 3, 0, 3, 12, 6), [0, 255, 0], 8), fmt).toBe(true);
    }
    // Animated: two frames stacked; only the first (green) counts.
    const frames = Buffer.concat([
      Buffer.alloc(10 * 10 * 4, Buffer.from([0, 255, 0, 255])),
      Buffer.alloc(10 * 10 * 4, Buffer.from([255, 0, 0, 255])),
    ]);
    const multi = await sharp(frames, { raw: { width: 10, height: 20, channels: 4, pageHeight: 10 } } as sharp.SharpOptions)
      .gif()
      .toBuffer();
    expect((await sharp(multi).metadata()).pages).toBe(2);
    expect(await inspectImage(multi)).toEqual({ format: 'gif', width: 10, height: 10 });
    const { data } = await decodeForModel(multi, 10);
    expect(close(meanRgb(data, 10, 3, 0, 0, 10, 10), [0, 255, 0], 8)).toBe(true);
  });

  it('rejects empty files, text, truncated images and bombs with reasons', async () => {
    await expect(inspectImage(Buffer.alloc(0))).rejects.toThrow('empty file');
    await expect(inspectImage(Buffer.from('hello, I am not a JPEG\n'))).rejects.toThrow('not an image (looks like text)');
    const jpg = await noiseJpeg(200);
    await expect(makeThumbnail(jpg.subarray(0, jpg.length >> 1))).rejects.toThrow(ImageRejected);
    await expect(makeThumbnail(jpg.subarray(0, jpg.length >> 1))).rejects.toThrow(/corrupt or truncated JPEG/);
    const bomb = await pngWithHeaderSize(30_000, 30_000);
    await expect(inspectImage(bomb)).rejects.toThrow(/image too large \(30000×30000 pixels/);
    // Even without the header check, the decoder itself refuses that many pixels.
    await expect(makeThumbnail(bomb)).rejects.toThrow(ImageRejected);
  });
});
