// Export end to end: a run trained fast with the CLI (3 labels × 10 clip-art pictures, "new
// classifier only", 3 epochs), then in the browser against the real `studio serve`: open the run,
// open Export, see what 8-bit weights would cost, export the float bundle, watch its progress,
// read the parity check ("matches the app"), download the .zip through the host, and cancel a
// second export.
import { test, expect, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startHost, tempDir, type RunningHost } from './fixtures/host.js';
import { copyClipartSubset } from '../fixtures/datasets.js';

const LABELS = ['bird', 'fruit', 'vehicle'];
const PER_LABEL = 10;
const SHOTS = path.resolve('test-results/screenshots');

let host: RunningHost;
let work: string;
let projectId: number;
let runId: number;

/** Runs the CLI with --json and returns its last line, parsed. */
function studio(dataDir: string, ...args: string[]): Record<string, unknown> {
  const out = execFileSync(process.execPath, ['bin/studio.mjs', '--data-dir', dataDir, '--json', ...args], {
    encoding: 'utf8',
    timeout: 240_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const last = out.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as Record<string, unknown>;
}

test.beforeAll(async () => {
  test.setTimeout(300_000);
  work = tempDir('studio-e2e-export-');
  copyClipartSubset(path.join(work, 'kinds'), LABELS, PER_LABEL);
  const data = path.join(work, 'data');
  projectId = Number(studio(data, 'project', 'create', 'Kinds').id);
  const imported = studio(data, 'import', String(projectId), path.join(work, 'kinds'));
  expect(imported.imported).toBe(LABELS.length * PER_LABEL);
  const trained = studio(data, 'train', String(projectId), '--strategy', 'head', '--epochs', '3');
  expect(trained.status).toBe('done');
  runId = Number(trained.runId);
  host = await startHost(data);
  fs.mkdirSync(SHOTS, { recursive: true });
});

test.afterAll(async () => {
  await host?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test.use({ viewport: { width: 1280, height: 1000 }, acceptDownloads: true });
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `4x-${name}.png`) });

test('export a finished run: 8-bit preview, float bundle, parity, zip download', async ({ page }) => {
  test.setTimeout(300_000);
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/404/.test(m.text())) problems.push(`console: ${m.text()}`);
  });

  await test.step('open the finished run and its Export panel', async () => {
    await page.goto(host.url);
    await page.goto(`${host.origin}/#/project/${projectId}/train`);
    await page.getByTestId(`run-${runId}`).click();
    await expect(page.getByTestId('run-view')).toHaveAttribute('data-status', 'done');
    await page.getByTestId('open-export').click();
    const panel = page.getByTestId('export-panel');
    await expect(panel).toBeVisible();
    for (const part of ['tfjs', 'onnx', 'web-demo', 'examples']) await expect(page.getByTestId(`part-${part}`)).toBeChecked();
    await expect(panel).toContainText('Model for apps — use it from Python, a server, a phone, C#…');
    await expect(page.getByTestId('export-history')).toContainText('None yet');
    // The network inside the model and its size, from the model itself (exports.modelContents).
    await expect(page.getByTestId('model-trunk')).toHaveCount(1);
    await expect(page.getByTestId('model-trunk')).toContainText(/MobileNetV2 .*pretrained network, \d+(\.\d)? MB/);
    // "Save to folder…" needs the desktop app's folder dialog; the browser keeps the .zip download.
    await expect(page.getByTestId('save-export-to-folder')).toHaveCount(0);
    await shot(page, '01-export-panel');
  });

  await test.step('8-bit weights: sizes before/after and the accuracy change, before exporting', async () => {
    await page.getByTestId('quantize').check();
    await expect(page.getByTestId('preview-size')).toHaveText(/^[\d.]+ (KB|MB) → [\d.]+ (KB|MB)$/, { timeout: 120_000 });
    await expect(page.getByTestId('preview-accuracy')).toContainText(/\d+(\.\d)?% → \d+(\.\d)?%/);
    await expect(page.getByTestId('preview-accuracy')).toContainText(/no change|points/);
    await shot(page, '02-quantize-preview');
    // The float bundle is what the rest of this test checks.
    await page.getByTestId('quantize').uncheck();
    await expect(page.getByTestId('quantize-preview')).toHaveCount(0);
  });

  await test.step('export the float bundle: progress, then a result that matches the app', async () => {
    await page.getByTestId('start-export').click();
    await expect(page.getByTestId('export-progress')).toBeVisible();
    await expect(page.getByTestId('export-phase')).not.toHaveText('Starting…', { timeout: 30_000 });
    // Time left, not "step N of 6", and what the phase is doing while the check runs.
    await expect(page.getByTestId('export-eta')).toHaveText(/left|estimating/);
    await shot(page, '03-export-progress');
    await expect(page.getByTestId('export-result')).toBeVisible({ timeout: 240_000 });
    await expect(page.getByTestId('export-result')).toHaveAttribute('data-status', 'done');
    await expect(page.getByTestId('export-progress')).toHaveCount(0);
    await expect(page.getByTestId('export-parity')).toHaveText(
      /^Matches the app on all \d+ test images; largest probability difference 0(\.\d+)?\.$/,
    );
    // What each part is for, in words, before any file name.
    const uses = page.getByTestId('export-uses');
    for (const words of ['Open the demo in any browser', 'Use in a website', 'Use from Python', 'Use in an app or on a server'])
      await expect(uses).toContainText(words);
    await expect(page.getByTestId('export-files')).toBeHidden();
    await page
      .getByTestId('export-result')
      .getByText(/^Details: \d+ files$/)
      .click();
    const files = page.getByTestId('export-files');
    for (const f of ['model.onnx', 'web-demo/index.html', 'README.md', 'labels.json']) await expect(files).toContainText(f);
    await expect(page.getByTestId('export-history').getByRole('listitem')).toHaveCount(1);
    await expect(page.getByTestId('export-history')).toContainText('Ready');
    await shot(page, '04-export-result');
  });

  await test.step('download the .zip through the host', async () => {
    // The web host has no file manager to open: it offers the zip instead.
    await expect(page.getByTestId('reveal-export')).toHaveCount(0);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-export').click()]);
    expect(download.suggestedFilename()).toMatch(/^transfer-studio-export-\d+\.zip$/);
    const saved = path.join(work, 'downloaded.zip');
    await download.saveAs(saved);
    const bytes = fs.readFileSync(saved);
    expect(bytes.length).toBeGreaterThan(10_000);
    expect(bytes.subarray(0, 2).toString('latin1')).toBe('PK');
  });

  await test.step('Cancel stops a running export and says so', async () => {
    await page.getByTestId('start-export').click();
    await expect(page.getByTestId('export-progress')).toBeVisible();
    await page.getByTestId('cancel-export').click();
    await expect(page.getByTestId('export-result')).toHaveAttribute('data-status', 'cancelled', { timeout: 120_000 });
    await expect(page.getByTestId('export-error')).toContainText('cancelled');
    await expect(page.getByTestId('download-export')).toHaveCount(0);
    await expect(page.getByTestId('export-history').getByRole('listitem')).toHaveCount(2);
    await shot(page, '05-export-cancelled');
  });

  expect(problems).toEqual([]);
});
