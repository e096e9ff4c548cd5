// The web demo of a run on a graph-model base, opened from disk in Debian's Chromium: it loads
// the exported TF.js graph model (base and classifier in one) with the bundled runtime and
// classifies an image as the app does.
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = path.resolve(import.meta.dirname, '../..');

interface Fixture {
  bundleDir: string;
  labels: string[];
  images: { file: string; label: string; margin: number }[];
}

let work: string;
let fx: Fixture;

test.beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'export-demo-graph-'));
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'test/fixtures/graph-export.ts', work], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (r.status !== 0) throw new Error(`building the graph export failed (${r.status}):\n${r.stderr.slice(-3000)}`);
  fx = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Fixture;
});

test.afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('the web demo of a graph-base run loads its graph model and classifies like the app', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(pathToFileURL(path.join(fx.bundleDir, 'web-demo', 'index.html')).href);
  await expect(page.locator('body')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  expect(errors).toEqual([]);
  // The image the app is surest about: canvas resampling differs from libvips a little.
  const image = [...fx.images].sort((a, b) => b.margin - a.margin)[0]!;
  await page.setInputFiles('#file', image.file);
  await expect(page.locator('body')).toHaveAttribute('data-state', 'classified');
  await expect(page.locator('#bars .bar')).toHaveCount(fx.labels.length);
  await expect(page.locator('#top')).toHaveAttribute('data-label', image.label);
});
