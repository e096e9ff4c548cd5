// GET /img/thumb/<id> and /img/full/<id>: images by id, never by path. Formats a browser cannot
// show (TIFF) are converted on the fly; the stored originals stay untouched.
import fs from 'node:fs';
import type { ServerResponse } from 'node:http';
import type { Studio } from '../core/studio.js';
import { toWireError } from '../shared/contract.js';
import { sendText } from './headers.js';
import { parseImagePath, type ImageVariant } from './image-path.js';

const BROWSER_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/bmp']);

/** The bytes or file a browser can display for an image id; null when there is no such image. */
export async function browserImage(
  studio: Studio,
  id: number,
  variant: ImageVariant,
): Promise<{ path: string; mime: string } | { data: Buffer; mime: string } | null> {
  const found = await studio.imageFile(id, variant);
  if (!found) return null;
  if (BROWSER_TYPES.has(found.mime)) return found;
  const { default: sharp } = await import('sharp');
  // rotate() with no angle applies the EXIF orientation.
  const data = await sharp(found.path).rotate().png().toBuffer();
  return { data, mime: 'image/png' };
}

export async function serveImage(studio: Studio, pathname: string, res: ServerResponse): Promise<void> {
  const parsed = parseImagePath(pathname);
  if (!parsed) return sendText(res, 404, 'No such image.');
  let image: Awaited<ReturnType<typeof browserImage>>;
  try {
    image = await browserImage(studio, parsed.id, parsed.variant);
  } catch (err) {
    const e = toWireError(err);
    return sendText(res, e.code === 'not_found' ? 404 : 500, e.message);
  }
  if (!image) return sendText(res, 404, 'No such image.');
  res.setHeader('Content-Type', image.mime);
  // Content-addressed: an id always names the same bytes until the image is removed.
  res.setHeader('Cache-Control', 'private, max-age=3600');
  if ('data' in image) {
    res.statusCode = 200;
    res.setHeader('Content-Length', image.data.length);
    return void res.end(image.data);
  }
  let size: number;
  try {
    size = fs.statSync(image.path).size;
  } catch {
    return sendText(res, 404, 'No such image.');
  }
  res.statusCode = 200;
  res.setHeader('Content-Length', size);
  fs.createReadStream(image.path)
    .on('error', () => res.destroy())
    .pipe(res);
}
