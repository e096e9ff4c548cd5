// The diagnostics file: what it says, and that it names no file, folder or project unless the
// user asks — including in the recorded errors, whose messages often quote paths.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Studio } from '../../electron/core/studio.js';
import { recordError } from '../../electron/core/diagnostics/recent-errors.js';
import { noiseJpeg } from '../fixtures/images.js';
import { testEnvironment } from '../fixtures/environment.js';

const ROOT = path.resolve(__dirname, '../..');
let tmp: string;
let data: string;
let studio: Studio;
let imageFile: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'diagnostics-'));
  data = path.join(tmp, 'data-of-alice');
  studio = new Studio({ environment: testEnvironment(data), host: 'cli' });
  imageFile = path.join(tmp, 'secret-holiday-photo.jpg');
  fs.writeFileSync(imageFile, await noiseJpeg(64, 5));
  const p = await studio.call('projects.create', { name: 'Private trip' });
  await studio.importPaths(p.id, { paths: [imageFile], displayName: 'one' });
  recordError('test', new Error(`could not read ${imageFile} (EACCES), also C:\\Users\\alice\\cat 1.png and dog.webp`));
}, 60_000);

afterAll(() => {
  studio.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('app.diagnostics', () => {
  it('reports versions, engines, providers, sizes and the last errors, without names by default', async () => {
    const { text, fileName } = await studio.call('app.diagnostics', {});
    expect(fileName).toMatch(/^transfer-studio-diagnostics-[\d-]+\.txt$/);
    expect(text).toMatch(/app 0\.1\.0 \(cli\)/);
    expect(text).toMatch(/tfjs-node: /);
    expect(text).toMatch(/cpu: can load/);
    expect(text).toMatch(/project 1: 1 images, [\d.]+ MB/);
    expect(text).toMatch(/test: Error: could not read <path> \(EACCES\)/);
    for (const secret of ['secret-holiday-photo', 'Private trip', 'data-of-alice', 'alice', 'dog.webp', tmp])
      expect(text).not.toContain(secret);
  });

  it('names files, folders and projects when the user asks', async () => {
    const { text } = await studio.call('app.diagnostics', { includeFileNames: true });
    expect(text).toContain('secret-holiday-photo.jpg');
    expect(text).toContain('"Private trip"');
    expect(text).toContain(data);
  });
});

describe('studio diagnostics (CLI)', () => {
  it('writes a new file, refuses to overwrite it, and leaves names out', () => {
    const file = path.join(tmp, 'diag.txt');
    const run = () =>
      spawnSync(process.execPath, [path.join(ROOT, 'bin/studio.mjs'), '--data-dir', data, 'diagnostics', '--out', file, '--json'], {
        encoding: 'utf8',
        env: { ...process.env, STUDIO_CLI_FROM_SOURCE: '1' },
        timeout: 120_000,
      });
    const first = run();
    expect(first.status, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout.trimEnd().split('\n').at(-1)!)).toMatchObject({ file, includeFileNames: false });
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toMatch(/^Transfer Studio diagnostics/);
    expect(text).not.toContain('Private trip');
    const again = run();
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/already exists/);
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
  }, 120_000);
});
