// The sample project: made from the pictures the app ships (resources/sample, located by the
// environment), imported like any folder of labels; a copy each time; a clear error, and no
// half-made project, when an installation lacks them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Studio } from '../../electron/core/studio.js';
import { testEnvironment } from '../fixtures/environment.js';

let tmp: string;
let studio: Studio;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sample-'));
  studio = new Studio({ environment: testEnvironment(path.join(tmp, 'data')), host: 'cli' });
});
afterAll(() => {
  studio?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('sample project', () => {
  it('ships under 5 MB with its licence', () => {
    const dir = studio.environment.resources.sampleDir;
    let bytes = 0;
    const walk = (d: string): void =>
      fs
        .readdirSync(d, { withFileTypes: true })
        .forEach((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : (bytes += fs.statSync(path.join(d, e.name)).size)));
    walk(dir);
    expect(bytes).toBeLessThan(5e6);
    expect(fs.readFileSync(path.join(dir, 'LICENSE.txt'), 'utf8')).toMatch(/CC0/);
  });

  it('creates a project with three labels of 30 pictures each, and a fresh copy the second time', async () => {
    const r = await studio.call('sample.create', {});
    expect(r).toMatchObject({ images: 90, labels: 3 });
    expect(r.project).toMatchObject({ name: 'Sample: sun, tree or house?', imageCount: 90 });
    const counts = await studio.call('labels.counts', { projectId: r.project.id });
    expect(Object.fromEntries(counts.labels.map((l) => [l.name, l.count]))).toEqual({ house: 30, sun: 30, tree: 30 });
    const again = await studio.call('sample.create', {});
    expect(again.project.id).not.toBe(r.project.id);
    expect(again.project.name).toBe('Sample: sun, tree or house? (2)');
  });

  it('says the pictures are missing, and leaves no project, when the installation lacks them', async () => {
    const env = testEnvironment(path.join(tmp, 'other'));
    const broken = new Studio({
      environment: { ...env, resources: { ...env.resources, sampleDir: path.join(tmp, 'nowhere') } },
      host: 'cli',
    });
    try {
      await expect(broken.call('sample.create', {})).rejects.toThrow(/sample pictures are missing from this installation/);
      expect(await broken.call('projects.list', {})).toEqual([]);
    } finally {
      broken.close();
    }
  });
});
