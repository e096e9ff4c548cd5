// `studio models import|list` as a user runs them, then `studio train` and `studio export` with
// the imported base: real processes, a temp data folder, a bare model folder (no metadata).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyResidualFolder } from '../fixtures/tiny-base.js';
import { writeTinyGraphFolder } from '../fixtures/tiny-graph.js';
import { CLIPART } from '../fixtures/training-project.js';
import { runStudio, lastJson } from '../fixtures/cli.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-models-cli-'));
const dataDir = path.join(tmp, 'data');
const modelDir = path.join(tmp, 'tiny residual');
const graphDir = path.join(tmp, 'tiny graph');

const studio = (args: string[]) => runStudio(['--data-dir', dataDir, ...args], { cwd: tmp });

beforeAll(async () => {
  await writeTinyResidualFolder(modelDir);
  await writeTinyGraphFolder(graphDir);
  // Two labels of real images, a dozen each: enough for every split.
  for (const label of ['bird', 'vehicle']) {
    fs.mkdirSync(path.join(tmp, 'images', label), { recursive: true });
    for (const f of fs.readdirSync(path.join(CLIPART, label)).sort().slice(0, 12))
      fs.copyFileSync(path.join(CLIPART, label, f), path.join(tmp, 'images', label, f));
  }
}, 60_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('studio models', () => {
  let modelId = '';

  it('refuses a folder that does not say its scaling, naming the choices (exit 1)', async () => {
    const r = await studio(['models', 'import', modelDir]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/--scaling '\[0,1\]', '\[-1,1\]', '\[0,255\]'/);
    const bad = await studio(['models', 'import', modelDir, '--scaling', '[0,2]']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--scaling must be one of/);
  }, 60_000);

  it('imports it with --scaling and lists it, as JSON', async () => {
    const r = await studio(['models', 'import', modelDir, '--scaling', '[0,1]', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { model } = lastJson(r.stdout);
    expect(model).toMatchObject({ origin: 'imported', format: 'layers', inputSize: 32, strategies: [1, 2, 3] });
    expect(model.scaling).toEqual({ from: [0, 255], to: [0, 1] });
    modelId = model.id;
    const listed = await studio(['models', 'list', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const ids = lastJson(listed.stdout).models.map((m: { id: string }) => m.id);
    expect(ids).toEqual(expect.arrayContaining(['mobilenet_v2', 'inception_v3', modelId]));
  }, 60_000);

  it('trains with the imported base and exports the run', async () => {
    expect((await studio(['project', 'create', 'Things'])).code).toBe(0);
    const imported = await studio(['import', 'Things', path.join(tmp, 'images')]);
    expect(imported.code, imported.stderr).toBe(0);
    const trained = await studio(['train', 'Things', '--strategy', 'partial', '--base', modelId, '--epochs', '1', '--json']);
    expect(trained.code, trained.stdout + trained.stderr).toBe(0);
    const run = lastJson(trained.stdout);
    expect(run).toMatchObject({ status: 'done', base: modelId, strategy: 'partial' });
    const out = path.join(tmp, 'export');
    const exported = await studio(['export', String(run.runId), '--out', out, '--json']);
    expect(exported.code, exported.stdout + exported.stderr).toBe(0);
    expect(fs.existsSync(path.join(out, 'model.onnx'))).toBe(true);
    expect(fs.readFileSync(path.join(out, 'README.md'), 'utf8')).toMatch(/tiny residual|tiny_residual/i);
  }, 300_000);

  it('imports a graph model, trains on it with `studio train --base` (strategy 3 only) and exports it without ONNX, saying why', async () => {
    const r = await studio(['models', 'import', graphDir, '--scaling', '[-1,1]', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { model } = lastJson(r.stdout);
    expect(model).toMatchObject({ format: 'graph', strategies: [3], limitation: 'strategy 3 only' });
    const refused = await studio(['train', 'Things', '--strategy', 'full', '--base', model.id, '--epochs', '1']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr + refused.stdout).toMatch(/graph model.*only strategy 3/);
    const trained = await studio(['train', 'Things', '--base', model.id, '--epochs', '2', '--json']);
    expect(trained.code, trained.stdout + trained.stderr).toBe(0);
    const run = lastJson(trained.stdout);
    expect(run).toMatchObject({ status: 'done', base: model.id, strategy: 'head' });
    const out = path.join(tmp, 'graph-export');
    const exported = await studio(['export', String(run.runId), '--out', out, '--json']);
    expect(exported.code, exported.stdout + exported.stderr).toBe(0);
    expect(exported.stdout).toMatch(/onnx not included: .*graph model/);
    expect(lastJson(exported.stdout).skipped.map((s: { part: string }) => s.part)).toEqual(['onnx', 'examples']);
    expect(fs.existsSync(path.join(out, 'model.onnx'))).toBe(false);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'tfjs', 'model.json'), 'utf8')).format).toBe('graph-model');
  }, 300_000);
});
