// GET /exports/<exportId>.zip: a finished export's bundle as a download. The id is looked up in
// the exports table; no path ever comes from the client.
import fs from 'node:fs';
import type { ServerResponse } from 'node:http';
import type { Studio } from '../core/studio.js';
import { exportZipPath } from '../core/export/files.js';
import { sendText } from './headers.js';

const ROUTE = /^\/exports\/([1-9]\d{0,15})\.zip$/;

export function isExportRoute(pathname: string): boolean {
  return pathname.startsWith('/exports/');
}

export function serveExportZip(studio: Studio, pathname: string, res: ServerResponse, method: string): void {
  const m = ROUTE.exec(pathname);
  const zip = m ? exportZipPath(studio.db, Number(m[1])) : null;
  if (!m || !zip) return sendText(res, 404, 'No such export (or it has no .zip: only a finished export has one).');
  let size: number;
  try {
    size = fs.statSync(zip).size;
  } catch {
    return sendText(res, 404, 'That export’s .zip is gone.');
  }
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/zip');
  res.setHeader('Content-Length', size);
  res.setHeader('Content-Disposition', `attachment; filename="transfer-studio-export-${m[1]}.zip"`);
  res.setHeader('Cache-Control', 'no-store');
  if (method === 'HEAD') return void res.end();
  fs.createReadStream(zip)
    .on('error', () => res.destroy())
    .pipe(res);
}
