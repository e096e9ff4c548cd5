// Prediction with a trained run: a MobileNetV2 classifier (real weights, random head) saved as a
// run saves it, converted to ONNX once, checked against tfjs-cpu on real clipart-8 images, and
// used for "Try it", batch prediction over a project (stored, cancellable) and the tfjs fallback.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildBases } from '../../build/bases/build-bases.js';
import { openDatabase, type Db } from '../../electron/core/db/connection.js';
import { DataPaths } from '../../electron/core/paths.js';
import { EventBus } from '../../electron/core/events.js';
import { JobRegistry } from '../../electron/core/jobs.js';
import { loadModelFolder } from '../../electron/core/engine/model-folder.js';
import { decodeForModel } from '../../electron/core/import/preprocess.js';
import { StudioError } from '../../electron/shared/contract.js';
import { predictEvents, predictCalls } from '../../electron/shared/contract-predict.js';
import { createPredictCtx, closePredictCtx, type PredictCtx } from '../../electron/core/predict/context.js';
import { classifyImage } from '../../electron/core/predict/classify.js';
import { predictProject } from '../../electron/core/predict/predict-project.js';
import { startProjectPrediction, invokePredict } from '../../electron/core/predict/handlers.js';
import { tfjsPredict, compareOutputs, ONNX_FILE, ONNX_STATUS_FILE } from '../../electron/core/predict/onnx-model.js';
import { createRun } from '../../electron/core/training/runs.js';
import { defaultConfig } from '../../electron/core/engine/config.js';
import { makeTrainingProject } from '../fixtures/training-project.js';
import { LABELS, writeMobileNetRun, writeUnconvertibleRun, clipartFile } from './predict-fixture.js';

let dir: string;
let db: Db;
let paths: DataPaths;
let bus: EventBus;
let ctx: PredictCtx;
let projectId: number;
let runId: number;
let folder: string;
const events: { name: string; payload: unknown }[] = [];

beforeAll(async () => {
  await tf.setBackend('cpu');
  await buildBases();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'predict-'));
  paths = new DataPaths(dir);
  db = openDatabase(paths.database);
  bus = new EventBus();
  bus.subscribe((name, payload) => events.push({ name, payload }));
  ctx = createPredictCtx(
    { db, paths, jobs: new JobRegistry(bus), emit: (name, payload) => events.push({ name, payload: predictEvents[name].parse(payload) }) },
    { providers: ['cpu'] },
  );
  // 8 labels × 5 images: 40 real JPEGs in the content-addressed store.
  projectId = makeTrainingProject(db, paths, Object.fromEntries(LABELS.map((l) => [l, 5])));
  folder = path.join(paths.project(projectId), 'runs', 'fixture', 'model');
  runId = await writeMobileNetRun(db, projectId, folder);
}, 180_000);

afterAll(async () => {
  await closePredictCtx(ctx);
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const realImages = [clipartFile('bird', 0), clipartFile('vehicle', 3), clipartFile('fruit', 10), clipartFile('music', 5)];

describe('ONNX Runtime parity with tfjs-cpu', () => {
  it('converts once to model.onnx, and its probabilities match tfjs-cpu on real clipart-8 images', async () => {
    const pixels = await Promise.all(realImages.map(async (f) => (await decodeForModel(fs.readFileSync(f), 224)).data));
    const { probs, runtime } = await ctx.sessions.use(db, runId, async (p) => ({ probs: await p.predict(pixels), runtime: p.runtime }));
    expect(runtime).toBe('onnx-cpu');
    const status = JSON.parse(fs.readFileSync(path.join(folder, ONNX_STATUS_FILE), 'utf8')) as {
      ok: boolean;
      parity: { maxDiff: number; tolerance: number };
    };
    expect(status.ok).toBe(true);
    expect(status.parity.maxDiff).toBeLessThanOrEqual(status.parity.tolerance);
    expect(fs.statSync(path.join(folder, ONNX_FILE)).size).toBeGreaterThan(100_000);

    const reference = tfjsPredict(await loadModelFolder(folder), pixels, 224);
    const got = new Float32Array(probs.flatMap((r) => Array.from(r)));
    const { maxDiff, tolerance } = compareOutputs(got, reference);
    console.log(
      `parity on ${pixels.length} clipart images: max|onnx − tfjs-cpu| = ${maxDiff.toExponential(2)} (tolerance ${tolerance.toExponential(1)})`,
    );
    expect(maxDiff).toBeLessThanOrEqual(tolerance);
    // A head that says the same thing for every image would make parity meaningless.
    const argmaxes = new Set(probs.map((r) => r.indexOf(Math.max(...r))));
    expect(Math.max(...probs.map((r) => Math.max(...r)))).toBeLessThan(0.999);
    expect(argmaxes.size).toBeGreaterThan(1);
  }, 120_000);

  it('reuses model.onnx on a cold cache without converting again', async () => {
    const before = fs.statSync(path.join(folder, ONNX_FILE)).mtimeMs;
    const cold = createPredictCtx({ db, paths, jobs: ctx.jobs, emit: () => {} }, { providers: ['cpu'] });
    const t = Date.now();
    const r = await classifyImage(cold, runId, fs.readFileSync(realImages[0]!));
    const ms = Date.now() - t;
    await closePredictCtx(cold);
    expect(r.runtime).toBe('onnx-cpu');
    expect(fs.statSync(path.join(folder, ONNX_FILE)).mtimeMs).toBe(before);
    console.log(`cold classify with cached model.onnx: ${ms} ms`);
  });
});

describe('classifyImage ("Try it")', () => {
  it('returns the argmax label, every probability, and the top five in order', async () => {
    const bytes = fs.readFileSync(realImages[1]!);
    const r = await classifyImage(ctx, runId, bytes);
    const entries = Object.entries(r.probabilities);
    expect(entries.map(([l]) => l)).toEqual(LABELS);
    const sum = entries.reduce((s, [, p]) => s + p, 0);
    expect(sum).toBeCloseTo(1, 4);
    const [argmax, max] = entries.reduce((best, e) => (e[1] > best[1] ? e : best));
    expect(r.label).toBe(argmax);
    expect(r.probability).toBe(max);
    expect(r.top).toHaveLength(5);
    expect(r.top[0]).toEqual({ label: argmax, p: max });
    for (let i = 1; i < 5; i++) expect(r.top[i]!.p).toBeLessThanOrEqual(r.top[i - 1]!.p);
    // Same label as the tfjs reference on the same decoded pixels.
    const pixels = (await decodeForModel(bytes, 224)).data;
    const ref = tfjsPredict(await loadModelFolder(folder), [pixels], 224);
    expect(LABELS[ref.indexOf(Math.max(...ref))]).toBe(r.label);
  }, 60_000);

  it('through the contract call: base64 in, the result schema out', async () => {
    const dataBase64 = fs.readFileSync(realImages[2]!).toString('base64');
    const r = await invokePredict(ctx, 'runs.classify', { runId, mime: 'image/jpeg', dataBase64 });
    expect(predictCalls['runs.classify'].result.safeParse(r).success).toBe(true);
    expect(r.runtime).toBe('onnx-cpu');
  });

  it('refuses corrupt bytes with a clear message', async () => {
    const corrupt = Buffer.concat([fs.readFileSync(realImages[0]!).subarray(0, 200), Buffer.alloc(300, 7)]);
    const err = await classifyImage(ctx, runId, corrupt).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StudioError);
    expect((err as StudioError).code).toBe('invalid');
    expect((err as StudioError).message).toMatch(/^This image cannot be read: .+/);
    const text = await classifyImage(ctx, runId, Buffer.from('definitely not an image, just some text')).catch((e: unknown) => e);
    expect((text as StudioError).code).toBe('invalid');
  });

  it('says why a run without a model cannot predict', async () => {
    const queued = createRun(db, projectId, 'mobilenet_v2', defaultConfig('head'));
    await expect(classifyImage(ctx, queued, Buffer.alloc(10))).rejects.toThrow(/has no trained model: it is still training/);
    await expect(classifyImage(ctx, 999_999, Buffer.alloc(10))).rejects.toThrow(/no run 999999/);
  });
});

describe('predictProject', () => {
  const stored = () =>
    db
      .prepare(
        'SELECT p.image_id, p.label, p.label_id, p.confidence, p.probabilities, p.error, p.runtime, l.name AS project_label FROM predictions p LEFT JOIN labels l ON l.id = p.label_id WHERE p.run_id = ? ORDER BY p.image_id',
      )
      .all(runId) as {
      image_id: number;
      label: string | null;
      label_id: number | null;
      confidence: number | null;
      probabilities: string | null;
      error: string | null;
      runtime: string;
      project_label: string | null;
    }[];

  it('stores one row per image with its label, confidence and probabilities, reporting progress', async () => {
    const progress: [number, number][] = [];
    const report = await predictProject(ctx, runId, { onProgress: (d, t) => progress.push([d, t]) });
    console.log(
      `predictProject: ${report.predicted} images in ${report.durationMs} ms (${((report.predicted / report.durationMs) * 1000).toFixed(1)} images/s, ${report.runtime})`,
    );
    expect(report).toMatchObject({ predicted: 40, failed: 0, cancelled: false, runtime: 'onnx-cpu', projectId });
    expect(progress[0]).toEqual([0, 40]);
    expect(progress.at(-1)).toEqual([40, 40]);
    const rows = stored();
    expect(rows).toHaveLength(40);
    const ids = (
      db.prepare("SELECT id FROM images WHERE project_id = ? AND status = 'active' ORDER BY id").all(projectId) as { id: number }[]
    ).map((r) => r.id);
    expect(rows.map((r) => r.image_id)).toEqual(ids);
    for (const r of rows) {
      expect(r.error).toBeNull();
      expect(r.project_label).toBe(r.label);
      const probs = JSON.parse(r.probabilities!) as Record<string, number>;
      expect(Object.keys(probs)).toEqual(LABELS);
      expect(Math.max(...Object.values(probs))).toBe(r.confidence);
      expect(probs[r.label!]).toBe(r.confidence);
    }
    // The batch path agrees with single-image classification.
    const first = db.prepare('SELECT sha256, format FROM images WHERE id = ?').get(ids[0]) as { sha256: string; format: string };
    const single = await classifyImage(ctx, runId, fs.readFileSync(paths.stored(projectId, first.sha256, first.format)));
    expect(single.label).toBe(rows[0]!.label);
    expect(Math.abs(single.probability - rows[0]!.confidence!)).toBeLessThan(1e-5);
    const page = await invokePredict(ctx, 'runs.predictions', { runId, offset: 0, limit: 10 });
    expect(page.total).toBe(40);
    expect(page.rows).toHaveLength(10);
    expect(page.runtime).toBe('onnx-cpu');
  }, 60_000);

  it('records an unreadable stored image as an error row and predicts the rest', async () => {
    const victim = db.prepare('SELECT id, sha256, format FROM images WHERE project_id = ? ORDER BY id LIMIT 1 OFFSET 7').get(projectId) as {
      id: number;
      sha256: string;
      format: string;
    };
    const file = paths.stored(projectId, victim.sha256, victim.format);
    const original = fs.readFileSync(file);
    fs.writeFileSync(file, Buffer.concat([original.subarray(0, 100), Buffer.alloc(100)]));
    try {
      const report = await predictProject(ctx, runId, { chunk: 16 });
      expect(report).toMatchObject({ predicted: 39, failed: 1, cancelled: false });
      const row = stored().find((r) => r.image_id === victim.id)!;
      expect(row).toMatchObject({ label: null, label_id: null, confidence: null, probabilities: null });
      expect(row.error).toMatch(/\w+/);
      expect(stored().filter((r) => r.error === null)).toHaveLength(39);
    } finally {
      fs.writeFileSync(file, original);
    }
  }, 60_000);

  it('runs as a job with progress events and can be cancelled, keeping the chunks already committed', async () => {
    db.prepare('DELETE FROM predictions WHERE run_id = ?').run(runId);
    events.length = 0;
    const { jobId, done } = startProjectPrediction(ctx, runId, { chunk: 16 });
    expect(() => startProjectPrediction(ctx, runId)).toThrow(/already predicting/);
    // Cancel once the first chunk is committed.
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if ((db.prepare('SELECT COUNT(*) AS n FROM predictions WHERE run_id = ?').get(runId) as { n: number }).n >= 16) {
          clearInterval(timer);
          resolve();
        }
      }, 1);
    });
    await invokePredict(ctx, 'runs.cancelPrediction', { jobId });
    await done;
    const finished = events
      .filter((e) => e.name === 'predict.finished')
      .map((e) => e.payload as { status: string; predicted: number; jobId: string });
    expect(finished).toHaveLength(1);
    expect(finished[0]).toMatchObject({ status: 'cancelled', jobId });
    const n = (db.prepare('SELECT COUNT(*) AS n FROM predictions WHERE run_id = ?').get(runId) as { n: number }).n;
    expect(n).toBeGreaterThanOrEqual(16);
    expect(n).toBeLessThan(40);
    expect(finished[0]!.predicted).toBe(n);
    const progress = events
      .filter((e) => e.name === 'job.progress')
      .map((e) => e.payload as { kind: string; jobId: string; total: number });
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((p) => p.kind === 'predict' && p.jobId === jobId && p.total === 40)).toBe(true);
    await expect(invokePredict(ctx, 'runs.cancelPrediction', { jobId })).rejects.toThrow(/already finished/);
  }, 60_000);

  it('a full job run ends with predict.finished done and ETA-bearing progress', async () => {
    events.length = 0;
    const { jobId } = await invokePredict(ctx, 'runs.predictProject', { runId });
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (events.some((e) => e.name === 'predict.finished')) {
          clearInterval(timer);
          resolve();
        }
      }, 5);
    });
    expect(events.find((e) => e.name === 'predict.finished')!.payload).toMatchObject({
      jobId,
      status: 'done',
      predicted: 40,
      failed: 0,
      runtime: 'onnx-cpu',
    });
    const progress = events.filter((e) => e.name === 'job.progress').map((e) => e.payload as { done: number; etaMs: number | null });
    expect(progress.at(-1)).toMatchObject({ done: 40, etaMs: 0 });
  }, 60_000);
});

describe('session cache', () => {
  it('keeps two runs open, least recently used dropped, without pulling a session from under a running prediction', async () => {
    const copies: number[] = [];
    for (const name of ['copy-a', 'copy-b']) {
      const to = path.join(paths.project(projectId), 'runs', name, 'model');
      fs.cpSync(folder, to, { recursive: true, preserveTimestamps: true });
      const id = createRun(db, projectId, 'mobilenet_v2', defaultConfig('head'));
      db.prepare("UPDATE runs SET status = 'done', model_folder = ? WHERE id = ?").run(to, id);
      copies.push(id);
    }
    const running = predictProject(ctx, runId, { chunk: 8 });
    const bytes = fs.readFileSync(realImages[0]!);
    await classifyImage(ctx, copies[0]!, bytes);
    await classifyImage(ctx, copies[1]!, bytes);
    expect(ctx.sessions.held()).toEqual(copies);
    // The evicted run's session stayed usable until its prediction ended.
    expect(await running).toMatchObject({ predicted: 40, failed: 0, cancelled: false });
    const again = await classifyImage(ctx, runId, bytes);
    expect(again.runtime).toBe('onnx-cpu');
    expect(ctx.sessions.held()).toEqual([copies[1], runId]);
  }, 60_000);
});

describe('tfjs fallback', () => {
  it('runs a model with an unconvertible layer in tfjs, visibly, and remembers why', async () => {
    const labels = ['bird', 'vehicle', 'fruit'];
    const odd = path.join(paths.project(projectId), 'runs', 'odd', 'model');
    const oddRun = await writeUnconvertibleRun(db, projectId, odd, labels);
    const r = await classifyImage(ctx, oddRun, fs.readFileSync(realImages[0]!));
    expect(r.runtime).toBe('tfjs (fallback: odd_norm (LayerNormalization) not convertible)');
    expect(Object.keys(r.probabilities)).toEqual(labels);
    expect(fs.existsSync(path.join(odd, ONNX_FILE))).toBe(false);
    expect(JSON.parse(fs.readFileSync(path.join(odd, ONNX_STATUS_FILE), 'utf8'))).toMatchObject({
      ok: false,
      reason: 'odd_norm (LayerNormalization) not convertible',
    });
    // Batch prediction works the same way, and records the runtime with each row.
    const report = await predictProject(ctx, oddRun);
    expect(report).toMatchObject({ predicted: 40, failed: 0, runtime: r.runtime });
    const runtimes = db.prepare('SELECT DISTINCT runtime FROM predictions WHERE run_id = ?').all(oddRun) as { runtime: string }[];
    expect(runtimes).toEqual([{ runtime: r.runtime }]);
  }, 60_000);
});
