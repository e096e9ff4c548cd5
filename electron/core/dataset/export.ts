// Copies a project's stored originals out of the app in the layout the importer reads:
//   folders: DIR/<label>/<file>, unlabeled images directly in DIR (import with folder labels);
//   csv:     DIR/labels.csv (path,label,split) and DIR/images/<file>.
// Files are written with exclusive creation, so nothing that already exists is ever replaced,
// and every name is checked to stay inside DIR.
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../db/connection.js';
import type { DataPaths } from '../paths.js';
import { StudioError } from '../../shared/contract.js';
import { exportFileName, safeSegment, UniqueNames } from './safe-names.js';

export interface DatasetExportOptions {
  projectId: number;
  format: 'folders' | 'csv';
  includeUnlabeled: boolean;
  includeExcluded: boolean;
  signal: AbortSignal;
  progress: (phase: string, done: number, total: number) => void;
}

export interface DatasetExportSummary {
  images: number;
  bytes: number;
  labels: number;
  unlabeled: number;
  excluded: number;
}

interface Row {
  sha256: string;
  format: string;
  original_name: string;
  status: string;
  split: string | null;
  label: string | null;
}

export const CSV_NAME = 'labels.csv';

/** Refuses a folder that already has something in it; creates it (and its parents) otherwise. */
export function prepareOutputFolder(dir: string): void {
  let entries: string[];
  try {
    if (!fs.statSync(dir).isDirectory()) throw new StudioError('conflict', `${dir} is a file, not a folder; choose a new or empty folder.`);
    entries = fs.readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    fs.mkdirSync(dir, { recursive: true });
    return;
  }
  if (entries.length > 0)
    throw new StudioError('conflict', `${dir} is not empty; the export never writes over files. Choose a new or empty folder.`);
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

export async function exportDataset(db: Db, paths: DataPaths, outDir: string, o: DatasetExportOptions): Promise<DatasetExportSummary> {
  const rows = db
    .prepare(
      `SELECT i.sha256, i.format, i.original_name, i.status, i.split, l.name AS label
       FROM images i LEFT JOIN labels l ON l.id = i.label_id
       WHERE i.project_id = ? ORDER BY i.id`,
    )
    .all(o.projectId) as Row[];
  const chosen = rows.filter((r) => (o.includeUnlabeled || r.label !== null) && (o.includeExcluded || r.status !== 'excluded'));
  const root = path.resolve(outDir);
  const inside = (p: string) => {
    const rel = path.relative(root, p);
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) throw new Error(`Refusing to write outside the export folder: ${p}`);
    return p;
  };

  // Folder and file names are decided up front, so a label folder never collides with a file at the root.
  const rootNames = new UniqueNames();
  const labelDirs = new Map<string, { dir: string; names: UniqueNames }>();
  const flat = new UniqueNames();
  if (o.format === 'csv') rootNames.claim(CSV_NAME);
  const imagesDir = o.format === 'csv' ? rootNames.claim('images') : '';
  const plan = chosen.map((r, i) => {
    const fileName = exportFileName(r.original_name, r.format, `image-${i + 1}`);
    let rel: string;
    if (o.format === 'csv') rel = path.join(imagesDir, flat.claim(fileName));
    else if (r.label === null) rel = rootNames.claim(fileName);
    else {
      let d = labelDirs.get(r.label);
      if (!d) {
        d = { dir: rootNames.claim(safeSegment(r.label, 'label')), names: new UniqueNames() };
        labelDirs.set(r.label, d);
      }
      rel = path.join(d.dir, d.names.claim(fileName));
    }
    return { row: r, rel };
  });

  let bytes = 0;
  const made = new Set<string>();
  o.progress('copying', 0, plan.length);
  for (const [i, { row, rel }] of plan.entries()) {
    if (o.signal.aborted) throw new StudioError('cancelled', 'The dataset export was cancelled.');
    const dst = inside(path.join(root, rel));
    const parent = path.dirname(dst);
    if (!made.has(parent)) {
      fs.mkdirSync(parent, { recursive: true });
      made.add(parent);
    }
    const src = paths.stored(o.projectId, row.sha256, row.format);
    try {
      await fs.promises.copyFile(src, dst, fs.constants.COPYFILE_EXCL);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST')
        throw new StudioError('conflict', `${rel} appeared in the export folder while exporting; nothing was overwritten.`);
      if (code === 'ENOENT' && !fs.existsSync(src))
        throw new StudioError('not_found', `The stored copy of ${row.original_name} is missing.`);
      throw err;
    }
    bytes += fs.statSync(dst).size;
    o.progress('copying', i + 1, plan.length);
  }

  if (o.format === 'csv') {
    const lines = [
      'path,label,split',
      ...plan.map(({ row, rel }) => [rel.split(path.sep).join('/'), row.label ?? '', row.split ?? ''].map(csvField).join(',')),
    ];
    await fs.promises.writeFile(inside(path.join(root, CSV_NAME)), `${lines.join('\n')}\n`, { flag: 'wx' });
  }
  return {
    images: plan.length,
    bytes,
    labels: new Set(chosen.map((r) => r.label).filter((l) => l !== null)).size,
    unlabeled: chosen.filter((r) => r.label === null).length,
    excluded: chosen.filter((r) => r.status === 'excluded').length,
  };
}
