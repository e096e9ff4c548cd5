// The `studio` CLI as a user runs it: a real process, a temp data folder, clipart-8.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { CLIPART } from '../fixtures/datasets.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const EXPECTED_LABELS = { beverage: 51, bird: 47, bug: 49, fruit: 88, hardware: 54, mammal: 115, music: 72, vehicle: 52 };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-cli-'));
const dataDir = path.join(tmp, 'data');

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to its end, or (with `until`) until stdout matches, handing back a way to stop it. */
function studio(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; until?: RegExp } = {},
): Promise<Run & { stop?: (signal: NodeJS.Signals) => Promise<number | null> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/studio.mjs'), ...args], { cwd: tmp, env: { ...process.env, ...opts.env } });
    let stdout = '';
    let stderr = '';
    const exited = new Promise<number | null>((r) => child.on('close', r));
    child.stdout.on('data', (c: Buffer) => {
      stdout += c;
      if (opts.until?.test(stdout)) resolve({ code: null, stdout, stderr, stop: (signal) => (child.kill(signal), exited) });
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    child.on('error', reject);
    void exited.then((code) => resolve({ code, stdout, stderr }));
  });
}

function lastJson(stdout: string): Record<string, unknown> {
  const last = stdout.trimEnd().split('\n').at(-1) ?? '';
  return JSON.parse(last) as Record<string, unknown>;
}

describe('studio CLI', () => {
  it('creates and lists projects, with --json as the last line', async () => {
    const created = await studio(['--data-dir', dataDir, '--json', 'project', 'create', 'Birds']);
    expect(created.code, created.stderr).toBe(0);
    expect(lastJson(created.stdout)).toEqual({ id: 1, name: 'Birds' });
    const listed = await studio(['--data-dir', dataDir, '--json', 'project', 'list']);
    expect(lastJson(listed.stdout)).toMatchObject({ projects: [{ id: 1, name: 'Birds', imageCount: 0 }] });
  });

  it('imports clipart-8 with folder labels, then finds every file a duplicate', async () => {
    const first = await studio(['--data-dir', dataDir, '--json', 'import', 'Birds', CLIPART]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/528\/528/); // progress lines go to stderr
    expect(lastJson(first.stdout)).toEqual({ imported: 528, duplicates: 0, skipped: [], labels: EXPECTED_LABELS });

    const again = await studio(['--json', 'import', '1', CLIPART], { env: { STUDIO_DATA_DIR: dataDir } });
    expect(again.code, again.stderr).toBe(0);
    expect(lastJson(again.stdout)).toMatchObject({ imported: 0, duplicates: 528, skipped: [] });
    const listed = await studio(['--data-dir', dataDir, '--json', 'project', 'list']);
    expect(lastJson(listed.stdout)).toMatchObject({ projects: [{ name: 'Birds', imageCount: 528 }] });
  });

  it('fails with one clear line and exit 1 for user errors, 2 for usage errors', async () => {
    const missing = await studio(['--data-dir', dataDir, 'import', 'Fish', CLIPART]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe('studio: There is no project named or numbered "Fish".');
    expect(missing.stderr).not.toMatch(/\bat \S+:\d+/); // no stack trace

    const noPath = await studio(['--data-dir', dataDir, 'import', 'Birds', path.join(tmp, 'nowhere')]);
    expect(noPath.code).toBe(1);
    expect(noPath.stderr).toMatch(/No such file or folder/);

    const badName = await studio(['--data-dir', dataDir, 'project', 'create', ' ']);
    expect(badName.code).toBe(1);
    expect(badName.stderr).toMatch(/name cannot be empty/);

    for (const args of [['frobnicate'], ['project'], ['import'], ['--port'], ['--bogus', 'project', 'list']]) {
      const r = await studio(['--data-dir', dataDir, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/studio:|Usage/);
    }
  });

  it('serve prints the URL, answers it, and stops cleanly on SIGINT and SIGTERM', async () => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const run = await studio(['--data-dir', dataDir, 'serve', '--port', '0'], { until: /http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/ });
      expect(run.stop, run.stderr).toBeDefined();
      const url = /http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32,}/.exec(run.stdout)![0];
      const res = await fetch(url, { redirect: 'manual' });
      expect(res.status).toBe(302);
      expect(await run.stop!(signal)).toBe(0);
      // Closed cleanly: the last connection's close checkpoints and removes the WAL file.
      expect(fs.existsSync(path.join(dataDir, 'studio.db-wal'))).toBe(false);
      await expect(fetch(url)).rejects.toThrow();
    }
  });
});
