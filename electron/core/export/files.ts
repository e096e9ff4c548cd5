// What an export left on disk, looked up by its id only: the web host's download route and the
// UI's file list never take a path from the client.
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../db/connection.js';
import { MANIFEST, type Manifest } from './manifest.js';

/** The .zip of a finished export, or null when there is no such export or its zip is gone. */
export function exportZipPath(db: Db, exportId: number): string | null {
  if (!Number.isSafeInteger(exportId) || exportId <= 0) return null;
  const row = db.prepare("SELECT zip_path FROM exports WHERE id = ? AND status = 'done'").get(exportId) as
    { zip_path: string | null } | undefined;
  const zip = row?.zip_path ?? null;
  if (!zip) return null;
  try {
    return fs.statSync(zip).isFile() ? zip : null;
  } catch {
    return null;
  }
}

/** The files an export wrote (from its manifest.json), for the UI; empty when the folder has none. */
export function exportFiles(dir: string | null): { path: string; bytes: number }[] {
  if (!dir) return [];
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), 'utf8')) as Partial<Manifest>;
    if (!Array.isArray(manifest.files)) return [];
    return manifest.files
      .filter((f) => typeof f?.path === 'string' && typeof f.bytes === 'number')
      .map((f) => ({ path: f.path, bytes: f.bytes }));
  } catch {
    // A deleted or hand-edited folder: the list is informative only, so show none.
    return [];
  }
}
