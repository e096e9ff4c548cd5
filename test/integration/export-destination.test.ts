// An export touches nothing of the user's: next to `--out DIR` an existing DIR.zip, DIR.partial-<id>
// and DIR.failed stay as they were; the export writes only inside DIR and one zip whose name was
// free; staging is in the data folder (and is copied when DIR is on another file system); each
// path outside the data folder is on record before it exists.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dir, fx, useExportFixture } from './export/fixture.js';
import { exportRun } from '../../electron/core/export/bundle.js';
import { getExport } from '../../electron/core/export/store.js';

useExportFixture('export-dest-');

/** Every file under `root` with its content, to compare before and after. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rel of fs.readdirSync(root, { recursive: true }) as string[]) {
    const file = path.join(root, rel);
    out[rel] = fs.statSync(file).isDirectory() ? '<dir>' : fs.readFileSync(file, 'utf8');
  }
  return out;
}

const stagingLeft = () => {
  const exportsDir = path.join(fx.studio.paths.root, 'exports');
  return fs.existsSync(exportsDir) ? fs.readdirSync(exportsDir).filter((n) => n.startsWith('.partial')) : [];
};

const nextExportId = () => (fx.studio.db.prepare('SELECT COALESCE(MAX(id), 0) FROM exports').pluck().get() as number) + 1;

describe('export destination', () => {
  it('leaves DIR.zip, DIR.partial-<id> and DIR.failed alone, and zips to a free name', async () => {
    const parent = path.join(dir, 'user');
    fs.mkdirSync(parent);
    const out = path.join(parent, 'model');
    fs.writeFileSync(`${out}.zip`, 'the user zip');
    fs.writeFileSync(`${out} (2).zip`, 'another user zip');
    const id = nextExportId();
    for (const n of [id, id + 1]) {
      fs.mkdirSync(`${out}.partial-${n}`);
      fs.writeFileSync(path.join(`${out}.partial-${n}`, 'notes.txt'), `user notes ${n}`);
    }
    fs.mkdirSync(`${out}.failed`);
    fs.writeFileSync(path.join(`${out}.failed`, 'keep.txt'), 'user file');
    const before = snapshot(parent);

    // The destination is on record before it exists.
    let createdId = 0;
    let recordedAtZip: { dir: string | null; exists: boolean } | null = null;
    const result = await exportRun(
      { ...fx.studio.environment, db: fx.studio.db },
      {
        runId: fx.runId,
        parts: ['onnx'],
        outDir: out,
        onCreated: (eid) => (createdId = eid),
        onProgress: (phase) => {
          if (phase === 'zipping') recordedAtZip = { dir: getExport(fx.studio.db, createdId).dir, exists: fs.existsSync(out) };
        },
      },
    );
    expect(result.row.status).toBe('done');
    expect(result.row.dir).toBe(out);
    expect(result.row.zipPath).toBe(`${out} (3).zip`);
    expect(recordedAtZip).toEqual({ dir: out, exists: false });
    // Shipped: nothing of it stays on the sweep's ledger (the folder and zip are the user's now).
    expect(fx.studio.db.prepare('SELECT COUNT(*) FROM owned_paths').pluck().get()).toBe(0);
    const after = snapshot(parent);
    for (const [rel, content] of Object.entries(before)) expect(after[rel], rel).toBe(content);
    // Only DIR's contents and the one new zip are new.
    const added = Object.keys(after).filter((rel) => !(rel in before));
    expect(added.filter((rel) => rel !== 'model (3).zip' && !rel.startsWith(`model${path.sep}`) && rel !== 'model')).toEqual([]);
    expect(fs.readFileSync(`${out} (3).zip`).subarray(0, 2).toString()).toBe('PK');
    expect(fs.existsSync(path.join(out, 'model.onnx'))).toBe(true);
    // No staging left in the data folder either.
    expect(stagingLeft()).toEqual([]);
  }, 300_000);

  it('sweeps staging left in the data folder by an export that is no longer running, and only that', async () => {
    const exportsDir = path.join(fx.studio.paths.root, 'exports');
    fs.mkdirSync(path.join(exportsDir, '.partial-9999'), { recursive: true });
    fs.writeFileSync(path.join(exportsDir, '.partial-9999', 'model.onnx'), 'half');
    const running = Number(
      fx.studio.db
        .prepare("INSERT INTO exports (run_id, format, parts, status, host_pid) VALUES (?, 'onnx', '[]', 'running', ?)")
        .run(fx.runId, process.pid).lastInsertRowid,
    );
    fs.mkdirSync(path.join(exportsDir, `.partial-${running}`));
    fs.mkdirSync(path.join(exportsDir, 'mine.partial-1'));
    const result = await exportRun({ ...fx.studio.environment, db: fx.studio.db }, { runId: fx.runId, parts: ['onnx'] });
    expect(result.row.status).toBe('done');
    expect(fs.existsSync(path.join(exportsDir, '.partial-9999'))).toBe(false);
    expect(fs.existsSync(path.join(exportsDir, `.partial-${running}`))).toBe(true);
    expect(fs.existsSync(path.join(exportsDir, 'mine.partial-1'))).toBe(true);
    fx.studio.db.prepare("UPDATE exports SET status = 'cancelled' WHERE id = ?").run(running);
    fs.rmSync(path.join(exportsDir, `.partial-${running}`), { recursive: true });
    fs.rmSync(path.join(exportsDir, 'mine.partial-1'), { recursive: true });
  }, 300_000);

  it('refuses a DIR that is not empty, and creates nothing', async () => {
    const out = path.join(dir, 'full');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'mine.txt'), 'mine');
    await expect(
      exportRun({ ...fx.studio.environment, db: fx.studio.db }, { runId: fx.runId, parts: ['onnx'], outDir: out }),
    ).rejects.toThrow(/not empty/);
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('full'))).toEqual(['full']);
    expect(fs.readdirSync(out)).toEqual(['mine.txt']);
  });

  it('exports to a folder on another file system (staging is copied, not renamed)', async (ctx) => {
    const shm = '/dev/shm';
    if (!fs.existsSync(shm) || fs.statSync(shm).dev === fs.statSync(dir).dev) return ctx.skip('no second file system (/dev/shm) here');
    const parent = fs.mkdtempSync(path.join(shm, 'export-dest-'));
    try {
      const out = path.join(parent, 'elsewhere');
      const result = await exportRun({ ...fx.studio.environment, db: fx.studio.db }, { runId: fx.runId, parts: ['onnx'], outDir: out });
      expect(result.row.status).toBe('done');
      expect(fs.existsSync(path.join(out, 'model.onnx'))).toBe(true);
      expect(fs.existsSync(path.join(out, 'manifest.json'))).toBe(true);
      expect(result.row.zipPath).toBe(`${out}.zip`);
      expect(stagingLeft()).toEqual([]);
    } finally {
      fs.rmSync(parent, { recursive: true, force: true });
    }
  }, 300_000);
});
