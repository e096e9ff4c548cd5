// Two processes writing one data folder, as the README allows (the CLI and the web host sharing
// it): neither may fail with `database is locked`. Real processes, real SQLite file, clipart-8.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { CLIPART } from '../fixtures/datasets.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-writers-'));

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function node(args: string[], onStdout?: (text: string) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c;
      onStdout?.(stdout);
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const studio = (dataDir: string, ...args: string[]) => node([path.join(ROOT, 'bin/studio.mjs'), '--data-dir', dataDir, '--json', ...args]);

function lastJson(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout.trimEnd().split('\n').at(-1) ?? '') as Record<string, unknown>;
}

function imageCount(dataDir: string): number {
  const db = new Database(path.join(dataDir, 'studio.db'), { readonly: true });
  try {
    return db.prepare('SELECT COUNT(*) FROM images').pluck().get() as number;
  } finally {
    db.close();
  }
}

describe('two writers on one data folder', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = path.join(tmp, 'shared');
    const created = await studio(dataDir, 'project', 'create', 'Shared');
    expect(created.code, created.stderr).toBe(0);
  });

  it('two `studio import` runs of the same folder into one project both succeed, and each image is stored once', async () => {
    const [a, b] = await Promise.all([studio(dataDir, 'import', 'Shared', CLIPART), studio(dataDir, 'import', 'Shared', CLIPART)]);
    expect(a.stderr + b.stderr).not.toMatch(/locked|SQLITE_BUSY/i);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const ra = lastJson(a.stdout) as { imported: number; duplicates: number };
    const rb = lastJson(b.stdout) as { imported: number; duplicates: number };
    expect(ra.imported + rb.imported).toBe(528);
    expect(imageCount(dataDir)).toBe(528);
  }, 300_000);

  it('a labeling process and a CLI import into the same project both succeed', async () => {
    const other = path.join(tmp, 'labeling');
    expect((await studio(other, 'project', 'create', 'Labeling')).code).toBe(0);
    // Some images to label before the import starts, so the labeler writes from its first call.
    const seed = path.join(tmp, 'seed');
    fs.mkdirSync(path.join(seed, 'bird'), { recursive: true });
    for (const f of fs.readdirSync(path.join(CLIPART, 'bird')).slice(0, 10))
      fs.copyFileSync(path.join(CLIPART, 'bird', f), path.join(seed, 'bird', f));
    expect((await studio(other, 'import', 'Labeling', seed)).code).toBe(0);

    let started!: () => void;
    const labelerStarted = new Promise<void>((r) => (started = r));
    const labeler = node(['--import', 'tsx', path.join(ROOT, 'test/fixtures/label-writer.ts'), other, '1', '20000'], (out) => {
      if (out.includes('started')) started();
    });
    await Promise.race([labelerStarted, labeler]);
    const imported = await studio(other, 'import', 'Labeling', CLIPART);
    const labeled = await labeler;
    expect(imported.stderr).not.toMatch(/locked|SQLITE_BUSY/i);
    expect(imported.code, imported.stderr).toBe(0);
    expect(labeled.code, labeled.stderr).toBe(0);
    const report = lastJson(labeled.stdout) as { calls: number; errors: string[] };
    expect(report.errors).toEqual([]);
    expect(report.calls).toBeGreaterThan(10);
    expect(imageCount(other)).toBe(528);
  }, 300_000);
});
