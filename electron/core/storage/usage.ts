// Bytes on disk, per project and shared, for the storage.project call.
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../db/connection.js';
import type { DataPaths } from '../paths.js';
import { getProject } from '../library/projects.js';
import { freeBytes } from './disk-full.js';
import type { ProjectStorage } from '../../shared/contract-storage.js';
import type { z } from 'zod';

/** Sum of file sizes under `p` (a file counts itself); links are not followed. */
export function treeBytes(p: string): number {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return 0;
  }
  if (st.isFile()) return st.size;
  if (!st.isDirectory()) return 0;
  let total = 0;
  const stack = [p];
  while (stack.length) {
    const dir = stack.pop()!;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) stack.push(full);
      else if (e.isFile()) {
        try {
          total += fs.lstatSync(full).size;
        } catch {
          /* removed meanwhile */
        }
      }
    }
  }
  return total;
}

/** Whether `p` lies inside the data folder's `sub` folder (where the app may delete on its own). */
export function insideData(paths: DataPaths, sub: string, p: string): boolean {
  return path.resolve(p).startsWith(path.join(paths.root, sub) + path.sep);
}

export function projectStorage(db: Db, paths: DataPaths, projectId: number): z.output<typeof ProjectStorage> {
  getProject(db, projectId);
  const dir = paths.project(projectId);
  const images = (db.prepare('SELECT COALESCE(SUM(bytes), 0) FROM images WHERE project_id = ?').pluck().get(projectId) as number) ?? 0;
  const thumbnails = treeBytes(path.join(dir, 'thumbs')) + treeBytes(path.join(dir, 'previews'));
  const runs = treeBytes(path.join(dir, 'runs'));
  const rows = db
    .prepare('SELECT e.dir, e.zip_path FROM exports e JOIN runs r ON r.id = e.run_id WHERE r.project_id = ?')
    .all(projectId) as {
    dir: string | null;
    zip_path: string | null;
  }[];
  let exports = 0;
  for (const r of rows) for (const p of [r.dir, r.zip_path]) if (p && insideData(paths, 'exports', p)) exports += treeBytes(p);
  const database = ['', '-wal', '-shm'].reduce((s, suffix) => s + treeBytes(paths.database + suffix), 0);
  return {
    projectId,
    images,
    thumbnails,
    runs,
    exports,
    total: images + thumbnails + runs + exports,
    shared: { featureCache: treeBytes(path.join(paths.root, 'cache')), models: treeBytes(paths.models()), database },
    freeBytes: freeBytes(paths.root),
  };
}
