// Serves the built renderer (dist/renderer). Every request path is resolved inside that folder
// and refused when it would leave it (`..`, encoded slashes, NUL, symlinks pointing outside).
import fs from 'node:fs';
import path from 'node:path';
import type { ServerResponse } from 'node:http';
import { sendText } from './headers.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

export function contentType(file: string): string {
  return TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

export const NOT_BUILT = 'The app has not been built: run npm run build first (dist/renderer is missing).';

/**
 * The file inside `root` that `urlPath` names, or null when the path is malformed or escapes
 * `root`. `urlPath` is the still-encoded pathname of the request.
 */
export function resolveStatic(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const segments = decoded.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '..' || s === '.')) return null;
  const rel = segments.length === 0 ? 'index.html' : segments.join('/');
  const base = path.resolve(root);
  const file = path.resolve(base, rel);
  if (!file.startsWith(base + path.sep)) return null;
  return file;
}

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
