// Serves the built renderer (dist/renderer). Every request path is resolved inside that folder
// and refused when it would leave it (`..`, encoded slashes, NUL, symlinks pointing outside).
import fs from 'node:fs';
import path from 'node:path';
import type { ServerResponse } from 'node:http';
import { contentType, resolveStatic } from '../core/static-path.js';
import { sendText } from './headers.js';

export const NOT_BUILT = 'The app has not been built: run npm run build first (dist/renderer is missing).';

export function serveStatic(root: string, urlPath: string, res: ServerResponse, method: string): void {
  if (!fs.existsSync(path.join(root, 'index.html'))) return sendText(res, 503, NOT_BUILT);
  const file = resolveStatic(root, urlPath);
  if (!file) return sendText(res, 400, 'Bad path.');
  let real: string;
  let stat: fs.Stats;
  try {
    real = fs.realpathSync(file);
    stat = fs.statSync(real);
  } catch {
    return sendText(res, 404, 'Not found.');
  }
  // A symlink inside dist/renderer must not expose files outside it.
  const realRoot = fs.realpathSync(root);
  if (!real.startsWith(realRoot + path.sep) || !stat.isFile()) return sendText(res, 404, 'Not found.');
  res.statusCode = 200;
  res.setHeader('Content-Type', contentType(real));
  res.setHeader('Content-Length', stat.size);
  // Vite puts a content hash in asset names; index.html must always be fresh.
  res.setHeader('Cache-Control', real.includes(`${path.sep}assets${path.sep}`) ? 'private, max-age=31536000, immutable' : 'no-cache');
  if (method === 'HEAD') return void res.end();
  fs.createReadStream(real)
    .on('error', () => res.destroy())
    .pipe(res);
}
