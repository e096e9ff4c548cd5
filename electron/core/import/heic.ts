// Phone photos: iPhones save HEIC (HEVC-coded HEIF). The libvips inside sharp's prebuilt binaries
// has no HEVC decoder (patents), so HEIC is decoded by libheif compiled to WebAssembly (the
// heic-decode package, on libheif-js) and kept as a lossless PNG. Every later step — thumbnails,
// model input, export, the browser — then reads a format it knows, and the stored PNG is what gets
// hashed, so importing the same HEIC file twice is still a duplicate (the conversion is
// deterministic). AVIF (also HEIF, AV1-coded) is decoded by sharp itself and converted the same way.
import { createRequire } from 'node:module';
import sharp from 'sharp';
import { ImageRejected, LIMITS } from './preprocess.js';

const HEIC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs', 'mif1', 'msf1']);
const AVIF_BRANDS = new Set(['avif', 'avis']);

/** Which HEIF flavour these bytes are, from the ISO-BMFF `ftyp` box's brands; null when not HEIF. */
export function heifKind(bytes: Uint8Array): 'heic' | 'avif' | null {
  if (bytes.length < 16 || String.fromCharCode(...bytes.subarray(4, 8)) !== 'ftyp') return null;
  const size = Math.min(bytes.length, (bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!);
  const brands = [String.fromCharCode(...bytes.subarray(8, 12))];
  for (let at = 16; at + 4 <= size; at += 4) brands.push(String.fromCharCode(...bytes.subarray(at, at + 4)));
  // A generic `mif1` file says in its compatible brands whether its pictures are AV1.
  if (brands.some((b) => AVIF_BRANDS.has(b))) return 'avif';
  if (brands.some((b) => HEIC_BRANDS.has(b))) return 'heic';
  return null;
}

function checkSize(width: number, height: number): void {
  if (width <= 0 || height <= 0) throw new ImageRejected('corrupt HEIC file (no picture in it)');
  if (width > LIMITS.maxSide || height > LIMITS.maxSide || width * height > LIMITS.maxPixels)
    throw new ImageRejected(`image too large (${width}×${height} pixels; the limit is ${LIMITS.maxPixels / 1e6} megapixels)`);
}

type DecodeAll = (typeof import('heic-decode'))['default']['all'];

let decoder: DecodeAll | undefined;
/**
 * Loaded on the first HEIC file: 8 MB of WebAssembly nobody else should pay for. require(), not
 * import(): the CLI's bundle runs under V8's code cache, where a dynamic import() has no loader.
 */
function heicDecoder(): DecodeAll {
  decoder ??= (createRequire(import.meta.url)('heic-decode') as (typeof import('heic-decode'))['default']).all;
  return decoder;
}

/**
 * The first (primary) picture of a HEIC or AVIF file as PNG bytes, in display orientation (libheif
 * applies the file's rotation and mirroring). Refuses damaged files and pictures over the size
 * limits with a reason fit for the import report, before decoding their pixels.
 */
export async function heifToPng(bytes: Uint8Array, kind: 'heic' | 'avif'): Promise<Buffer> {
  if (kind === 'avif') {
    try {
      const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
      checkSize(meta.width ?? 0, meta.height ?? 0);
      return await sharp(bytes, { failOn: 'truncated', limitInputPixels: LIMITS.maxPixels }).rotate().png().toBuffer();
    } catch (err) {
      if (err instanceof ImageRejected) throw err;
      throw new ImageRejected(`corrupt or truncated AVIF file (${(err as Error).message.split('\n')[0]})`);
    }
  }
  const all = heicDecoder();
  let images: Awaited<ReturnType<DecodeAll>>;
  try {
    images = await all({ buffer: bytes });
  } catch (err) {
    throw new ImageRejected(`corrupt or unsupported HEIC file (${(err as Error).message})`);
  }
  try {
    const first = images[0]!;
    checkSize(first.width, first.height);
    let pixels: { width: number; height: number; data: Uint8ClampedArray };
    try {
      pixels = await first.decode();
    } catch (err) {
      throw new ImageRejected(`corrupt or truncated HEIC file (${(err as Error).message})`);
    }
    const raw = Buffer.from(pixels.data.buffer, pixels.data.byteOffset, pixels.data.byteLength);
    // Lossless and deterministic: the same HEIC always becomes the same PNG bytes.
    return await sharp(raw, { raw: { width: pixels.width, height: pixels.height, channels: 4 } })
      .png({ compressionLevel: 6, adaptiveFiltering: false })
      .toBuffer();
  } finally {
    images.dispose();
  }
}
