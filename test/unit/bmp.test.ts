import { describe, expect, it } from 'vitest';
import { decodeBmp, readBmpHeader, BmpError } from '../../electron/core/import/bmp.js';
import { decodeForModel, inspectImage, ImageRejected } from '../../electron/core/import/preprocess.js';
import { sniffFormat } from '../../electron/core/import/sniff.js';
import { encodeBmp, rgbOf, type Rgb } from '../fixtures/images.js';

// Odd widths exercise row padding; distinct colours per pixel catch row-order and channel-order mistakes.
const W = 7;
const H = 5;
const gradient = (x: number, y: number): Rgb => [(x * 36) % 256, (y * 60) % 256, (x * 11 + y * 23) % 256];
const PALETTE: Rgb[] = [
  [0, 0, 0],
  [255, 0, 0],
  [0, 255, 0],
  [0, 0, 255],
  [255, 255, 255],
  [12, 34, 56],
];
const paletted =
  (n: number) =>
  (x: number, y: number): Rgb =>
    PALETTE[(x + 2 * y) % n]!;

describe('BMP decoder', () => {
  it('decodes 24-bit bottom-up to the RGB that was written', () => {
    const out = decodeBmp(encodeBmp({ width: W, height: H, bpp: 24, pixel: gradient }));
    expect(out).toMatchObject({ width: W, height: H, channels: 3 });
    expect(out.data).toEqual(rgbOf(W, H, gradient));
  });

  it('decodes 24-bit top-down', () => {
    const out = decodeBmp(encodeBmp({ width: W, height: H, bpp: 24, pixel: gradient, topDown: true }));
    expect(out.data).toEqual(rgbOf(W, H, gradient));
  });

  it('decodes 8-, 4- and 1-bit palettes', () => {
    for (const [bpp, n] of [
      [8, 6],
      [4, 6],
      [1, 2],
    ] as const) {
      const px = paletted(n);
      const out = decodeBmp(encodeBmp({ width: W, height: H, bpp, pixel: px, palette: PALETTE.slice(0, n) }));
      expect(out.data, `${bpp}-bit`).toEqual(rgbOf(W, H, px));
    }
  });

  it('decodes an OS/2 core-header palette image', () => {
    const px = paletted(6);
    const out = decodeBmp(encodeBmp({ width: W, height: H, bpp: 8, pixel: px, palette: PALETTE, dibSize: 12 }));
    expect(out.data).toEqual(rgbOf(W, H, px));
  });

  it('decodes 32-bit BI_RGB as opaque BGRX', () => {
    const out = decodeBmp(encodeBmp({ width: W, height: H, bpp: 32, pixel: gradient }));
    expect(out.channels).toBe(3);
    expect(out.data).toEqual(rgbOf(W, H, gradient));
  });

  it('decodes 32-bit BI_BITFIELDS with alpha (V4 header)', () => {
    const alpha = (x: number) => (x === 0 ? 0 : 255);
    const out = decodeBmp(
      encodeBmp({
        width: W,
        height: H,
        bpp: 32,
        pixel: gradient,
        masks: { r: 0x00ff0000, g: 0x0000ff00, b: 0x000000ff, a: 0xff000000 },
        alpha,
      }),
    );
    expect(out.channels).toBe(4);
    const rgb = rgbOf(W, H, gradient);
    for (let i = 0; i < W * H; i++) {
      expect([...out.data.subarray(i * 4, i * 4 + 3)]).toEqual([...rgb.subarray(i * 3, i * 3 + 3)]);
      expect(out.data[i * 4 + 3]).toBe(alpha(i % W));
    }
  });

  it('treats an all-zero alpha channel as opaque', () => {
    const out = decodeBmp(
      encodeBmp({
        width: W,
        height: H,
        bpp: 32,
        pixel: gradient,
        masks: { r: 0x00ff0000, g: 0x0000ff00, b: 0x000000ff, a: 0xff000000 },
        alpha: () => 0,
      }),
    );
    expect(out.channels).toBe(3);
    expect(out.data).toEqual(rgbOf(W, H, gradient));
  });

  it('decodes 16-bit 5-5-5 and 5-6-5 bit fields, scaling to full range', () => {
    const colours = (x: number, y: number): Rgb => ((x + y) % 2 ? [255, 255, 255] : [255, 0, 0]);
    const p555 = decodeBmp(encodeBmp({ width: W, height: H, bpp: 16, pixel: colours }));
    expect(p555.data).toEqual(rgbOf(W, H, colours));
    const p565 = decodeBmp(encodeBmp({ width: W, height: H, bpp: 16, pixel: colours, masks: { r: 0xf800, g: 0x07e0, b: 0x001f } }));
    expect(p565.data).toEqual(rgbOf(W, H, colours));
  });

  it('refuses RLE with a clear reason', () => {
    const rle = encodeBmp({ width: W, height: H, bpp: 8, pixel: paletted(6), palette: PALETTE, compression: 1 });
    expect(() => decodeBmp(rle)).toThrow(new BmpError('unsupported BMP compression (RLE8)'));
  });

  it('refuses truncated pixel data instead of reading past the end', () => {
    const bmp = encodeBmp({ width: W, height: H, bpp: 24, pixel: gradient });
    expect(() => decodeBmp(bmp.subarray(0, bmp.length - 40))).toThrow(/truncated BMP/);
  });

  it('reads dimensions from the header without decoding', () => {
    const bmp = encodeBmp({ width: W, height: H, bpp: 24, pixel: gradient, topDown: true });
    expect(readBmpHeader(bmp)).toMatchObject({ width: W, height: H, topDown: true, bitsPerPixel: 24 });
    expect(sniffFormat(bmp)).toBe('bmp');
  });

  it('refuses a BMP whose header claims a huge image, before allocating', async () => {
    const bmp = encodeBmp({ width: 4, height: 4, bpp: 24, pixel: gradient });
    bmp.writeInt32LE(30_000, 18);
    bmp.writeInt32LE(30_000, 22);
    await expect(inspectImage(bmp)).rejects.toThrow(ImageRejected);
    await expect(inspectImage(bmp)).rejects.toThrow(/too large/);
  });

  it('feeds sharp: decodeForModel of a square BMP at its own size returns the same pixels', async () => {
    const S = 6;
    const px = (x: number, y: number): Rgb => gradient(x, y);
    for (const spec of [{ bpp: 24 as const }, { bpp: 32 as const }, { bpp: 8 as const, pixel: paletted(6), palette: PALETTE }]) {
      const pixel = spec.pixel ?? px;
      const { data } = await decodeForModel(encodeBmp({ width: S, height: S, pixel, ...spec }), S);
      expect(Buffer.from(data), `${spec.bpp}-bit`).toEqual(rgbOf(S, S, pixel));
    }
  });
});
