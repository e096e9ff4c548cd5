// What an image file really is, from its first bytes: extensions lie (a text file named
// .jpg, a PNG saved as .bmp), magic numbers do not.

export type ImageFormat = 'jpg' | 'png' | 'webp' | 'gif' | 'tiff' | 'bmp';

const startsWith = (b: Uint8Array, sig: number[], at = 0) => b.length >= at + sig.length && sig.every((v, i) => b[at + i] === v);
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

/** The format of these bytes, or null when they are not an image we can import. */
export function sniffFormat(bytes: Uint8Array): ImageFormat | null {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'webp';
  if (startsWith(bytes, ascii('GIF87a')) || startsWith(bytes, ascii('GIF89a'))) return 'gif';
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  // "BM" alone is too weak (text can start with it); also require a plausible DIB header size.
  if (startsWith(bytes, ascii('BM')) && bytes.length >= 18) {
    const dib = bytes[14]! | (bytes[15]! << 8) | (bytes[16]! << 16) | (bytes[17]! << 24);
    if ([12, 40, 52, 56, 64, 108, 124].includes(dib)) return 'bmp';
  }
  return null;
}

/** A short description of unrecognised bytes, for the skip reason. */
export function describeUnknown(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'empty file';
  const head = bytes.subarray(0, 512);
  const text = head.every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f) || b >= 0x80);
  if (text) return 'not an image (looks like text)';
  if (startsWith(bytes, ascii('ftyp'), 4))
    return 'not a picture (a video or another ISO media file); HEIC and AVIF photos are imported, videos are not';
  if (startsWith(bytes, ascii('%PDF'))) return 'not an image (PDF)';
  if (startsWith(bytes, [0x3c, 0x3f, 0x78, 0x6d, 0x6c]) || startsWith(bytes, ascii('<svg'))) return 'SVG drawings are not supported';
  return 'not a supported image (JPEG, PNG, WebP, GIF, TIFF, BMP, HEIC or AVIF)';
}
