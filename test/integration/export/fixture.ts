// What the export tests share: one finished run to export (export-fixture.ts) in a temporary
// folder, its bundle of every format, and the `export` and `verify-export` commands called as the
// CLI calls them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { makeExportFixture, type ExportFixture } from '../export-fixture.js';
import { exportCommand } from '../../../electron/host/commands/export.js';
import { verifyExportCommand } from '../../../electron/host/commands/verify-export.js';
import { appNodeModules } from '../../../electron/core/export/parity.js';
import { appPredictions } from '../../../electron/core/export/app-predict.js';

/** The temporary folder (set before the first test). */
export let dir: string;
/** The finished run and its Studio (set before the first test). */
export let fx: ExportFixture;

/** The bundle `useBundle` exported: the JSON line `studio export --json` ends with. */
export let bundle: {
  exportId: number;
  format: string;
  status: string;
  dir: string;
  zip: string;
  files: { path: string; bytes: number; sha256: string }[];
  parity: { maxAbsDiff: number; agreement: number; images: number; passed: boolean };
};
/** The app's own probabilities for each test picture, in `fx.testFiles` order. */
export let app: Float32Array[];

/** Call once at the top of a test file, before its own hooks: builds the run first and removes it all after the last test. */
export function useExportFixture(prefix = 'export-test-'): void {
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    fx = await makeExportFixture(path.join(dir, 'data'));
  }, 300_000);
  afterAll(() => {
    fx?.studio.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
}

/** After `useExportFixture`: exports the run as a bundle of every format into DIR/bundle before the first test. */
export function useBundle(): void {
  beforeAll(async () => {
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
}

/** A command line as the CLI parses it (`--quantize` is the one flag without a value), always with --json. */
export const args = (...a: string[]) => {
  const flags = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '--quantize') flags.set('quantize', true);
    else if (a[i]!.startsWith('--')) flags.set(a[i]!.slice(2), a[++i]!);
    else positionals.push(a[i]!);
  }
  return { positionals, flags, json: true };
};

/** `studio export …` in this process, on the fixture's Studio: its exit code, its lines and the last one (JSON) parsed. */
export async function runExport(...a: string[]): Promise<{ code: number; lines: string[]; last: Record<string, unknown> }> {
  const lines: string[] = [];
  const code = await exportCommand(
    fx.studio,
    args('export', ...a),
    (l) => lines.push(l),
    () => {},
  );
  return { code, lines, last: JSON.parse(lines[lines.length - 1]!) as Record<string, unknown> };
}

/** `studio verify-export TARGET`: its exit code and lines. */
export function verify(target: string): { code: number; lines: string[] } {
  const lines: string[] = [];
  const code = verifyExportCommand(args('verify-export', target), (l) => lines.push(l));
  return { code, lines };
}

/** A copy of the bundle where the examples' `sharp`/`onnxruntime-node` resolve (as after `npm install`). */
export function installedCopy(src: string): string {
  const copy = fs.mkdtempSync(path.join(dir, 'installed-'));
  fs.cpSync(src, copy, { recursive: true });
  fs.symlinkSync(appNodeModules(), path.join(copy, 'examples', 'node', 'node_modules'), 'junction');
  return copy;
}
