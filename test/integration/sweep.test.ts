// The start-up sweep on a real data folder: debris of every kind the app makes is removed, and
// nothing it did not make — a user's file beside or inside an export folder, a stray file in the
// data folder, an image that has its row — is touched.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Studio } from '../../electron/core/studio.js';
import { testEnvironment } from '../fixtures/environment.js';
import { insertImage } from '../../electron/core/library/images.js';
import { claimPath, markCreated } from '../../electron/core/storage/ledger.js';
import { RESERVE_NAME } from '../../electron/core/storage/reserve.js';

let tmp: string;
let data: string;
const shaA = 'ab'.repeat(32); // has a row
const shaB = 'cd'.repeat(32); // orphan
/** A process id that is certainly gone: a child that has exited. */
const deadPid = spawnSync(process.execPath, ['-e', '0']).pid!;

function put(file: string, text = 'x', ageMs = 0): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  if (ageMs) {
    const t = new Date(Date.now() - ageMs);
    fs.utimesSync(file, t, t);
  }
  return file;
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-sweep-'));
  data = path.join(tmp, 'data');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('start-up sweep', () => {
  it('removes every kind of our debris and nothing else', async () => {
    const HOUR = 3600_000;
    let studio = new Studio({ environment: testEnvironment(data), host: 'cli' });
    const p = await studio.call('projects.create', { name: 'P' });
    const proj = path.join(data, 'projects', String(p.id));
    const db = studio.db;
    db.transaction(() =>
      insertImage(db, {
        projectId: p.id,
        sha256: shaA,
        bytes: 1,
        width: 1,
        height: 1,
        format: 'png',
        originalName: 'a.png',
        labelId: null,
      }),
    )();
    // A run that exists (its folder stays) and an export of it killed half-way into a user's folder.
    const runId = Number(
      db.prepare("INSERT INTO runs (project_id, base_id, strategy, config, status) VALUES (?, 'b', 'head', '{}', 'done')").run(p.id)
        .lastInsertRowid,
    );
    const exportId = Number(
      db
        .prepare("INSERT INTO exports (run_id, format, parts, status, host_pid) VALUES (?, 'bundle', '[]', 'running', ?)")
        .run(runId, deadPid).lastInsertRowid,
    );
    const userDir = path.join(tmp, 'user');
    const dest = path.join(userDir, 'model');
    const onRecord = (file: string, kind: 'file' | 'dir' | 'tree', make: () => void) => {
      const id = claimPath(db, 'export', exportId, file, kind);
      make();
      markCreated(db, id);
    };
    onRecord(dest, 'dir', () => fs.mkdirSync(dest, { recursive: true }));
    onRecord(path.join(dest, 'tfjs'), 'tree', () => put(path.join(dest, 'tfjs', 'model.json')));
    onRecord(path.join(dest, 'labels.json'), 'tree', () => put(path.join(dest, 'labels.json')));
    onRecord(`${dest}.zip`, 'file', () => put(`${dest}.zip`));
    // On record but never created by us (we "died" before): a user's file took the name.
    claimPath(db, 'export', exportId, `${dest} (2).zip`, 'file');
    const theirs = [
      put(`${dest} (2).zip`, 'user zip'),
      put(path.join(userDir, 'model.partial-1', 'keep.txt'), 'user'),
      put(path.join(userDir, 'notes.txt'), 'user'),
      put(path.join(data, 'notes.txt'), 'user'),
      put(path.join(data, 'exports', 'my-stuff.txt'), 'user'),
      put(path.join(proj, 'store', 'readme.txt'), 'user'),
      put(path.join(proj, 'store', 'ab', `${shaA}.png`), 'png', 2 * HOUR), // has its row
      put(path.join(proj, 'thumbs', 'ab', `${shaA}.webp`), 'webp', 2 * HOUR),
      put(path.join(proj, 'runs', String(runId), 'model', 'model.json')), // a run that exists
      put(path.join(proj, 'store', 'cd', `${shaB}.png`), 'fresh orphan'), // too young: an import may be about to insert it
      put(path.join(proj, 'store', 'ab', `.${process.ppid}-00ff-1.tmp`)), // a live process's temporary
      put(path.join(proj, 'store', 'ab', 'notes.tmp')), // a .tmp we do not name this way
    ];
    const ours = [
      put(path.join(proj, 'store', 'ab', `.${deadPid}-00ff-3.tmp`)),
      put(path.join(proj, 'thumbs', 'cd', `${shaB}.webp`), 'orphan', 2 * HOUR),
      put(path.join(proj, 'previews', 'cd', `${shaB}.webp`), 'orphan', 2 * HOUR),
      put(path.join(data, 'cache', 'features', '12', `1234.f16.${deadPid}.tmp`)),
      put(path.join(data, 'projects', '999', 'store', 'aa', 'x.png')),
      put(path.join(proj, 'runs', '4242', 'model', 'model.json')),
      put(path.join(data, 'exports', `.partial-${exportId}`, 'model.onnx')),
      put(path.join(data, 'exports', 'run-9-export-777', 'labels.json')),
      put(path.join(data, 'exports', 'run-9-export-777 (2).zip')),
      put(path.join(data, 'staging', 'abcdefabcdefabcdef', 'a.png'), 'x'),
      put(path.join(data, 'dataset-exports', '0123456789abcdef', 'P-dataset', 'a.png')),
      dest,
      `${dest}.zip`,
    ];
    for (const old of [path.join(data, 'staging', 'abcdefabcdefabcdef'), path.join(data, 'dataset-exports', '0123456789abcdef')]) {
      const t = new Date(Date.now() - 25 * HOUR);
      fs.utimesSync(old, t, t);
    }
    studio.close();

    const log: string[] = [];
    const started = Date.now();
    studio = new Studio({ environment: testEnvironment(data), host: 'web', sweepAtStart: true, log: (l) => log.push(l) });
    const ms = Date.now() - started;
    try {
      for (const f of ours) expect(fs.existsSync(f), `${f} should be gone`).toBe(false);
      for (const f of theirs) expect(fs.existsSync(f), `${f} should stay`).toBe(true);
      expect(fs.readFileSync(`${dest} (2).zip`, 'utf8')).toBe('user zip');
      // The ledger is empty afterwards, the export is on record as interrupted, and the log says what went.
      expect(studio.db.prepare('SELECT COUNT(*) FROM owned_paths').pluck().get()).toBe(0);
      expect(studio.db.prepare('SELECT status FROM exports WHERE id = ?').pluck().get(exportId)).toBe('interrupted');
      expect(log.at(-1)).toMatch(/^start-up sweep: \d+ removed/);
      expect(log.some((l) => l.includes(`removed deleted run: projects/${p.id}/runs/4242`))).toBe(true);
      expect(fs.statSync(path.join(data, RESERVE_NAME)).size).toBe(16 * 1024 * 1024);
      console.log(`sweep at start: ${ms} ms for the whole Studio start, ${log.length} log lines`);
    } finally {
      studio.close();
    }
  });

  it('leaves a folder on record that someone put a file into, and the entries of a running export', async () => {
    const studio = new Studio({ environment: testEnvironment(data), host: 'cli' });
    const db = studio.db;
    const p = await studio.call('projects.create', { name: 'Q' });
    const runId = Number(
      db.prepare("INSERT INTO runs (project_id, base_id, strategy, config, status) VALUES (?, 'b', 'head', '{}', 'done')").run(p.id)
        .lastInsertRowid,
    );
    const mk = (status: string) =>
      Number(
        db
          .prepare("INSERT INTO exports (run_id, format, parts, status, host_pid) VALUES (?, 'bundle', '[]', ?, ?)")
          .run(runId, status, process.ppid).lastInsertRowid,
      );
    const stopped = mk('failed');
    const running = mk('running'); // its host (our parent process) is alive
    const a = path.join(tmp, 'a');
    const b = path.join(tmp, 'b');
    for (const [dir, id] of [
      [a, stopped],
      [b, running],
    ] as const) {
      markCreated(db, claimPath(db, 'export', id, dir, 'dir'));
      fs.mkdirSync(dir);
      markCreated(db, claimPath(db, 'export', id, path.join(dir, 'model.onnx'), 'tree'));
      put(path.join(dir, 'model.onnx'));
    }
    put(path.join(a, 'mine.txt'), 'user');
    const { sweepDebris } = await import('../../electron/core/storage/sweep.js');
    const report = sweepDebris(db, studio.paths);
    try {
      expect(fs.existsSync(path.join(a, 'model.onnx'))).toBe(false);
      expect(fs.readFileSync(path.join(a, 'mine.txt'), 'utf8')).toBe('user');
      expect(report.kept).toContainEqual({ path: a, reason: 'the folder is not empty' });
      expect(fs.existsSync(path.join(b, 'model.onnx'))).toBe(true);
      expect(db.prepare('SELECT COUNT(*) FROM owned_paths WHERE owner_id = ?').pluck().get(running)).toBe(2);
    } finally {
      studio.close();
    }
  });
});
