// The exported web demo, opened straight from disk (file://, where fetch() is refused) in
// Debian's Chromium: it loads its inlined model with the bundled TF.js runtime, classifies an
// image set on its file input, one dropped on it, and the (fake) webcam, and its top label for
// the image equals the app's prediction.
import { test, expect, type Page } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SHOTS = path.resolve('test-results/screenshots');

interface Fixture {
  bundleDir: string;
  labels: string[];
  images: { file: string; truth: string; label: string; probability: number; margin: number }[];
}

let work: string;
let fx: Fixture;

test.beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'export-demo-'));
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'test/integration/export-fixture.ts', work], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (r.status !== 0) throw new Error(`building the export fixture failed (${r.status}):\n${r.stderr.slice(-3000)}`);
  const lines = r.stdout.trim().split('\n');
  fx = JSON.parse(lines[lines.length - 1]!) as Fixture;
  fs.mkdirSync(SHOTS, { recursive: true });
});

test.afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** The test image the app is most sure about: canvas resampling differs from libvips a little. */
const clearest = () => [...fx.images].sort((a, b) => b.margin - a.margin);

async function openDemo(page: Page): Promise<string[]> {
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(pathToFileURL(path.join(fx.bundleDir, 'web-demo', 'index.html')).href);
  await expect(page.locator('body')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  expect(errors).toEqual([]);
  return requests;
}

test('the web demo classifies a chosen image like the app, offline from file://', async ({ page }) => {
  const requests = await openDemo(page);
  const image = clearest()[0]!;
  await page.setInputFiles('#file', image.file);
  await expect(page.locator('body')).toHaveAttribute('data-state', 'classified');
  await expect(page.locator('#top')).toHaveAttribute('data-label', image.label);
  await expect(page.locator('#bars .bar')).toHaveCount(fx.labels.length);
  await page.screenshot({ path: path.join(SHOTS, 'export-demo-file.png') });
  // Nothing but the bundle's own files was loaded.
  expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
});

test('a dropped image is classified the same way', async ({ page }) => {
  await openDemo(page);
  const image = clearest()[1] ?? clearest()[0]!;
  const bytes = fs.readFileSync(image.file).toString('base64');
  // In-page code as a string: the Node-side tsconfig has no DOM types.
  await page.evaluate(`(() => {
    const bin = atob(${JSON.stringify(bytes)});
    const data = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) data[i] = bin.charCodeAt(i);
    const dt = new DataTransfer();
    dt.items.add(new File([data], ${JSON.stringify(path.basename(image.file))}, { type: 'image/jpeg' }));
    document.getElementById('drop').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  })()`);
  await expect(page.locator('#status')).toHaveText(`Classified ${path.basename(image.file)}.`);
  await expect(page.locator('#top')).toHaveAttribute('data-label', image.label);
  await page.screenshot({ path: path.join(SHOTS, 'export-demo-drop.png') });
});

test('the webcam is classified continuously', async ({ page }) => {
  await openDemo(page);
  await page.click('#webcam');
  // Chromium's fake camera can take most of a minute to open while the unit tests share the 2 cores (CI).
  await expect(page.locator('#status')).toHaveText('Classifying the webcam…', { timeout: 90_000 });
  await expect(page.locator('body')).toHaveAttribute('data-state', 'classified', { timeout: 60_000 });
  await expect(page.locator('#top')).toHaveAttribute('data-label', new RegExp(`^(${fx.labels.join('|')})$`));
  await page.screenshot({ path: path.join(SHOTS, 'export-demo-webcam.png') });
  await page.click('#webcam');
  await expect(page.locator('#camera')).toBeHidden();
});
