// The ONE way pixels are prepared, for thumbnails, previews and model input alike. Lobe's and
// Teachable Machine's users saw exports disagree with the app because each path resized,
// rotated or flattened differently (lobe.NET#6, TM#153); here every consumer starts from
// `normalisedImage`, and the model's input size adds exactly one documented fit.
import sharp from 'sharp';
import { decodeBmp, readBmpHeader, BmpError } from './bmp.js';
import { sniffFormat, describeUnknown, type ImageFormat } from './sniff.js';

/** How model input is made from an image. Training, prediction and every export follow it. */
export const PREPROCESSING = {
  /** Whole image scaled to fit inside size×size keeping its aspect ratio, centred, padded. */
  fit: 'letterbox',
  /** Padding and the colour transparent pixels are flattened onto. */
  background: '#ffffff',
  /** sharp/libvips resampling kernel (Lanczos, a = 3), with JPEG shrink-on-load disabled so every format resamples alike. */
  kernel: 'lanczos3',
  /** Output is 8-bit sRGB, 3 channels, rows top to bottom, pixels interleaved RGB. */
  colourSpace: 'srgb',
  /** The EXIF orientation tag is applied before anything else. */
  orientation: 'exif',
} as const;

/** Refusal thresholds, checked on header dimensions before any pixel is decoded. */
export const LIMITS = {
  maxBytes: 256 * 1024 * 1024,
  maxPixels: 50_000_000,
  maxSide: 20_000,
} as const;

// Every decode here is of a different file, so libvips' operation cache only costs memory
// and bookkeeping (measured: about 10% more CPU per thumbnail with it on). Set on first use, not
// at import: commands that never decode (`studio project list`) must not load sharp at all.
let cacheOff = false;
function vips(...args: Parameters<typeof sharp>): ReturnType<typeof sharp> {
  if (!cacheOff) {
    sharp.cache(false);
    cacheOff = true;
  }
  return sharp(...args);
}

export const THUMBNAIL_SIZE = 256;
export const PREVIEW_SIZE = 1600;

/** An input we decline, with a reason fit to show the person who picked the file. */
export class ImageRejected extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'ImageRejected';
  }
}

export interface ImageInfo {
  format: ImageFormat;
  /** Dimensions as displayed, i.e. after EXIF orientation. */
  width: number;
  height: number;
}

const WHITE = { r: 255, g: 255, b: 255 };

function checkDimensions(width: number, height: number): void {
  if (width > LIMITS.maxSide || height > LIMITS.maxSide || width * height > LIMITS.maxPixels) {
    throw new ImageRejected(
      `image too large (${width}×${height} pixels; the limit is ${LIMITS.maxPixels / 1e6} megapixels and ${LIMITS.maxSide.toLocaleString('en')} pixels a side)`,
    );
  }
}

/** libvips messages carry a loader prefix and sometimes several lines; keep the gist. */
export function decodeReason(err: unknown, format: ImageFormat): string {
  const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.trim();
  const name = format === 'jpg' ? 'JPEG' : format.toUpperCase();
  return `corrupt or truncated ${name} file (${msg})`;
}

/**
 * Identifies the bytes and reads their header. Rejects empty files, non-images, unsupported
 * variants and decompression bombs without decoding pixels.
 */
export async function inspectImage(bytes: Uint8Array): Promise<ImageInfo> {
  if (bytes.length === 0) throw new ImageRejected('empty file');
  if (bytes.length > LIMITS.maxBytes) throw new ImageRejected('file is larger than 256 MB');
  const format = sniffFormat(bytes);
  if (!format) throw new ImageRejected(describeUnknown(bytes));
  if (format === 'bmp') {
    try {
      const h = readBmpHeader(bytes);
      checkDimensions(h.width, h.height);
      return { format, width: h.width, height: h.height };
    } catch (err) {
      if (err instanceof BmpError) throw new ImageRejected(err.message);
      throw err;
    }
  }
  let meta: sharp.Metadata;
  try {
    meta = await vips(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new ImageRejected(decodeReason(err, format));
  }
  const width = meta.width ?? 0;
  const height = meta.pageHeight ?? meta.height ?? 0;
  if (width <= 0 || height <= 0) throw new ImageRejected(`corrupt ${format.toUpperCase()} file (no dimensions)`);
  checkDimensions(width, height);
  const swapped = (meta.orientation ?? 1) >= 5;
  return { format, width: swapped ? height : width, height: swapped ? width : height };
}

/**
 * A sharp pipeline of the image in display orientation, opaque on white, in 8-bit sRGB.
 * Decoding is strict about truncation and capped in pixels even if a header lied.
 */
export function normalisedImage(bytes: Uint8Array, format: ImageFormat | null = sniffFormat(bytes)): sharp.Sharp {
  let img: sharp.Sharp;
  if (format === 'bmp') {
    let bmp;
    try {
      bmp = decodeBmp(bytes, LIMITS.maxPixels);
    } catch (err) {
      throw err instanceof BmpError ? new ImageRejected(err.message) : err;
    }
    img = vips(bmp.data, { raw: { width: bmp.width, height: bmp.height, channels: bmp.channels } });
  } else {
    if (!format) throw new ImageRejected(describeUnknown(bytes));
    img = vips(bytes, { failOn: 'truncated', limitInputPixels: LIMITS.maxPixels });
  }
  return img.rotate().flatten({ background: WHITE }).toColourspace('srgb');
}

/** Runs a normalised pipeline to a buffer; decode failures become rejections with a reason. */
async function render(
  bytes: Uint8Array,
  format: ImageFormat | null,
  build: (img: sharp.Sharp) => sharp.Sharp,
): Promise<{ data: Buffer; info: sharp.OutputInfo }> {
  const fmt = format ?? sniffFormat(bytes);
  try {
    return await build(normalisedImage(bytes, fmt)).toBuffer({ resolveWithObject: true });
  } catch (err) {
    if (err instanceof ImageRejected) throw err;
    throw new ImageRejected(decodeReason(err, fmt ?? 'jpg'));
  }
}

/** WebP thumbnail fitting inside 256×256 (never enlarged). */
export function makeThumbnail(bytes: Uint8Array, format: ImageFormat | null = null): Promise<{ data: Buffer; info: sharp.OutputInfo }> {
  return render(bytes, format, (img) =>
    img.resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside', withoutEnlargement: true }).webp({ quality: 80, effort: 1 }),
  );
}

/** Browser-displayable WebP preview, at most 1600 px a side. */
export function makePreview(bytes: Uint8Array, format: ImageFormat | null = null): Promise<{ data: Buffer; info: sharp.OutputInfo }> {
  return render(bytes, format, (img) =>
    img.resize(PREVIEW_SIZE, PREVIEW_SIZE, { fit: 'inside', withoutEnlargement: true }).webp({ quality: 85, effort: 2 }),
  );
}

/**
 * Model input: the normalised image letterboxed into size×size (see PREPROCESSING), as
 * interleaved 8-bit RGB, size*size*3 bytes.
 */
export async function decodeForModel(bytes: Uint8Array, size: number): Promise<{ data: Uint8Array }> {
  if (!Number.isInteger(size) || size <= 0) throw new RangeError(`model input size must be a positive integer, got ${size}`);
  const fmt = sniffFormat(bytes);
  try {
    const data = await normalisedImage(bytes, fmt)
      .resize(size, size, { fit: 'contain', background: WHITE, kernel: PREPROCESSING.kernel, fastShrinkOnLoad: false })
      .removeAlpha()
      .raw()
      .toBuffer();
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (err) {
    if (err instanceof ImageRejected) throw err;
    throw new ImageRejected(decodeReason(err, fmt ?? 'jpg'));
  }
}
