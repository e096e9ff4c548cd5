// A quantized export shows its size and accuracy change first and keeps to it; bad options and a
// non-empty destination are refused.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { parseExportArgs } from '../../../electron/host/commands/export.js';
import { getExport } from '../../../electron/core/export/store.js';
import { createExportCtx, exportHandlers } from '../../../electron/core/export/handlers.js';
import { args, bundle, dir, fx, runExport } from './fixture.js';

describe('quantization and refusals', () => {
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
});
