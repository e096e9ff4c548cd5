// GET /dataset-exports/<key>.zip: a finished dataset export (made into the data folder) as a
// download, for the web app, which has no folder dialog. The key is checked against its pattern
// and the file looked up under the data folder; no path ever comes from the client.
import fs from 'node:fs';
import type { ServerResponse } from 'node:http';
import type { Studio } from '../core/studio.js';
import { datasetZipPath } from '../core/dataset/handlers.js';
import { sendText } from './headers.js';

const ROUTE = /^\/dataset-exports\/([a-f0-9]{16})\.zip$/;

export function isDatasetExportRoute(pathname: string): boolean {
  return pathname.startsWith('/dataset-exports/');
}

export function serveDatasetZip(studio: Studio, pathname: string, res: ServerResponse, method: string): void {
  const m = ROUTE.exec(pathname);
  const zip = m ? datasetZipPath(studio.paths, m[1]!) : null;
  let size: number;
  try {
    if (!zip) throw new Error('none');
    size = fs.statSync(zip).size;
  } catch {
    return sendText(res, 404, 'No such dataset export (or it is not finished).');
  }
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/zip');
  res.setHeader('Content-Length', size);
  // The zip's own name is made from the project's name by safeSegment; quoted, with a plain fallback.
  res.setHeader(
    'Content-Disposition',
    `attachment; filename="dataset-export.zip"; filename*=UTF-8''${encodeURIComponent(zip.split(/[\\/]/).at(-1)!)}`,
  );
  res.setHeader('Cache-Control', 'no-store');
  if (method === 'HEAD') return void res.end();
  fs.createReadStream(zip)
    .on('error', () => res.destroy())
    .pipe(res);
}
