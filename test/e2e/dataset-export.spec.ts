// Dataset export from the Images tab in the web app: the real `studio serve` host and built
// renderer in Chromium. The project is seeded with the CLI; the dialog's .zip download is saved
// and its entries checked against the project's labels.
import { test, expect } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startHost, tempDir, type RunningHost } from './fixtures/host.js';
import { CLIPART } from '../fixtures/datasets.js';

const SHOTS = path.resolve('test-results/screenshots');
let host: RunningHost;
let work: string;

test.beforeAll(async () => {
  work = tempDir('studio-e2e-dataset-');
  const src = path.join(work, 'src');
  // Two labels, three images each, from the clipart set.
  for (const label of ['bird', 'fruit']) {
    fs.mkdirSync(path.join(src, label), { recursive: true });
    for (const f of fs.readdirSync(path.join(CLIPART, label)).slice(0, 3))
      fs.copyFileSync(path.join(CLIPART, label, f), path.join(src, label, f));
  }
  const data = path.join(work, 'data');
  const cli = (...args: string[]) => execFileSync(process.execPath, ['bin/studio.mjs', '--data-dir', data, ...args], { encoding: 'utf8' });
  cli('project', 'create', 'Birds and fruit');
  cli('import', 'Birds and fruit', src);
  host = await startHost(data);
  fs.mkdirSync(SHOTS, { recursive: true });
});

test.afterAll(async () => {
  await host?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('export the dataset as label folders and download the zip', async ({ page }) => {
  await page.goto(host.url);
  await page.getByRole('button', { name: 'Open Birds and fruit' }).click();
  await page.getByTestId('export-dataset').click();
  const dialog = page.getByTestId('dataset-export');
  await expect(dialog.getByRole('heading', { name: 'Export dataset' })).toBeVisible();
  await dialog.getByTestId('start-dataset-export').click();
  await expect(dialog.getByTestId('dataset-export-done')).toHaveText(/6 images in 2 labels/);
  await page.screenshot({ path: path.join(SHOTS, 'dataset-export-done.png') });
  const [download] = await Promise.all([page.waitForEvent('download'), dialog.getByTestId('download-dataset').click()]);
  const file = path.join(work, 'dataset.zip');
  await download.saveAs(file);
  const zip = fs.readFileSync(file).toString('latin1');
  // Each entry's name is stored in clear twice (local header and central directory): three images per label folder.
  for (const label of ['bird', 'fruit']) expect(zip.split(`Birds and fruit-dataset/${label}/`).length - 1).toBe(6);
});

test('save diagnostics from the projects screen: a text file without project or file names', async ({ page }) => {
  await page.goto(host.url);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('save-diagnostics').click()]);
  expect(download.suggestedFilename()).toMatch(/^transfer-studio-diagnostics-.*\.txt$/);
  const file = path.join(work, 'diagnostics.txt');
  await download.saveAs(file);
  const text = fs.readFileSync(file, 'utf8');
  expect(text).toMatch(/project 1: 6 images/);
  expect(text).not.toContain('Birds and fruit');
  await page.screenshot({ path: path.join(SHOTS, 'save-diagnostics.png') });
});
