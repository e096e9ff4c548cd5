// The CLI is a client of the contract like any other: its option checks are the contract's, paths
// reach the core only as tokens a host registered, it starts from the bundle without loading
// tfjs, ONNX Runtime or sharp for commands that do not use them, and a long command line never
// reaches the process that opens ONNX Runtime sessions.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Studio } from '../../electron/core/studio.js';
import { testEnvironment } from '../fixtures/environment.js';
import { calls, describeIssues, StudioError } from '../../electron/shared/contract.js';
import { commandLineBytes, MAX_ARGV_BYTES } from '../../electron/host/cli-relaunch.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/studio.mjs');
const BUNDLE = path.join(ROOT, 'dist/electron/host/cli.cjs');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-cli-contract-'));
let studio: Studio;

beforeAll(() => {
  // The CLI runs from the bundle `npm run build` makes; build it here if a fresh checkout has none.
  if (!fs.existsSync(BUNDLE)) execFileSync(process.execPath, [path.join(ROOT, 'scripts/build-node.mjs')], { cwd: ROOT, stdio: 'ignore' });
  studio = new Studio({ environment: testEnvironment(path.join(tmp, 'data')), host: 'web' });
}, 120_000);
afterAll(() => {
  studio.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--data-dir', path.join(tmp, 'cli-data'), ...args], {
      cwd: tmp,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the CLI checks options with the contract', () => {
  it('refuses a --seed above the contract’s cap, with the contract’s message', async () => {
    const tooBig = 2 ** 31;
    const contract = calls['training.start'].args.safeParse({ projectId: 1, overrides: { seed: tooBig } });
    expect(contract.success).toBe(false);
    const message = contract.error!.issues[0]!.message;
    const r = await run(['train', 'Anything', '--seed', String(tooBig)]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`studio: --seed: ${message}`);
    // One below the cap is the contract's to accept: the CLI goes on (and finds no such project).
    const ok = await run(['train', 'Anything', '--seed', String(tooBig - 1)]);
    expect(ok.code).toBe(1);
    expect(ok.stderr).toMatch(/There is no project named or numbered "Anything"/);
  });
});

describe('paths reach the core only as host-registered tokens', () => {
  it('refuses a raw path where a call takes a token', async () => {
    for (const [method, args] of [
      ['runs.predictFiles', { runId: 1, files: '/etc/passwd' }],
      ['runs.predictFiles', { runId: 1, files: '../../etc' }],
      ['exports.start', { runId: 1, destination: '/tmp/anywhere' }],
      ['exports.start', { runId: 1, destination: 'C:\\\\Users' }],
    ] as const) {
      const err = await studio.invoke(method, args).catch((e: unknown) => e);
      expect(err, method).toBeInstanceOf(StudioError);
      expect((err as StudioError).code).toBe('invalid');
    }
  });

  it('takes a token once, and only for what it was registered as', async () => {
    const project = await studio.call('projects.create', { name: 'Tokens' });
    const runId = Number(
      studio.db
        .prepare("INSERT INTO runs (project_id, base_id, strategy, config, status) VALUES (?, 'mobilenet_v2', 'head', '{}', 'done')")
        .run(project.id).lastInsertRowid,
    );
    const importToken = studio.sources.register({ paths: [tmp], displayName: 'tmp' });
    const folderToken = studio.sources.registerOutputFolder(path.join(tmp, 'out'));
    const filesToken = studio.sources.registerFiles([path.join(tmp, 'a.jpg')]);
    // An import (or upload) token cannot name files to read, nor a folder to write.
    await expect(studio.call('runs.predictFiles', { runId, files: importToken })).rejects.toThrow(/no longer available/);
    await expect(studio.call('exports.start', { runId, destination: filesToken })).rejects.toThrow(/output folder is no longer available/);
    await expect(studio.call('runs.predictFiles', { runId, files: folderToken })).rejects.toThrow(/batch of files/);
    // Each was refused without being used up, except the one that matched nothing — and a used one is gone.
    expect(studio.sources.takeFiles(filesToken).files).toEqual([path.join(tmp, 'a.jpg')]);
    expect(() => studio.sources.takeFiles(filesToken)).toThrow(/no longer available/);
    expect(studio.sources.take(importToken).paths).toEqual([tmp]);
    expect(studio.sources.takeOutputFolder(folderToken).dir).toBe(path.join(tmp, 'out'));
  });

  it('describes a refused token argument briefly', () => {
    const r = calls['runs.predictFiles'].args.safeParse({ runId: 1, files: '/etc/passwd' });
    expect(r.success).toBe(false);
    expect(describeIssues(r.error!)).toMatch(/^files: Not a source handle/);
  });
});

describe('the CLI starts from its bundle', () => {
  it('lists projects without loading tfjs, ONNX Runtime, sharp or onnx-proto', async () => {
    const report = path.join(tmp, 'loaded.json');
    const hook = path.join(tmp, 'record-loaded.cjs');
    fs.writeFileSync(
      hook,
      `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(report)}, JSON.stringify(Object.keys(require.cache))));\n`,
    );
    const r = await run(['--json', 'project', 'list'], { NODE_OPTIONS: `--require ${hook}` });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!)).toEqual({ projects: [] });
    const loaded = JSON.parse(fs.readFileSync(report, 'utf8')) as string[];
    expect(loaded.some((f) => f.endsWith(path.join('dist', 'electron', 'host', 'cli.js')) || f.includes('better-sqlite3'))).toBe(true);
    const heavy = loaded.filter((f) =>
      /node_modules[\\/](@tensorflow|onnxruntime-node|onnxruntime-common|sharp|@img|onnx-proto|protobufjs)[\\/]/.test(f),
    );
    expect(heavy).toEqual([]);
    expect(r.stderr).not.toMatch(/running from source/);
  });

  it('measures its command line as the OS holds it, and relaunches well below the ONNX Runtime crash', () => {
    expect(commandLineBytes(['node', 'a', 'bc'])).toBe(5 + 2 + 3);
    expect(MAX_ARGV_BYTES).toBeLessThan(29 * 1024);
  });
});
