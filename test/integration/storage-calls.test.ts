// Freeing space on purpose: storage.project counts a project's bytes; runs.delete and
// exports.delete remove rows and the files in the data folder, and leave exports saved to a
// folder the user chose where they are.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Studio } from '../../electron/core/studio.js';
import { testEnvironment } from '../fixtures/environment.js';
import { insertImage } from '../../electron/core/library/images.js';
import { runStudio, lastJson } from '../fixtures/cli.js';

let tmp: string;
let studio: Studio;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-storage-'));
  studio = new Studio({ environment: testEnvironment(path.join(tmp, 'data')), host: 'cli' });
});
afterAll(() => {
  studio.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function put(file: string, bytes: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, Buffer.alloc(bytes));
}

function makeRun(projectId: number, status = 'done'): number {
  return Number(
    studio.db
      .prepare("INSERT INTO runs (project_id, base_id, strategy, config, status) VALUES (?, 'b', 'head', '{}', ?)")
      .run(projectId, status).lastInsertRowid,
  );
}

function makeExport(runId: number, dir: string, zip: string | null, status = 'done'): number {
  return Number(
    studio.db
      .prepare("INSERT INTO exports (run_id, format, parts, status, dir, zip_path) VALUES (?, 'bundle', '[]', ?, ?, ?)")
      .run(runId, status, dir, zip).lastInsertRowid,
  );
}

describe('storage calls', () => {
  it('counts a project, deletes a run with its data-folder exports and keeps the user-chosen one', async () => {
    const p = await studio.call('projects.create', { name: 'S' });
    const db = studio.db;
    db.transaction(() =>
      insertImage(db, {
        projectId: p.id,
        sha256: 'ab'.repeat(32),
        bytes: 5000,
        width: 1,
        height: 1,
        format: 'png',
        originalName: 'a.png',
        labelId: null,
      }),
    )();
    const proj = studio.paths.project(p.id);
    put(path.join(proj, 'thumbs', 'ab', `${'ab'.repeat(32)}.webp`), 300);
    const runId = makeRun(p.id);
    put(path.join(proj, 'runs', String(runId), 'model', 'weights.bin'), 7000);
    const inData = path.join(studio.paths.root, 'exports', `run-${runId}-export-1`);
    put(path.join(inData, 'model.onnx'), 2000);
    put(`${inData}.zip`, 1000);
    const chosen = path.join(tmp, 'my-model');
    put(path.join(chosen, 'model.onnx'), 2000);
    put(`${chosen}.zip`, 1000);
    makeExport(runId, inData, `${inData}.zip`);
    makeExport(runId, chosen, `${chosen}.zip`);

    const usage = await studio.call('storage.project', { projectId: p.id });
    expect(usage).toMatchObject({ images: 5000, thumbnails: 300, runs: 7000, exports: 3000, total: 15_300 });
    expect(usage.freeBytes).toBeGreaterThan(0);

    const out = await studio.call('runs.delete', { runId });
    expect(out).toEqual({ ok: true, freedBytes: 10_000, exportsDeleted: 2, exportFoldersKept: ['my-model'] });
    expect(fs.existsSync(path.join(proj, 'runs', String(runId)))).toBe(false);
    expect(fs.existsSync(inData) || fs.existsSync(`${inData}.zip`)).toBe(false);
    expect(fs.existsSync(path.join(chosen, 'model.onnx')) && fs.existsSync(`${chosen}.zip`)).toBe(true);
    expect(db.prepare('SELECT COUNT(*) FROM exports WHERE run_id = ?').pluck().get(runId)).toBe(0);
    await expect(studio.call('runs.get', { runId })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('refuses to delete a run that trains or an export that runs, and deletes one export alone', async () => {
    const p = await studio.call('projects.create', { name: 'T' });
    const training = makeRun(p.id, 'running');
    await expect(studio.call('runs.delete', { runId: training })).rejects.toMatchObject({ code: 'conflict' });
    const runId = makeRun(p.id);
    const running = makeExport(runId, path.join(tmp, 'x'), null, 'running');
    await expect(studio.call('runs.delete', { runId })).rejects.toMatchObject({ code: 'conflict' });
    await expect(studio.call('exports.delete', { exportId: running })).rejects.toMatchObject({ code: 'conflict' });
    const dir = path.join(studio.paths.root, 'exports', `run-${runId}-export-9`);
    put(path.join(dir, 'labels.json'), 10);
    const done = makeExport(runId, dir, null);
    expect(await studio.call('exports.delete', { exportId: done })).toEqual({ ok: true, freedBytes: 10, folderKept: null });
    expect(fs.existsSync(dir)).toBe(false);
    await expect(studio.call('exports.delete', { exportId: done })).rejects.toMatchObject({ code: 'not_found' });
    await expect(studio.call('runs.delete', { runId: 999_999 })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('studio runs delete RUN and studio storage PROJECT speak the same calls', async () => {
    const p = await studio.call('projects.create', { name: 'CLI' });
    const runId = makeRun(p.id);
    put(path.join(studio.paths.project(p.id), 'runs', String(runId), 'model', 'weights.bin'), 4096);
    const data = studio.paths.root;
    const usage = await runStudio(['--data-dir', data, 'storage', 'CLI', '--json'], { cwd: tmp });
    expect(usage.code).toBe(0);
    expect(lastJson(usage.stdout)).toMatchObject({ projectId: p.id, runs: 4096 });
    const del = await runStudio(['--data-dir', data, 'runs', 'delete', String(runId), '--json'], { cwd: tmp });
    expect(del.code).toBe(0);
    expect(lastJson(del.stdout)).toEqual({ ok: true, freedBytes: 4096, exportsDeleted: 0, exportFoldersKept: [] });
  });
});
