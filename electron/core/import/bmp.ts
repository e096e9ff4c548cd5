// A small BMP decoder: libvips (and so sharp) has no BMP loader. Covers what cameras,
// Paint and screenshot tools write — 1/4/8-bit palettes, 16/24/32-bit, BI_RGB and
// BI_BITFIELDS, bottom-up and top-down rows. RLE and embedded JPEG/PNG are refused with a
// reason rather than guessed at.

export class BmpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BmpError';
  }
}

export interface BmpHeader {
  width: number;
  height: number;
  bitsPerPixel: number;
  compression: number;
  topDown: boolean;
  dibSize: number;
  pixelOffset: number;
}

export interface DecodedBmp {
  width: number;
  height: number;
  /** 3 (RGB) or 4 (RGBA, only when the file carries a real alpha channel). */
  channels: 3 | 4;
  data: Buffer;
}

const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;
const COMPRESSION_NAMES: Record<number, string> = {
  1: 'RLE8',
  2: 'RLE4',
  4: 'embedded JPEG',
  5: 'embedded PNG',
  11: 'CMYK',
  12: 'CMYK RLE8',
  13: 'CMYK RLE4',
};

function need(bytes: Uint8Array, end: number, what: string): void {
  if (bytes.length < end) throw new BmpError(`truncated BMP (${what} cut short)`);
}

/** Reads the headers only: enough to refuse oversized images before allocating pixels. */
export function readBmpHeader(bytes: Uint8Array): BmpHeader {
  need(bytes, 26, 'header');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint16(0, true) !== 0x4d42) throw new BmpError('not a BMP file');
  const pixelOffset = v.getUint32(10, true);
  const dibSize = v.getUint32(14, true);
  need(bytes, 14 + Math.min(dibSize, 40), 'header');
  let width: number;
  let rawHeight: number;
  let bitsPerPixel: number;
  let compression = BI_RGB;
  if (dibSize === 12) {
    // OS/2 BITMAPCOREHEADER: 16-bit unsigned dimensions, always bottom-up.
    width = v.getUint16(18, true);
    rawHeight = v.getUint16(20, true);
    bitsPerPixel = v.getUint16(24, true);
  } else if (dibSize >= 40) {
    width = v.getInt32(18, true);
    rawHeight = v.getInt32(22, true);
    bitsPerPixel = v.getUint16(28, true);
    compression = v.getUint32(30, true);
  } else {
    throw new BmpError(`unsupported BMP header (size ${dibSize})`);
  }
  if (width <= 0 || rawHeight === 0 || rawHeight === -2147483648) throw new BmpError(`invalid BMP dimensions ${width}×${rawHeight}`);
  return { width, height: Math.abs(rawHeight), bitsPerPixel, compression, topDown: rawHeight < 0, dibSize, pixelOffset };
}

interface Mask {
  mask: number;
  shift: number;
  max: number;
}

function maskOf(mask: number): Mask {
  mask >>>= 0;
  if (mask === 0) return { mask: 0, shift: 0, max: 0 };
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  return { mask, shift, max: mask >>> shift };
}

/** Scales a masked channel to 0–255 (a 5-bit 31 becomes 255, not 248). */
const channel = (px: number, m: Mask): number => (m.max === 0 ? 0 : Math.round((((px & m.mask) >>> m.shift) * 255) / m.max));

/** Decodes to top-down RGB (or RGBA) rows, ready for `sharp(data, { raw })`. */
export function decodeBmp(bytes: Uint8Array, maxPixels = Number.POSITIVE_INFINITY): DecodedBmp {
  const h = readBmpHeader(bytes);
  const { width, height, bitsPerPixel: bpp, dibSize } = h;
  if (width * height > maxPixels) throw new BmpError(`image too large (${width}×${height})`);
  if (h.compression !== BI_RGB && h.compression !== BI_BITFIELDS && h.compression !== BI_ALPHABITFIELDS) {
    const name = COMPRESSION_NAMES[h.compression] ?? `type ${h.compression}`;
    throw new BmpError(`unsupported BMP compression (${name})`);
  }
  if (![1, 4, 8, 16, 24, 32].includes(bpp)) throw new BmpError(`unsupported BMP bit depth (${bpp})`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerEnd = 14 + dibSize;

  // Channel masks: inside V2+ headers, or right after a 40-byte header when BITFIELDS.
  let masks: { r: Mask; g: Mask; b: Mask; a: Mask } | null = null;
  let paletteStart = headerEnd;
  if (h.compression === BI_BITFIELDS || h.compression === BI_ALPHABITFIELDS) {
    if (bpp !== 16 && bpp !== 32) throw new BmpError(`invalid BMP: bit fields with ${bpp} bits per pixel`);
    const at = dibSize >= 52 ? 54 : headerEnd;
    const withAlpha = dibSize >= 56 || h.compression === BI_ALPHABITFIELDS;
    need(bytes, at + (withAlpha ? 16 : 12), 'colour masks');
    masks = {
      r: maskOf(v.getUint32(at, true)),
      g: maskOf(v.getUint32(at + 4, true)),
      b: maskOf(v.getUint32(at + 8, true)),
      a: maskOf(withAlpha ? v.getUint32(at + 12, true) : 0),
    };
    if (dibSize === 40) paletteStart = at + (h.compression === BI_ALPHABITFIELDS ? 16 : 12);
  } else if (bpp === 16) {
    masks = { r: maskOf(0x7c00), g: maskOf(0x03e0), b: maskOf(0x001f), a: maskOf(0) };
  }

  let palette: Uint8Array | null = null;
  if (bpp <= 8) {
    const entrySize = dibSize === 12 ? 3 : 4;
    const used = dibSize >= 40 ? v.getUint32(46, true) : 0;
    let count = Math.min(used === 0 ? 1 << bpp : used, 1 << bpp);
    // Writers (OS/2 ones especially) often store a shorter palette than 2^bpp; the pixel offset tells.
    if (h.pixelOffset > paletteStart) count = Math.min(count, Math.floor((h.pixelOffset - paletteStart) / entrySize));
    need(bytes, paletteStart + count * entrySize, 'palette');
    palette = new Uint8Array(256 * 3); // indices past the palette read as black
    for (let i = 0; i < count; i++) {
      const p = paletteStart + i * entrySize;
      palette[i * 3] = bytes[p + 2]!;
      palette[i * 3 + 1] = bytes[p + 1]!;
      palette[i * 3 + 2] = bytes[p]!;
    }
  }

  const stride = Math.floor((bpp * width + 31) / 32) * 4;
  // The last row need not be padded to the stride.
  need(bytes, h.pixelOffset + stride * (height - 1) + Math.ceil((bpp * width) / 8), 'pixel data');

  const channels: 3 | 4 = masks && masks.a.mask !== 0 ? 4 : 3;
  const out = Buffer.alloc(width * height * channels);
  let alphaSeen = 0;
  for (let y = 0; y < height; y++) {
    const src = h.pixelOffset + (h.topDown ? y : height - 1 - y) * stride;
    let o = y * width * channels;
    for (let x = 0; x < width; x++, o += channels) {
      if (palette) {
        const bit = x * bpp;
        const byte = bytes[src + (bit >> 3)]!;
        const idx = bpp === 8 ? byte : (byte >> (8 - bpp - (bit & 7))) & ((1 << bpp) - 1);
        out[o] = palette[idx * 3]!;
        out[o + 1] = palette[idx * 3 + 1]!;
        out[o + 2] = palette[idx * 3 + 2]!;
      } else if (bpp === 24 || (bpp === 32 && !masks)) {
        const p = src + x * (bpp >> 3);
        out[o] = bytes[p + 2]!;
        out[o + 1] = bytes[p + 1]!;
        out[o + 2] = bytes[p]!;
      } else {
        const px = bpp === 16 ? v.getUint16(src + x * 2, true) : v.getUint32(src + x * 4, true);
        out[o] = channel(px, masks!.r);
        out[o + 1] = channel(px, masks!.g);
        out[o + 2] = channel(px, masks!.b);
        if (channels === 4) {
          const a = channel(px, masks!.a);
          out[o + 3] = a;
          alphaSeen |= a;
        }
      }
    }
  }
  // Many writers declare an alpha mask but leave it all zero: that means opaque, not invisible.
  if (channels === 4 && alphaSeen === 0) {
    const rgb = Buffer.alloc(width * height * 3);
    for (let i = 0, j = 0; i < out.length; i += 4, j += 3) {
      rgb[j] = out[i]!;
      rgb[j + 1] = out[i + 1]!;
      rgb[j + 2] = out[i + 2]!;
    }
    return { width, height, channels: 3, data: rgb };
  }
  return { width, height, channels, data: out };
}
