// GET /img/thumb/<id> and /img/full/<id>: images by id, never by path (the desktop's
// studio-image:// protocol serves the same bytes, core/library/browser-image.ts).
import fs from 'node:fs';
import type { ServerResponse } from 'node:http';
import type { Studio } from '../core/studio.js';
import { browserImage } from '../core/library/browser-image.js';
import { toWireError } from '../shared/contract.js';
import { parseImagePath } from '../shared/image-path.js';
import { sendText } from './headers.js';

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
