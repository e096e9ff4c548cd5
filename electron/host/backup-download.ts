// GET /backups/<key>.tar: a backup made into the data folder, as a download, for the web app
// (which has no save dialog). The key is checked against its pattern and the file looked up under
// the data folder; no path ever comes from the client.
import fs from 'node:fs';
import type { ServerResponse } from 'node:http';
import type { Studio } from '../core/studio.js';
import { backupFilePath } from '../core/backup/handlers.js';
import { sendText } from './headers.js';

const ROUTE = /^\/backups\/([a-f0-9]{16})\.tar$/;

export function isBackupRoute(pathname: string): boolean {
  return pathname.startsWith('/backups/');
}

export function serveBackup(studio: Studio, pathname: string, res: ServerResponse, method: string): void {
  const m = ROUTE.exec(pathname);
  const file = m ? backupFilePath(studio.paths, m[1]!) : null;
  let size: number;
  try {
    if (!file) throw new Error('none');
    size = fs.statSync(file).size;
  } catch {
    return sendText(res, 404, 'No such backup.');
  }
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/x-tar');
  res.setHeader('Content-Length', size);
  res.setHeader(
    'Content-Disposition',
    `attachment; filename="project.studio-backup.tar"; filename*=UTF-8''${encodeURIComponent(file.split(/[\\/]/).at(-1)!)}`,
  );
  res.setHeader('Cache-Control', 'no-store');
  if (method === 'HEAD') return void res.end();
  fs.createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res);
}
