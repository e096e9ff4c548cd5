// One-click export of a trained run, end to end on a real run fixture: every format
// round-trips (tfjs loads it, ONNX Runtime runs it, the Node example classifies the test images
// like the app, the Python example where onnxruntime for Python exists), parity is stored,
// verify-export catches tampering, a quantized export keeps the accuracy it showed, and a
// failing parity check is marked failed and not shipped.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { makeExportFixture, type ExportFixture } from './export-fixture.js';
import { exportCommand, parseExportArgs } from '../../electron/host/commands/export.js';
import { verifyExportCommand } from '../../electron/host/commands/verify-export.js';
import { appPredictions } from '../../electron/core/export/app-predict.js';
import { appNodeModules, judge, tfjsFromBundle } from '../../electron/core/export/parity.js';
import { loadModelFolder } from '../../electron/core/engine/model-folder.js';
import { decodeForModel } from '../../electron/core/import/preprocess.js';
import { getExport, listExports } from '../../electron/core/export/store.js';
import { createExportCtx, exportHandlers, type ExportCtx } from '../../electron/core/export/handlers.js';
import { createRun, finishRun } from '../../electron/core/training/runs.js';
import type { ExportEventName } from '../../electron/shared/contract-export.js';

let dir: string;
let fx: ExportFixture;
let bundle: {
  exportId: number;
  format: string;
  status: string;
  dir: string;
  zip: string;
  files: { path: string; bytes: number; sha256: string }[];
  parity: { maxAbsDiff: number; agreement: number; images: number; passed: boolean };
};
let app: Float32Array[];

const args = (...a: string[]) => {
  const flags = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '--quantize') flags.set('quantize', true);
    else if (a[i]!.startsWith('--')) flags.set(a[i]!.slice(2), a[++i]!);
    else positionals.push(a[i]!);
  }
  return { positionals, flags, json: true };
};

async function runExport(...a: string[]): Promise<{ code: number; lines: string[]; last: Record<string, unknown> }> {
  const lines: string[] = [];
  const code = await exportCommand(
    fx.studio,
    args('export', ...a),
    (l) => lines.push(l),
    () => {},
  );
  return { code, lines, last: JSON.parse(lines[lines.length - 1]!) as Record<string, unknown> };
}

function verify(target: string): { code: number; lines: string[] } {
  const lines: string[] = [];
  const code = verifyExportCommand(args('verify-export', target), (l) => lines.push(l));
  return { code, lines };
}

/** A copy of the bundle where the examples' `sharp`/`onnxruntime-node` resolve (as after `npm install`). */
function installedCopy(src: string): string {
  const copy = fs.mkdtempSync(path.join(dir, 'installed-'));
  fs.cpSync(src, copy, { recursive: true });
  fs.symlinkSync(appNodeModules(), path.join(copy, 'examples', 'node', 'node_modules'), 'junction');
  return copy;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'export-test-'));
  fx = await makeExportFixture(path.join(dir, 'data'));
  const r = await runExport(String(fx.runId), '--format', 'bundle', '--out', path.join(dir, 'bundle'));
  expect(r.code, r.lines.join('\n')).toBe(0);
  bundle = r.last as typeof bundle;
  app = (
    await appPredictions(
      fx.studio.db,
      fx.runId,
      fx.testFiles.map((t) => t.file),
    )
  ).probs;
}, 300_000);

afterAll(() => {
  fx?.studio.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('studio export --format bundle', () => {
  it('ends with one JSON line naming every file with its size and sha256, and the parity', () => {
    expect(bundle).toMatchObject({ format: 'bundle', status: 'done', dir: path.join(dir, 'bundle'), zip: path.join(dir, 'bundle.zip') });
    const paths = bundle.files.map((f) => f.path);
    for (const p of [
      'model.onnx',
      'tfjs/model.json',
      'tfjs/group1-shard1of1.bin',
      'labels.json',
      'signature.json',
      'README.md',
      'web-demo/index.html',
      'web-demo/tf.min.js',
      'web-demo/model.js',
      'examples/node/classify.mjs',
      'examples/node/package.json',
      'examples/python/classify.py',
      'examples/python/requirements.txt',
    ]) {
      expect(paths).toContain(p);
    }
    for (const f of bundle.files) expect(fs.statSync(path.join(bundle.dir, f.path)).size).toBe(f.bytes);
    expect(bundle.parity.images).toBe(fx.testFiles.length);
    expect(bundle.parity.agreement).toBe(1);
    expect(bundle.parity.maxAbsDiff).toBeLessThanOrEqual(1e-4);
  });

  it('stores the parity result in the exports table', () => {
    const row = getExport(fx.studio.db, bundle.exportId);
    expect(row).toMatchObject({
      runId: fx.runId,
      status: 'done',
      format: 'bundle',
      quantized: false,
      agreement: 1,
      imagesChecked: fx.testFiles.length,
    });
    expect(row.maxAbsDiff).toBeLessThanOrEqual(1e-4);
    expect(row.parity!.artefacts.map((a) => a.artefact).sort()).toEqual(['onnx', 'tfjs']);
    expect(row.manifestSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('writes a signature with the input contract, class order, dataset hash and metrics', () => {
    const sig = JSON.parse(fs.readFileSync(path.join(bundle.dir, 'signature.json'), 'utf8'));
    expect(sig).toMatchObject({
      formatVersion: 1,
      runId: fx.runId,
      classes: fx.labels,
      input: { size: [224, 224], dtype: 'uint8', layout: 'NHWC', channelOrder: 'RGB' },
    });
    expect(sig.preprocessing).toMatchObject({ fit: 'letterbox', background: '#ffffff', kernel: 'lanczos3' });
    expect(sig.dataset.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(sig.metrics.perClass).toHaveLength(fx.labels.length);
    expect(JSON.parse(fs.readFileSync(path.join(bundle.dir, 'labels.json'), 'utf8'))).toEqual(fx.labels);
  });

  it('writes a model card with per-class test metrics, the base model and its origin', () => {
    const card = fs.readFileSync(path.join(bundle.dir, 'README.md'), 'utf8');
    for (const l of fx.labels) expect(card).toMatch(new RegExp(`\\| ${l} \\| `));
    expect(card).toMatch(/nsfwjs/);
    expect(card).toMatch(/MIT/);
    expect(card).toMatch(/Known limits/);
    expect(card).toMatch(/letterbox/);
  });

  it('titles the web demo with the project’s name and speaks of labels, not classes', () => {
    const demo = fs.readFileSync(path.join(bundle.dir, 'web-demo', 'index.html'), 'utf8');
    expect(demo).toMatch(/<title>export clip art — /);
    const card = fs.readFileSync(path.join(bundle.dir, 'README.md'), 'utf8');
    expect(card).toMatch(new RegExp(`one of ${fx.labels.length} labels`));
    expect(card).not.toMatch(/\bclasses\b/);
  });

  it('makes a zip that holds the same files', () => {
    const zipped = spawnSync(
      'python3',
      [
        '-c',
        'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print("\\n".join(i.filename + " " + str(i.file_size) for i in z.infolist()))',
        bundle.zip,
      ],
      { encoding: 'utf8' },
    );
    if (zipped.error) return console.log(`zip contents not checked: python3 is not available (${zipped.error.message})`);
    expect(zipped.status, zipped.stderr).toBe(0);
    const listed = zipped.stdout.trim().split('\n');
    expect(listed).toContain(`bundle/manifest.json ${fs.statSync(path.join(bundle.dir, 'manifest.json')).size}`);
    for (const f of bundle.files) expect(listed).toContain(`bundle/${f.path} ${f.bytes}`);
  });

  it('tfjs loads the exported model and onnxruntime runs model.onnx, both agreeing with the app', async () => {
    const size = 224;
    const pixels = await Promise.all(fx.testFiles.slice(0, 2).map(async (t) => (await decodeForModel(fs.readFileSync(t.file), size)).data));
    const model = await loadModelFolder(path.join(bundle.dir, 'tfjs'));
    const viaTfjs = tf.tidy(
      () =>
        (
          model.predict(tf.tensor4d(Float32Array.from([...pixels[0]!, ...pixels[1]!]), [2, size, size, 3])) as tf.Tensor
        ).dataSync() as Float32Array,
    );
    model.dispose();
    const session = await ort.InferenceSession.create(path.join(bundle.dir, 'model.onnx'));
    expect(session.inputNames).toEqual(['image']);
    const out = await session.run({ image: new ort.Tensor('uint8', Uint8Array.from([...pixels[0]!, ...pixels[1]!]), [2, size, size, 3]) });
    const viaOnnx = out[session.outputNames[0]!]!.data as Float32Array;
    await session.release();
    const k = fx.labels.length;
    for (let i = 0; i < 2; i++) {
      for (let c = 0; c < k; c++) {
        expect(Math.abs(viaTfjs[i * k + c]! - app[i]![c]!)).toBeLessThanOrEqual(1e-4);
        expect(Math.abs(viaOnnx[i * k + c]! - app[i]![c]!)).toBeLessThanOrEqual(1e-4);
      }
    }
  });

  it('the TF.js check runs on tfjs-wasm (not the plain-JS backend) and meets the same thresholds', async () => {
    const files = fx.testFiles.map((t) => t.file);
    const before = tf.getBackend();
    const { probs, backend } = await tfjsFromBundle(bundle.dir, 224, files);
    expect(backend).toBe('wasm');
    const verdict = judge(
      'tfjs',
      false,
      app,
      probs,
      fx.testFiles.map((t) => fx.labels.indexOf(t.label)),
      null,
    );
    expect(verdict.reason).toBeNull();
    expect(verdict.maxAbsDiff).toBeLessThanOrEqual(1e-4);
    expect(tf.getBackend()).toBe(before); // the process's own backend is given back
  });

  it('the Node example classifies the test images and agrees with the app', () => {
    const copy = installedCopy(bundle.dir);
    const files = fx.testFiles.map((t) => t.file);
    const out = execFileSync(process.execPath, ['classify.mjs', ...files, '--json'], {
      cwd: path.join(copy, 'examples', 'node'),
      encoding: 'utf8',
    });
    const lines = out.trim().split('\n');
    const results = JSON.parse(lines[lines.length - 1]!) as { file: string; label: string; probabilities: Record<string, number> }[];
    expect(results).toHaveLength(files.length);
    results.forEach((r, i) => {
      const best = app[i]!.indexOf(Math.max(...app[i]!));
      expect(r.label).toBe(fx.labels[best]);
      fx.labels.forEach((l, c) => expect(Math.abs(r.probabilities[l]! - app[i]![c]!)).toBeLessThanOrEqual(1e-4));
    });
    expect(lines[0]).toMatch(/: \w+ \(\d+\.\d%\)$/);
  });

  it('the Python example runs where onnxruntime for Python is installed', () => {
    const script = path.join(bundle.dir, 'examples', 'python', 'classify.py');
    const compiled = spawnSync('python3', ['-c', 'import ast, sys; ast.parse(open(sys.argv[1]).read())', script], { encoding: 'utf8' });
    if (!compiled.error) expect(compiled.status, compiled.stderr).toBe(0);
    const probe = spawnSync('python3', ['-c', 'import onnxruntime, numpy, PIL'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      const why = probe.error ? probe.error.message : (probe.stderr.trim().split('\n').pop() ?? `exit ${probe.status}`);
      console.log(`Python example skipped: python3 cannot import onnxruntime, numpy and Pillow here (${why}).`);
      return;
    }
    const files = fx.testFiles.map((t) => t.file);
    const out = execFileSync('python3', [script, ...files, '--json'], { encoding: 'utf8' });
    const lines = out.trim().split('\n');
    const results = JSON.parse(lines[lines.length - 1]!) as { label: string }[];
    expect(results).toHaveLength(files.length);
    // Pillow's Lanczos is not libvips': labels must mostly agree, probabilities need not to 1e-4.
    const agree = results.filter((r, i) => r.label === fx.labels[app[i]!.indexOf(Math.max(...app[i]!))]).length;
    expect(agree / files.length).toBeGreaterThanOrEqual(0.75);
  });
});

describe('studio verify-export', () => {
  it('passes an untouched export and the zip leaves it untouched', () => {
    const r = verify(bundle.dir);
    expect(r.code, r.lines.join('\n')).toBe(0);
    expect(r.lines.join('\n')).toMatch(/OK: all \d+ files match/);
  });

  it('catches a changed byte, a missing file and an extra file, and exits non-zero with the list', () => {
    const copy = fs.mkdtempSync(path.join(dir, 'tampered-'));
    fs.cpSync(bundle.dir, copy, { recursive: true });
    const onnx = path.join(copy, 'model.onnx');
    const bytes = fs.readFileSync(onnx);
    const at = bytes.length >> 1;
    bytes[at] = bytes[at]! ^ 0x01;
    fs.writeFileSync(onnx, bytes);
    let r = verify(copy);
    expect(r.code).toBe(1);
    expect(r.lines).toContain('changed: model.onnx (contents differ (sha256 mismatch))');

    fs.rmSync(path.join(copy, 'labels.json'));
    fs.writeFileSync(path.join(copy, 'web-demo', 'extra.js'), 'alert(1)');
    r = verify(copy);
    expect(r.code).toBe(1);
    expect(r.lines).toEqual(
      expect.arrayContaining([
        'missing: labels.json',
        'not in the manifest: web-demo/extra.js',
        'changed: model.onnx (contents differ (sha256 mismatch))',
      ]),
    );
    const last = JSON.parse(r.lines[r.lines.length - 1]!);
    expect(last).toMatchObject({ ok: false, missing: ['labels.json'], extra: ['web-demo/extra.js'] });
  });

  it('says so when there is no manifest', () => {
    const empty = fs.mkdtempSync(path.join(dir, 'empty-'));
    const r = verify(empty);
    expect(r.code).toBe(1);
    expect(r.lines[0]).toMatch(/no manifest\.json/);
  });
});

describe('the studio CLI process', () => {
  it('export … --json and verify-export work through bin/studio.mjs, with exit codes', () => {
    const cli = (...a: string[]) =>
      spawnSync(process.execPath, ['bin/studio.mjs', '--data-dir', path.join(dir, 'data'), ...a], { encoding: 'utf8', timeout: 180_000 });
    const out = path.join(dir, 'cli-onnx');
    const r = cli('export', String(fx.runId), '--format', 'onnx', '--out', out, '--json');
    expect(r.status, r.stderr).toBe(0);
    const last = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(last).toMatchObject({ format: 'onnx', status: 'done', dir: out, parity: { agreement: 1 } });
    expect(last.exportId).toBeGreaterThan(0);
    expect(last.files.map((f: { path: string }) => f.path)).toContain('model.onnx');
    expect(cli('verify-export', out).status).toBe(0);
    fs.appendFileSync(path.join(out, 'labels.json'), ' ');
    const bad = cli('verify-export', out);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/changed: labels\.json \(size/);
    expect(cli('export', String(fx.runId), '--format', 'zip', '--out', out).status).toBe(2);
    expect(cli('export', '999', '--out', path.join(dir, 'nope')).stderr).toMatch(/no run 999/);
  });
});

describe('other formats and quantization', () => {
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
    const ctx: ExportCtx = createExportCtx({
      ...fx.studio.environment,
      db: fx.studio.db,
      emit: (name, payload) => {
        events.push({ name, payload });
        // A macrotask, like a WebSocket message: it runs only when the export yields to the event loop.
        if (name === 'export.progress' && (payload as { phase: string }).phase === 'checking parity')
          setTimeout(() => ctx.jobs.cancel(jobId), 0);
      },
    });
    ({ jobId } = await exportHandlers['exports.start'](ctx, { runId: fx.runId, formats: ['tfjs'], quantize: false }));
    await ctx.jobs.settled();
    const finished = events.find((e) => e.name === 'export.finished')!.payload as { status: string; export: { status: string } | null };
    expect(finished.status).toBe('cancelled');
    expect(finished.export?.status).toBe('cancelled');
  });

  it('a quantized export shows its size and accuracy change first and stays within it', async () => {
    const ctx = createExportCtx({ ...fx.studio.environment, db: fx.studio.db, emit: () => {} });
    const preview = await exportHandlers['exports.preview'](ctx, { runId: fx.runId, quantize: true });
    // Tensors under 1024 values stay float; this small fixture has many (BatchNorm, early blocks).
    expect(preview.sizes.tfjsQuantizedBytes).toBeLessThan(preview.sizes.tfjsFloatBytes * 0.7);
    expect(preview.accuracyDelta).not.toBeNull();
    const r = await runExport(String(fx.runId), '--format', 'tfjs', '--quantize', '--out', path.join(dir, 'quantized'));
    expect(r.code, r.lines.join('\n')).toBe(0);
    expect(r.lines.some((l) => /8-bit TF\.js weights: .* MB → .* MB, test accuracy/.test(l))).toBe(true);
    const row = getExport(fx.studio.db, r.last.exportId as number);
    expect(row.quantized).toBe(true);
    expect(row.accuracyDelta).toBeCloseTo(preview.accuracyDelta!, 10);
    const tfjsParity = row.parity!.artefacts.find((a) => a.artefact === 'tfjs')!;
    expect(tfjsParity.quantized).toBe(true);
    expect(tfjsParity.accuracy! - row.parity!.appAccuracy!).toBeGreaterThanOrEqual(preview.accuracyDelta! - 1e-9);
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'quantized', 'tfjs', 'model.json'), 'utf8'));
    const quantized = json.weightsManifest[0].weights.filter(
      (w: { quantization?: { dtype: string } }) => w.quantization?.dtype === 'uint8',
    );
    expect(quantized.length).toBeGreaterThan(0);
    // Each quantized tensor takes one byte a value, the rest four.
    const expected = json.weightsManifest[0].weights.reduce(
      (s: number, w: { shape: number[]; quantization?: unknown }) => s + w.shape.reduce((a, b) => a * b, 1) * (w.quantization ? 1 : 4),
      0,
    );
    expect(fs.statSync(path.join(dir, 'quantized', 'tfjs', 'group1-shard1of1.bin')).size).toBe(expected);
    expect(expected).toBeLessThan(fs.statSync(path.join(bundle.dir, 'tfjs', 'group1-shard1of1.bin')).size * 0.7);
  });

  it('refuses a non-empty destination and bad options with a clear message', async () => {
    await expect(runExport(String(fx.runId), '--out', bundle.dir)).rejects.toThrow(/not empty/);
    expect(() => parseExportArgs(args('export', 'x', '--out', 'd'))).toThrow(/run id/);
    expect(() => parseExportArgs(args('export', '1'))).toThrow(/--out/);
    expect(() => parseExportArgs(args('export', '1', '--out', 'd', '--format', 'zip'))).toThrow(/bundle, tfjs or onnx/);
  });

  it('marks an export whose artefact disagrees with the app as failed and does not ship it', async () => {
    // A run whose TF.js weights changed after the app converted them (a stale ONNX cache): the
    // app predicts with the old model, the export carries the new one.
    const copyDir = path.join(path.dirname(fx.modelDir), '..', 'tampered-model');
    fs.cpSync(fx.modelDir, copyDir, { recursive: true });
    const runId = createRun(
      fx.studio.db,
      fx.projectId,
      'mobilenet_v2',
      JSON.parse((fx.studio.db.prepare('SELECT config FROM runs WHERE id = ?').get(fx.runId) as { config: string }).config),
    );
    finishRun(fx.studio.db, runId, 'done', {
      modelFolder: copyDir,
      metrics: JSON.parse((fx.studio.db.prepare('SELECT metrics FROM runs WHERE id = ?').get(fx.runId) as { metrics: string }).metrics),
    });
    await appPredictions(
      fx.studio.db,
      runId,
      fx.testFiles.slice(0, 1).map((t) => t.file),
    ); // caches model.onnx
    // Flip the sign of the class layer's kernel (float32 weights, in manifest order).
    const manifest = JSON.parse(fs.readFileSync(path.join(copyDir, 'model.json'), 'utf8')).weightsManifest[0].weights as {
      name: string;
      shape: number[];
    }[];
    let offset = 0;
    for (const spec of manifest) {
      const n = spec.shape.reduce((a, b) => a * b, 1);
      if (spec.name === 'head_classes/kernel') break;
      offset += n;
    }
    const weights = path.join(copyDir, 'weights.bin');
    const w = new Float32Array(fs.readFileSync(weights).buffer.slice(0));
    const kernel = manifest.find((s) => s.name === 'head_classes/kernel')!;
    for (let i = offset; i < offset + kernel.shape.reduce((a, b) => a * b, 1); i++) w[i] = -w[i]!;
    fs.writeFileSync(weights, Buffer.from(w.buffer));
    const out = path.join(dir, 'bad');
    const r = await runExport(String(runId), '--format', 'tfjs', '--out', out);
    expect(r.code).toBe(1);
    // Kept for inspection inside the data folder, never beside the destination (that name may be the user's).
    expect(r.last).toMatchObject({ status: 'failed', zip: null });
    expect(r.last.dir).toBe(path.join(fx.studio.paths.root, 'exports', `run-${runId}-export-${r.last.exportId}.failed`));
    expect(fs.existsSync(`${out}.failed`)).toBe(false);
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.existsSync(`${out}.zip`)).toBe(false);
    const row = listExports(fx.studio.db, runId)[0]!;
    expect(row.status).toBe('failed');
    expect(row.error).toMatch(/Parity check failed \(tfjs: /);
    expect(row.maxAbsDiff!).toBeGreaterThan(1e-4);
  });
});
