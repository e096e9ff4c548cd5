// An import that stops part way: its project deleted under it (by this app or another process),
// or cancelled. Either way no half-written file or orphan row remains.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { ImportReport } from '../../../electron/shared/schemas.js';
import { createRun } from '../../../electron/core/training/runs.js';
import { defaultConfig } from '../../../electron/core/engine/config.js';
import { createExport, recordExportPath } from '../../../electron/core/export/store.js';
import { CLIPART } from '../../fixtures/datasets.js';
import { importPaths, newProject, rowsWithoutFiles, studio, tmp, tmpFilesUnder } from './fixture.js';

describe('deleting a project during an import into it', () => {
  /** Resolves once the project's import has stored `n` files. */
  const importedSome = (projectId: number, n = 20) =>
    new Promise<void>((resolve) => {
      const off = studio.bus.subscribe((name, payload) => {
        const p = payload as { projectId?: number; phase?: string; done?: number };
        if (name !== 'job.progress' || p.projectId !== projectId || p.phase !== 'importing' || (p.done ?? 0) < n) return;
        off();
        resolve();
      });
    });

  it('the delete answers ok; the import stops with a clear message and leaves no files or rows behind', async () => {
    const projectId = await newProject('doomed');
    const token = studio.sources.register({ paths: [CLIPART], displayName: 'clipart-8' });
    const finished = new Promise<{ report: ImportReport }>((resolve) => {
      const off = studio.bus.subscribe((name, payload) => {
        if (name !== 'import.finished' || (payload as { projectId: number }).projectId !== projectId) return;
        off();
        resolve(payload as { report: ImportReport });
      });
    });
    const some = importedSome(projectId);
    await studio.call('import.start', { projectId, source: token, folderLabels: true });
    await some;
    await expect(studio.call('projects.delete', { projectId })).resolves.toEqual({ ok: true });
    const { report } = await finished;
    expect(report.cancelled).toBe(true);
    expect(report.skipped.map((s) => s.reason).join('\n')).toMatch(/project was deleted during the import/);
    expect(report.skipped.map((s) => s.reason).join('\n')).not.toMatch(/FOREIGN KEY/);
    expect(fs.existsSync(studio.paths.project(projectId))).toBe(false);
    expect(studio.db.prepare('SELECT COUNT(*) FROM images WHERE project_id = ?').pluck().get(projectId)).toBe(0);
  });

  it('deleted by another process: the import notices, stops with the same message and removes what it stored', async () => {
    const projectId = await newProject('doomed elsewhere');
    const some = importedSome(projectId);
    const importing = importPaths(projectId, [CLIPART]);
    await some;
    const other = new Database(studio.paths.database);
    other.pragma('foreign_keys = ON');
    other.pragma('busy_timeout = 5000');
    other.prepare('DELETE FROM projects WHERE id = ?').run(projectId);
    other.close();
    await expect(importing).rejects.toThrow(/project was deleted during the import/);
    expect(fs.existsSync(studio.paths.project(projectId))).toBe(false);
  });

  it("removes the deleted project's export folders in the data folder, and leaves exports the user put elsewhere", async () => {
    const projectId = await newProject('exported');
    const runId = createRun(studio.db, projectId, 'mobilenet_v2', defaultConfig('head', {}));
    const inside = path.join(studio.paths.root, 'exports', `run-${runId}-export-1`);
    const outside = path.join(tmp, 'users-export');
    for (const [dir, zip] of [
      [inside, `${inside}.zip`],
      [outside, `${outside}.zip`],
    ] as const) {
      const exportId = createExport(studio.db, runId, 'onnx', ['onnx'], false);
      recordExportPath(studio.db, exportId, 'dir', dir);
      recordExportPath(studio.db, exportId, 'zip', zip);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'model.onnx'), 'x');
      fs.writeFileSync(zip, 'PK');
    }
    await studio.call('projects.delete', { projectId });
    expect(fs.existsSync(inside)).toBe(false);
    expect(fs.existsSync(`${inside}.zip`)).toBe(false);
    expect(fs.existsSync(path.join(outside, 'model.onnx'))).toBe(true);
    expect(fs.existsSync(`${outside}.zip`)).toBe(true);
    expect(studio.db.prepare('SELECT COUNT(*) FROM exports WHERE run_id = ?').pluck().get(runId)).toBe(0);
  });
});

describe('cancel', () => {
  it('stops promptly mid-import; every row that exists has its files, and nothing half-written remains', async () => {
    const projectId = await newProject('cancel');
    const token = studio.sources.register({ paths: [CLIPART], displayName: 'clipart-8' });
    const finished = new Promise<ImportReport>((resolve) => {
      const off = studio.bus.subscribe((name, payload) => {
        if (name === 'import.finished') {
          off();
          resolve((payload as { report: ImportReport }).report);
        }
      });
    });
    let cancelled = false;
    let cancelledAt = 0;
    const off = studio.bus.subscribe((name, payload) => {
      const p = payload as { phase?: string; done?: number; jobId?: string };
      if (name === 'job.progress' && p.phase === 'importing' && (p.done ?? 0) >= 40 && !cancelled) {
        cancelled = true;
        cancelledAt = Date.now();
        void studio.call('import.cancel', { jobId: p.jobId! });
      }
    });
    const { jobId } = await studio.call('import.start', { projectId, source: token, folderLabels: true });
    const report = await finished;
    const stopMs = Date.now() - cancelledAt;
    off();
    expect(stopMs).toBeLessThan(2000); // only the files in flight finish
    expect(report.jobId).toBe(jobId);
    expect(report.cancelled).toBe(true);
    expect(report.imported).toBeGreaterThanOrEqual(40);
    expect(report.imported).toBeLessThan(528);
    const total = (await studio.call('labels.counts', { projectId })).total;
    expect(total).toBe(report.imported);
    expect(rowsWithoutFiles(projectId)).toEqual([]);
    expect(tmpFilesUnder(studio.paths.project(projectId))).toEqual([]);
    expect(await studio.call('jobs.active', {})).toEqual([]);
    // The rest arrives on a second import; nothing already there is duplicated.
    const rest = await importPaths(projectId, [CLIPART]);
    expect(rest.imported + rest.duplicates).toBe(528);
    expect(rest.imported).toBe(528 - report.imported);
  });
});
