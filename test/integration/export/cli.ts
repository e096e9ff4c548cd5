// The same export and verify-export through the real CLI process, with its exit codes.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { dir, fx } from './fixture.js';

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
