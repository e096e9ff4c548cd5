// Perceptual hash (DCT "pHash"): 64 bits that stay nearly the same when a picture is resized,
// recompressed or slightly cropped, unlike the content hash that refuses exact copies only.
// The picture goes through the same normalisation as everything else (orientation, alpha on
// white, sRGB), is shrunk to 32×32 grey, and the 8×8 lowest frequencies of its cosine transform
// are compared with their median: one bit per frequency.
import { decodeReason, normalisedImage, ImageRejected } from '../import/preprocess.js';
import { sniffFormat, type ImageFormat } from '../import/sniff.js';

const SIDE = 32;
const LOW = 8;

/** cos((2x+1)uπ / 2N), the DCT-II basis, computed once. */
const BASIS: Float64Array = (() => {
  const b = new Float64Array(LOW * SIDE);
  for (let u = 0; u < LOW; u++) for (let x = 0; x < SIDE; x++) b[u * SIDE + x] = Math.cos(((2 * x + 1) * u * Math.PI) / (2 * SIDE));
  return b;
})();

/** The hash of 32×32 grey pixels (row-major), as 16 hex digits. Exported for tests. */
export function hashGrey(grey: ArrayLike<number>): string {
  if (grey.length !== SIDE * SIDE) throw new RangeError(`expected ${SIDE * SIDE} grey pixels, got ${grey.length}`);
  // Separable transform, low frequencies only: rows first (u), then columns (v).
  const rows = new Float64Array(SIDE * LOW);
  for (let y = 0; y < SIDE; y++)
    for (let u = 0; u < LOW; u++) {
      let s = 0;
      for (let x = 0; x < SIDE; x++) s += grey[y * SIDE + x]! * BASIS[u * SIDE + x]!;
      rows[y * LOW + u] = s;
    }
  const coef = new Float64Array(LOW * LOW);
  for (let v = 0; v < LOW; v++)
    for (let u = 0; u < LOW; u++) {
      let s = 0;
      for (let y = 0; y < SIDE; y++) s += rows[y * LOW + u]! * BASIS[v * SIDE + y]!;
      coef[v * LOW + u] = s;
    }
  // The DC term is the mean brightness: left out of the median so a flat picture does not tilt it.
  const median = [...coef.slice(1)].sort((a, b) => a - b)[(LOW * LOW - 1) >> 1]!;
  let hex = '';
  for (let nibble = 0; nibble < 16; nibble++) {
    let d = 0;
    for (let k = 0; k < 4; k++) d = (d << 1) | (coef[nibble * 4 + k]! > median ? 1 : 0);
    hex += d.toString(16);
  }
  return hex;
}

/** The perceptual hash of an image file's bytes; ImageRejected when it does not decode. */
export async function perceptualHash(bytes: Uint8Array, format: ImageFormat | null = null): Promise<string> {
  let grey: Buffer;
  const fmt = format ?? sniffFormat(bytes);
  try {
    grey = await normalisedImage(bytes, fmt)
      // 'fill' ignores the aspect ratio on purpose: a resized copy keeps it anyway, and a slightly
      // cropped one should still land on nearly the same 32×32 picture.
      .resize(SIDE, SIDE, { fit: 'fill', kernel: 'cubic' })
      .greyscale()
      .raw()
      .toBuffer();
  } catch (err) {
    if (err instanceof ImageRejected) throw err;
    // The same reason the thumbnail would give: the import runs both at once and reports the first.
    throw new ImageRejected(decodeReason(err, fmt ?? 'jpg'));
  }
  // greyscale() of an sRGB pipeline can still come out with 3 channels in raw: keep the first.
  const channels = grey.length / (SIDE * SIDE);
  return hashGrey(Array.from({ length: SIDE * SIDE }, (_, i) => grey[i * channels]!));
}

const POP = new Uint8Array(256).map((_, i) => {
  let n = 0;
  for (let v = i; v; v >>= 1) n += v & 1;
  return n;
});

/** Number of differing bits between two hashes (0–64). */
export function hammingDistance(a: string, b: string): number {
  let d = 0;
  for (let i = 0; i < 16; i += 2) d += POP[parseInt(a.slice(i, i + 2), 16) ^ parseInt(b.slice(i, i + 2), 16)]!;
  return d;
}
