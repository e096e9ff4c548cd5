// `studio predict RUN IMAGE… --json` as a user runs it: a real process on a data folder holding a
// finished run (MobileNetV2 cut + head, real weights), real clipart-8 files and broken ones.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildBases } from '../../build/bases/build-bases.js';
import { openDatabase } from '../../electron/core/db/connection.js';
import { DataPaths } from '../../electron/core/paths.js';
import { createProject } from '../../electron/core/library/projects.js';
import { decodeForModel } from '../../electron/core/import/preprocess.js';
import { loadModelFolder } from '../../electron/core/engine/model-folder.js';
import { tfjsPredict, compareOutputs } from '../../electron/core/predict/onnx-model.js';
import { LABELS, writeMobileNetRun, clipartFile } from './predict-fixture.js';
import { CLIPART } from '../fixtures/datasets.js';
import { runStudio } from '../fixtures/cli.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-predict-cli-'));
const dataDir = path.join(tmp, 'data');
let runId: number;
let folder: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  await buildBases();
  const paths = new DataPaths(dataDir);
  fs.mkdirSync(dataDir, { recursive: true });
  const db = openDatabase(paths.database);
  const projectId = createProject(db, 'clipart').id;
  folder = path.join(paths.project(projectId), 'runs', '1', 'model');
  runId = await writeMobileNetRun(db, projectId, folder);
  db.close();
}, 180_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const CLIPART_B = path.join(path.dirname(CLIPART), 'clipart-b');

/** Every image of a dataset, as absolute paths, sorted like a recursive folder walk. */
function imagesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.(jpe?g|png)$/i.test(e.name))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

const studio = (args: string[], input?: string) =>
  runStudio(['--data-dir', dataDir, ...args], { cwd: tmp, ...(input !== undefined ? { input } : {}) });

interface Prediction {
  path: string;
  label?: string;
  probability?: number;
  probabilities?: Record<string, number>;
  error?: string;
}

function lastJson(stdout: string): { predictions: Prediction[]; runtime: string } {
  return JSON.parse(stdout.trimEnd().split('\n').at(-1)!) as { predictions: Prediction[]; runtime: string };
}

describe('studio predict', () => {
  it('classifies image files through ONNX Runtime; --json puts the predictions on the last line', async () => {
    const files = [clipartFile('bird', 0), clipartFile('vehicle', 3), clipartFile('music', 5)];
    const r = await studio(['predict', String(runId), ...files, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/runtime onnx-cpu/);
    const out = lastJson(r.stdout);
    expect(out.runtime).toBe('onnx-cpu');
    expect(out.predictions.map((p) => p.path)).toEqual(files);
    const pixels = await Promise.all(files.map(async (f) => (await decodeForModel(fs.readFileSync(f), 224)).data));
    const reference = tfjsPredict(await loadModelFolder(folder), pixels, 224);
    out.predictions.forEach((p, i) => {
      expect(Object.keys(p).sort()).toEqual(['label', 'path', 'probabilities', 'probability']);
      expect(Object.keys(p.probabilities!)).toEqual(LABELS);
      expect(p.probability).toBe(Math.max(...Object.values(p.probabilities!)));
      expect(p.probabilities![p.label!]).toBe(p.probability);
      const ref = reference.slice(i * LABELS.length, (i + 1) * LABELS.length);
      const { maxDiff, tolerance } = compareOutputs(Float32Array.from(LABELS.map((l) => p.probabilities![l]!)), ref);
      expect(maxDiff).toBeLessThanOrEqual(tolerance);
    });
    // Human-readable lines before the JSON: one per image.
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(files.length + 1);
  }, 120_000);

  it('lists unreadable images with an error, prints the rest, and exits 1', async () => {
    const corrupt = path.join(tmp, 'corrupt.jpg');
    fs.writeFileSync(corrupt, Buffer.concat([fs.readFileSync(clipartFile('bird', 1)).subarray(0, 150), Buffer.alloc(64)]));
    const text = path.join(tmp, 'notes.png');
    fs.writeFileSync(text, 'this is not a picture');
    const missing = path.join(tmp, 'missing.jpg');
    const good = clipartFile('fruit', 2);
    const r = await studio(['--json', 'predict', String(runId), corrupt, good, missing, text]);
    expect(r.code).toBe(1);
    const { predictions } = lastJson(r.stdout);
    expect(predictions.map((p) => p.path)).toEqual([corrupt, good, missing, text]);
    expect(predictions[1]).toMatchObject({ path: good, label: expect.any(String), probability: expect.any(Number) });
    for (const i of [0, 2, 3]) {
      expect(Object.keys(predictions[i]!).sort()).toEqual(['error', 'path']);
      expect(predictions[i]!.error).toMatch(/\w/);
    }
    expect(predictions[2]!.error).toBe('no such file');
    expect(r.stderr).toMatch(/missing\.jpg: cannot read: no such file/);
  }, 60_000);

  it('says clearly when the run does not exist or the arguments are wrong', async () => {
    const none = await studio(['predict', '4242', clipartFile('bird', 0)]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/There is no run 4242/);
    const usage = await studio(['predict', String(runId)]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/Usage: studio predict RUN IMAGE/);
    const notId = await studio(['predict', 'latest', clipartFile('bird', 0)]);
    expect(notId.code).toBe(2);
    expect(notId.stderr).toMatch(/RUN must be a run id/);
  }, 60_000);

  // onnxruntime-node 1.30 crashes (SIGSEGV) in InferenceSession.create when its process's command
  // line is longer than about 29 KB; ~430 absolute paths were enough. Both datasets: ~996 paths.
  it('classifies every image of both clip-art datasets named on one long command line', async () => {
    const files = [...imagesUnder(CLIPART), ...imagesUnder(CLIPART_B)];
    expect(files.length).toBeGreaterThanOrEqual(430);
    expect(Buffer.byteLength(files.join(' '))).toBeGreaterThan(30_000);
    const r = await studio(['--json', 'predict', String(runId), ...files]);
    expect(r.signal, r.stderr).toBeNull();
    expect(r.code, r.stderr).toBe(0);
    const { predictions } = lastJson(r.stdout);
    expect(predictions.map((p) => p.path)).toEqual(files);
    for (const p of predictions) expect(LABELS).toContain(p.label);
  }, 300_000);

  it('takes folders (recursively) and --files-from FILE or - (standard input)', async () => {
    const folder = path.join(tmp, 'nested');
    fs.mkdirSync(path.join(folder, 'a', 'b'), { recursive: true });
    fs.copyFileSync(clipartFile('bird', 0), path.join(folder, 'top.jpg'));
    fs.copyFileSync(clipartFile('vehicle', 1), path.join(folder, 'a', 'b', 'deep.jpg'));
    fs.writeFileSync(path.join(folder, 'a', 'notes.txt'), 'not an image, not picked up from a folder');
    const fromFolder = await studio(['--json', 'predict', String(runId), folder]);
    expect(fromFolder.code, fromFolder.stderr).toBe(0);
    expect(lastJson(fromFolder.stdout).predictions.map((p) => p.path)).toEqual([
      path.join(folder, 'a', 'b', 'deep.jpg'),
      path.join(folder, 'top.jpg'),
    ]);

    const listed = [clipartFile('fruit', 0), clipartFile('music', 1)];
    const list = path.join(tmp, 'list.txt');
    fs.writeFileSync(list, `${listed[0]}\n\n${listed[1]}\n`);
    const fromFile = await studio(['--json', 'predict', String(runId), '--files-from', list]);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(lastJson(fromFile.stdout).predictions.map((p) => p.path)).toEqual(listed);

    const fromStdin = await studio(['--json', 'predict', String(runId), clipartFile('bug', 0), '--files-from', '-'], listed.join('\n'));
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    expect(lastJson(fromStdin.stdout).predictions.map((p) => p.path)).toEqual([clipartFile('bug', 0), ...listed]);

    const none = await studio(['predict', String(runId), '--files-from', path.join(tmp, 'no-list.txt')]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/Cannot read the list of files/);
  }, 120_000);
});
