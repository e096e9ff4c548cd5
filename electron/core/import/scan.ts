// Turns what the user picked (folders and files) into a list of files to import. Folder names
// become labels; hidden entries are skipped; symbolic links are followed only while they stay
// inside the picked folder, so a link cannot smuggle in files from elsewhere on the disk.
import fs from 'node:fs';
import path from 'node:path';
import type { SkippedFile } from '../../shared/schemas.js';

export interface Candidate {
  /** Absolute path on disk. */
  file: string;
  /** What the person sees in the report: relative to the picked folder's parent, or the CSV text. */
  display: string;
  label: string | null;
}

export interface ScanResult {
  candidates: Candidate[];
  skipped: SkippedFile[];
}

/** Operating-system clutter that is never an image and not worth a line in the report. */
const IGNORED = new Set(['thumbs.db', 'desktop.ini', 'ehthumbs.db']);

const isInside = (root: string, p: string) => {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

export interface ScanOptions {
  folderLabels: boolean;
  signal: AbortSignal;
  onProgress: (found: number) => void;
}

export async function scanPaths(picked: string[], opts: ScanOptions): Promise<ScanResult> {
  const out: ScanResult = { candidates: [], skipped: [] };
  for (const p of picked) {
    if (opts.signal.aborted) break;
    let st: fs.Stats;
    try {
      st = await fs.promises.stat(p);
    } catch {
      out.skipped.push({ path: path.basename(p), reason: 'not found (moved or deleted?)' });
      continue;
    }
    if (st.isDirectory()) await walkRoot(p, opts, out);
    else if (st.isFile()) out.candidates.push({ file: path.resolve(p), display: path.basename(p), label: null });
    else out.skipped.push({ path: path.basename(p), reason: 'not a file or folder' });
    opts.onProgress(out.candidates.length);
  }
  return out;
}

async function walkRoot(root: string, opts: ScanOptions, out: ScanResult): Promise<void> {
  const realRoot = await fs.promises.realpath(root);
  const visited = new Set<string>([realRoot]);
  const displayBase = path.dirname(path.resolve(root));
  let lastReport = 0;

  /** `realDir`: where `dir` really is, so a link back to it or to a folder above it is seen as a loop. */
  const walk = async (dir: string, realDir: string, depth: number): Promise<void> => {
    if (opts.signal.aborted) return;
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(dir, { withFileTypes: true });
    } catch (err) {
      out.skipped.push({
        path: path.relative(displayBase, dir),
        reason: `folder could not be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const label = opts.folderLabels && depth > 0 ? path.basename(dir) : null;
    for (const e of entries) {
      if (e.name.startsWith('.') || IGNORED.has(e.name.toLowerCase())) continue;
      const full = path.join(dir, e.name);
      const display = path.relative(displayBase, full).split(path.sep).join('/');
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        let real: string;
        let st: fs.Stats;
        try {
          real = await fs.promises.realpath(full);
          st = await fs.promises.stat(real);
        } catch {
          out.skipped.push({ path: display, reason: 'broken symbolic link' });
          continue;
        }
        if (!isInside(realRoot, real)) {
          out.skipped.push({ path: display, reason: 'symbolic link to outside the picked folder (not followed)' });
          continue;
        }
        if (st.isDirectory()) {
          // A link to the folder it sits in (or one above) would walk that folder again under a
          // bogus label: the link's name.
          if (isInside(real, realDir)) {
            out.skipped.push({ path: display, reason: 'symbolic link to a folder it is inside (a loop; not followed)' });
            continue;
          }
          if (visited.has(real)) continue; // already reached through another link
          visited.add(real);
        }
        isDir = st.isDirectory();
        isFile = st.isFile();
        if (isDir) {
          await walk(full, real, depth + 1);
          continue;
        }
      }
      if (isDir) await walk(full, path.join(realDir, e.name), depth + 1);
      else if (isFile) {
        out.candidates.push({ file: full, display, label });
        if (out.candidates.length - lastReport >= 200) {
          lastReport = out.candidates.length;
          opts.onProgress(out.candidates.length);
        }
      } else {
        // A pipe, socket or device: reading it could block forever; say so rather than drop it silently.
        out.skipped.push({ path: display, reason: 'not a regular file (a pipe, socket or device)' });
      }
    }
  };
  await walk(root, realRoot, 0);
}
