// One format alone, and the export calls as the app makes them: a job with progress and a
// history, "Save to folder…" into a new folder of the chosen one, and Cancel.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { createExportCtx, exportHandlers, type ExportCtx } from '../../../electron/core/export/handlers.js';
import type { ExportEventName } from '../../../electron/shared/contract-export.js';
import { dir, fx, runExport, verify } from './fixture.js';

describe('other formats', () => {
  it('--format onnx writes the ONNX model alone and checks it through the Node example code', async () => {
    const r = await runExport(String(fx.runId), '--format', 'onnx', '--out', path.join(dir, 'onnx-only'));
    expect(r.code, r.lines.join('\n')).toBe(0);
    const paths = (r.last.files as { path: string }[]).map((f) => f.path).sort();
    expect(paths).toEqual(['README.md', 'labels.json', 'model.onnx', 'signature.json']);
    expect(r.last.parity).toMatchObject({ agreement: 1 });
    expect(verify(path.join(dir, 'onnx-only')).code).toBe(0);
  });

  it('exports.start (tfjs only) runs as a job, emits export.finished, and exports.list shows the history', async () => {
    const events: { name: ExportEventName; payload: unknown }[] = [];
    const ctx: ExportCtx = createExportCtx({
      ...fx.studio.environment,
      db: fx.studio.db,
      emit: (name, payload) => events.push({ name, payload }),
    });
    const { jobId } = await exportHandlers['exports.start'](ctx, { runId: fx.runId, formats: ['tfjs'], quantize: false });
    await ctx.jobs.settled();
    const finished = events.find((e) => e.name === 'export.finished')!.payload as {
      jobId: string;
      status: string;
      export: { format: string; parts: string[]; agreement: number };
    };
    expect(finished).toMatchObject({ jobId, status: 'done', export: { format: 'tfjs', parts: ['tfjs'], agreement: 1 } });
    // Progress is a fraction of the whole that only grows, with words for what the check is doing.
    const ticks = events
      .filter((e) => e.name === 'export.progress')
      .map((e) => e.payload as { fraction: number; etaMs: number | null; detail: string | null });
    expect(ticks.length).toBeGreaterThan(3);
    ticks.forEach((t, i) => i > 0 && expect(t.fraction).toBeGreaterThanOrEqual(ticks[i - 1]!.fraction));
    expect(ticks.at(-1)).toMatchObject({ fraction: 1, etaMs: 0 });
    expect(ticks.some((t) => /checking the model for websites: \d+ of \d+ test pictures/.test(t.detail ?? ''))).toBe(true);
    const list = await exportHandlers['exports.list'](ctx, { runId: fx.runId });
    expect(list.length).toBeGreaterThanOrEqual(3);
    expect(list[0]!.format).toBe('tfjs');
    expect(list.every((e) => e.status === 'done')).toBe(true);
    expect(() => exportHandlers['exports.reveal'](ctx, { exportId: list[0]!.id })).toThrow(/desktop app only/);
    const revealed: string[] = [];
    exportHandlers['exports.reveal']({ ...ctx, reveal: (p) => revealed.push(p) }, { exportId: list[0]!.id });
    expect(revealed[0]).toMatch(/run-\d+-export-\d+$/);
  });

  it('"Save to folder…" exports into a new folder inside the chosen one and touches nothing already there', async () => {
    const chosen = fs.mkdtempSync(path.join(dir, 'chosen-'));
    fs.writeFileSync(path.join(chosen, 'notes.txt'), 'mine');
    const events: { name: ExportEventName; payload: unknown }[] = [];
    const ctx: ExportCtx = createExportCtx({
      ...fx.studio.environment,
      db: fx.studio.db,
      sources: fx.studio.sources,
      emit: (name, payload) => events.push({ name, payload }),
    });
    await expect(exportHandlers['exports.pickFolder'](ctx, { runId: fx.runId })).rejects.toThrow(/desktop app/);
    const picking = { ...ctx, pickFolder: async () => chosen };
    const first = (await exportHandlers['exports.pickFolder'](picking, { runId: fx.runId }))!;
    // The name the first pick would use is now somebody's folder: the export takes the next free name.
    fs.mkdirSync(path.join(chosen, first.folderName));
    fs.writeFileSync(path.join(chosen, first.folderName, 'theirs.txt'), 'theirs');
    const picked = (await exportHandlers['exports.pickFolder'](picking, { runId: fx.runId }))!;
    expect(picked.folderName).toBe(`${first.folderName} (2)`);
    expect(picked.chosenName).toBe(path.basename(chosen));
    await exportHandlers['exports.start'](ctx, { runId: fx.runId, formats: ['onnx'], quantize: false, destination: picked.destination });
    await ctx.jobs.settled();
    const finished = events.find((e) => e.name === 'export.finished')!.payload as { status: string; message: string | null };
    expect(finished.status, finished.message ?? '').toBe('done');
    expect(fs.readdirSync(chosen).sort()).toEqual([first.folderName, picked.folderName, `${picked.folderName}.zip`, 'notes.txt'].sort());
    expect(fs.readFileSync(path.join(chosen, 'notes.txt'), 'utf8')).toBe('mine');
    expect(fs.readdirSync(path.join(chosen, first.folderName))).toEqual(['theirs.txt']);
    expect(fs.existsSync(path.join(chosen, picked.folderName, 'model.onnx'))).toBe(true);
    // A cancelled dialog starts nothing.
    expect(await exportHandlers['exports.pickFolder']({ ...ctx, pickFolder: async () => null }, { runId: fx.runId })).toBeNull();
  });

  it('a Cancel that arrives as I/O while the parity pass keeps the process busy stops the export', async () => {
    const events: { name: ExportEventName; payload: unknown }[] = [];
    let jobId = '';
    let asked = false;
    const ctx: ExportCtx = createExportCtx({
      ...fx.studio.environment,
      db: fx.studio.db,
      emit: (name, payload) => {
        events.push({ name, payload });
        // A macrotask, like a WebSocket message: it runs only when the export yields to the event
        // loop. Once: a second Cancel after the export has stopped would rightly be refused.
        if (name === 'export.progress' && (payload as { phase: string }).phase === 'checking parity' && !asked) {
          asked = true;
          setTimeout(() => ctx.jobs.cancel(jobId), 0);
        }
      },
    });
    ({ jobId } = await exportHandlers['exports.start'](ctx, { runId: fx.runId, formats: ['tfjs'], quantize: false }));
    await ctx.jobs.settled();
    const finished = events.find((e) => e.name === 'export.finished')!.payload as { status: string; export: { status: string } | null };
    expect(finished.status).toBe('cancelled');
    expect(finished.export?.status).toBe('cancelled');
  });
});
