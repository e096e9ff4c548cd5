// Files in the content-addressed store and the caches derived from them. Every write goes to
// a temporary file that is renamed into place, so a crash never leaves a half-written file
// under a final name — a name that exists is a complete file.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { DataPaths } from '../paths.js';

const madeDirs = new Set<string>();
const tmpPrefix = `.${process.pid}-${randomBytes(4).toString('hex')}-`;
let tmpCounter = 0;

async function ensureDir(dir: string): Promise<void> {
  if (madeDirs.has(dir)) return;
  await fs.promises.mkdir(dir, { recursive: true });
  madeDirs.add(dir);
}

/** Writes via a temporary file in the same folder and a rename; creates the folder if needed. */
export async function writeAtomic(file: string, data: Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `${tmpPrefix}${tmpCounter++}.tmp`);
  await ensureDir(dir);
  try {
    try {
      await fs.promises.writeFile(tmp, data);
    } catch (err) {
      // The folder may have been deleted under us (project removed and re-created).
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      madeDirs.delete(dir);
      await ensureDir(dir);
      await fs.promises.writeFile(tmp, data);
    }
  } catch (err) {
    // A full disk leaves a partial temporary file: remove it, or it holds on to the space.
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
  try {
    await fs.promises.rename(tmp, file);
  } catch (err) {
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
}

/** Like writeAtomic, but skips the work when the file already exists. */
export async function storeOnce(file: string, make: () => Promise<Uint8Array> | Uint8Array): Promise<boolean> {
  if (await exists(file)) return false;
  await writeAtomic(file, await make());
  return true;
}

export async function exists(file: string): Promise<boolean> {
  try {
    await fs.promises.access(file);
    return true;
  } catch {
    return false;
  }
}

/** Preview cache (WebP, ≤1600 px) beside the thumbnails. */
export function previewPath(paths: DataPaths, projectId: number, sha256: string): string {
  return path.join(paths.project(projectId), 'previews', sha256.slice(0, 2), `${sha256}.webp`);
}
