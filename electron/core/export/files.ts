// What an export left on disk, looked up by its id only: the web host's download route and the
// UI's file list never take a path from the client.
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../db/connection.js';
import { MANIFEST, type Manifest } from './manifest.js';
import { ALL_PARTS, type ExportPart } from './store.js';

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

/** The parts an export left out and why (from its manifest.json); empty when none or unreadable. */
export function exportSkipped(dir: string | null): { part: ExportPart; reason: string }[] {
  if (!dir) return [];
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), 'utf8')) as Partial<Manifest>;
    if (!Array.isArray(manifest.skipped)) return [];
    return manifest.skipped
      .filter((s) => ALL_PARTS.includes(s?.part as ExportPart) && typeof s.reason === 'string')
      .map((s) => ({ part: s.part as ExportPart, reason: s.reason }));
  } catch {
    return [];
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

/**
 * Moves every entry of `from` into the existing folder `to`: a rename where both are on one file
 * system, else a copy then a delete (staging lives in the data folder, the destination may be on
 * another disk). Never replaces an entry already in `to`.
 */
export function moveEntriesInto(from: string, to: string, claim: (dest: string) => () => void = () => () => {}): void {
  for (const name of fs.readdirSync(from)) {
    const src = path.join(from, name);
    const dest = path.join(to, name);
    if (fs.existsSync(dest)) throw new Error(`${path.basename(dest)} appeared in the destination during the export; nothing was replaced.`);
    // On record before it exists at the destination, marked ours once it does.
    const created = claim(dest);
    try {
      fs.renameSync(src, dest);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      fs.cpSync(src, dest, { recursive: true, errorOnExist: true, force: false });
      fs.rmSync(src, { recursive: true, force: true });
    }
    created();
  }
}

/**
 * Creates a new empty file `<base><ext>`, or `<base> (2)<ext>`, `<base> (3)<ext>`... — the first
 * name nobody has — and returns it. `record` runs before each attempt to create, so the name is
 * on record before the file exists. Exclusive create: an existing file is never opened.
 */
export function claimFreeFile(
  base: string,
  ext: string,
  record: (file: string) => void,
  created: (file: string) => void = () => {},
): string {
  for (let n = 1; n < 10_000; n++) {
    const candidate = n === 1 ? `${base}${ext}` : `${base} (${n})${ext}`;
    if (fs.existsSync(candidate)) continue;
    record(candidate);
    try {
      fs.closeSync(fs.openSync(candidate, 'wx'));
      created(candidate);
      return candidate;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new Error(`No free name for ${base}${ext}.`);
}

/**
 * A name for a new export folder inside `parent`: `name`, else `name (2)`, … — the first for which
 * neither the folder nor its .zip exists, so the export makes both without touching anything there.
 */
export function freeFolderName(parent: string, name: string): string {
  for (let n = 1; n < 10_000; n++) {
    const candidate = n === 1 ? name : `${name} (${n})`;
    const at = path.join(parent, candidate);
    if (!fs.existsSync(at) && !fs.existsSync(`${at}.zip`)) return candidate;
  }
  throw new Error(`No free folder name for ${name} in ${parent}.`);
}
