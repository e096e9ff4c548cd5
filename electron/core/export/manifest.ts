// manifest.json: every file of an export with its size and sha256, so a copy can be checked
// (`studio verify-export DIR`) for missing, changed or unexpected files.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { listFiles } from './zip.js';

export const MANIFEST = 'manifest.json';
export const MANIFEST_VERSION = 1;

export interface FileEntry {
  path: string;
  bytes: number;
  sha256: string;
}

export interface Manifest {
  formatVersion: number;
  generatedBy: string;
  files: FileEntry[];
  /** Parts asked for but not produced, with the reason (a run on a graph-model base has no ONNX model). */
  skipped?: { part: string; reason: string }[];
}

export function sha256File(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

export function describeFiles(dir: string): FileEntry[] {
  return listFiles(dir)
    .filter((p) => p !== MANIFEST)
    .map((p) => {
      const file = path.join(dir, p);
      return { path: p, bytes: fs.statSync(file).size, sha256: sha256File(file) };
    });
}

/** Writes manifest.json over everything else in `dir`; returns its entries. */
export function writeManifest(dir: string, skipped: { part: string; reason: string }[] = []): FileEntry[] {
  const files = describeFiles(dir);
  const manifest: Manifest = {
    formatVersion: MANIFEST_VERSION,
    generatedBy: 'Transfer Studio',
    files,
    ...(skipped.length ? { skipped } : {}),
  };
  fs.writeFileSync(path.join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return files;
}

export interface VerifyResult {
  ok: boolean;
  checked: number;
  missing: string[];
  changed: { path: string; reason: string }[];
  extra: string[];
  /** Set when the manifest itself is missing or unreadable. */
  error: string | null;
}

export function verifyExport(dir: string): VerifyResult {
  const result: VerifyResult = { ok: false, checked: 0, missing: [], changed: [], extra: [], error: null };
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) return { ...result, error: `${dir} is not a folder.` };
  const file = path.join(dir, MANIFEST);
  if (!fs.existsSync(file)) return { ...result, error: `${dir} has no ${MANIFEST}; it is not an export, or the manifest was deleted.` };
  let manifest: Manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as Manifest;
    if (
      !Array.isArray(manifest.files) ||
      manifest.files.some((f) => typeof f?.path !== 'string' || typeof f.sha256 !== 'string' || typeof f.bytes !== 'number')
    ) {
      throw new Error('no valid "files" list');
    }
  } catch (err) {
    return { ...result, error: `${MANIFEST} is unreadable (${err instanceof Error ? err.message : String(err)}).` };
  }
  const listed = new Set<string>();
  for (const entry of manifest.files) {
    listed.add(entry.path);
    const target = path.resolve(dir, entry.path);
    // A manifest naming files outside the folder is itself tampered with.
    if (!target.startsWith(path.resolve(dir) + path.sep)) {
      result.changed.push({ path: entry.path, reason: 'path points outside the folder' });
      continue;
    }
    const st = fs.lstatSync(target, { throwIfNoEntry: false });
    if (!st) {
      result.missing.push(entry.path);
      continue;
    }
    // An export holds regular files only: a link could point anywhere and change without notice.
    if (!st.isFile()) {
      result.changed.push({ path: entry.path, reason: st.isSymbolicLink() ? 'is a symbolic link, not a file' : 'is not a regular file' });
      continue;
    }
    result.checked++;
    const bytes = fs.statSync(target).size;
    if (bytes !== entry.bytes) result.changed.push({ path: entry.path, reason: `size ${bytes} bytes, expected ${entry.bytes}` });
    else if (sha256File(target) !== entry.sha256) result.changed.push({ path: entry.path, reason: 'contents differ (sha256 mismatch)' });
  }
  result.extra = listEntries(dir).filter((p) => p !== MANIFEST && !listed.has(p));
  result.ok = result.missing.length === 0 && result.changed.length === 0 && result.extra.length === 0;
  return result;
}

/**
 * Every entry under `dir` that is not a folder — files, and also symbolic links (not followed),
 * pipes and the like — relative, forward slashes, sorted. listFiles() sees regular files only,
 * so an added link would pass verification unnoticed.
 */
function listEntries(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const d of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) walk(r);
      else out.push(r);
    }
  };
  walk('');
  return out.sort();
}
