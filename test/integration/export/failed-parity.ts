// An export whose artefact disagrees with the app is marked failed and not shipped.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { appPredictions } from '../../../electron/core/export/app-predict.js';
import { listExports } from '../../../electron/core/export/store.js';
import { createRun, finishRun } from '../../../electron/core/training/runs.js';
import { dir, fx, runExport } from './fixture.js';

describe('a failing parity check', () => {
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
