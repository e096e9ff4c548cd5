// Deleting runs and exports to free space. Rows go first, in one transaction; files follow (a
// file left by a crash in between is debris the start-up sweep removes). Only files in the data
// folder are deleted: an export saved to a folder the user chose is the user's copy — it may be
// deployed — so deleting its record leaves it where it is, and the answer names it. Ledger
// entries of a half-made export stay: the sweep removes them once their export is gone.
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../db/connection.js';
import type { DataPaths } from '../paths.js';
import { StudioError } from '../../shared/contract.js';
import { insideData, treeBytes } from './usage.js';

interface ExportFiles {
  id: number;
  status: string;
  dir: string | null;
  zip_path: string | null;
}

/** Removes the files of deleted exports that live in the data folder; returns bytes freed and folders kept. */
function removeExportFiles(paths: DataPaths, rows: ExportFiles[]): { freed: number; kept: string[] } {
  let freed = 0;
  const kept: string[] = [];
  for (const r of rows) {
    for (const p of [r.dir, r.zip_path]) {
      if (!p) continue;
      if (!insideData(paths, 'exports', p)) {
        if (p === r.dir && fs.existsSync(p)) kept.push(path.basename(p));
        continue;
      }
      freed += treeBytes(p);
      fs.rmSync(p, { recursive: true, force: true, maxRetries: 2 });
    }
    fs.rmSync(path.join(paths.root, 'exports', `.partial-${r.id}`), { recursive: true, force: true });
  }
  return { freed, kept };
}

export function deleteRun(
  db: Db,
  paths: DataPaths,
  runId: number,
): { freedBytes: number; exportsDeleted: number; exportFoldersKept: string[] } {
  const { exports, projectId } = db.transaction(() => {
    const run = db.prepare('SELECT project_id, status FROM runs WHERE id = ?').get(runId) as
      { project_id: number; status: string } | undefined;
    if (!run) throw new StudioError('not_found', `There is no run ${runId}.`);
    if (run.status === 'queued' || run.status === 'running')
      throw new StudioError('conflict', `Run ${runId} is still training; cancel it first, then delete it.`);
    const rows = db.prepare('SELECT id, status, dir, zip_path FROM exports WHERE run_id = ?').all(runId) as ExportFiles[];
    if (rows.some((r) => r.status === 'running'))
      throw new StudioError('conflict', `An export of run ${runId} is running; cancel it or let it finish, then delete the run.`);
    // Epochs, predictions and export records cascade.
    db.prepare('DELETE FROM runs WHERE id = ?').run(runId);
    return { exports: rows, projectId: run.project_id };
  })();
  const runDir = path.join(paths.project(projectId), 'runs', String(runId));
  let freed = treeBytes(runDir);
  fs.rmSync(runDir, { recursive: true, force: true, maxRetries: 2 });
  const files = removeExportFiles(paths, exports);
  freed += files.freed;
  return { freedBytes: freed, exportsDeleted: exports.length, exportFoldersKept: files.kept };
}

export function deleteExport(db: Db, paths: DataPaths, exportId: number): { freedBytes: number; folderKept: string | null } {
  const row = db.transaction(() => {
    const r = db.prepare('SELECT id, status, dir, zip_path FROM exports WHERE id = ?').get(exportId) as ExportFiles | undefined;
    if (!r) throw new StudioError('not_found', `There is no export ${exportId}.`);
    if (r.status === 'running') throw new StudioError('conflict', `Export ${exportId} is still running; cancel it first, then delete it.`);
    db.prepare('DELETE FROM exports WHERE id = ?').run(exportId);
    return r;
  })();
  const files = removeExportFiles(paths, [row]);
  return { freedBytes: files.freed, folderKept: files.kept[0] ?? null };
}
