// Labeling with suggestions, end to end: the real `studio serve` host (its long-lived suggestion
// engine, on the tiny base for speed) and Debian's Chromium. A project with 3 pictures labeled in
// each of 3 labels: the suggestions view shows the unlabeled pictures with the model's answer;
// "Accept the N suggestions for X" labels exactly those N in one action; undo puts them back.
import { test, expect, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startHost, tempDir, type RunningHost } from './fixtures/host.js';
import { callHost } from './fixtures/host-call.js';

const SHOTS = path.resolve('test-results/screenshots');
let host: RunningHost;
let work: string;
let seeded: { projectId: number };

test.beforeAll(async () => {
  test.setTimeout(120_000);
  work = tempDir('studio-e2e-suggest-');
  const data = path.join(work, 'data');
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'test/e2e/fixtures/seed-suggest.ts', data], { encoding: 'utf8' });
  seeded = JSON.parse(out.trimEnd().split('\n').at(-1)!) as typeof seeded;
  host = await startHost(data, 60_000, { STUDIO_SUGGEST_BASE: 'tiny' });
  fs.mkdirSync(SHOTS, { recursive: true });
});

test.afterAll(async () => {
  await host?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test.use({ viewport: { width: 1280, height: 900 } });

const unlabeledCount = async (page: Page) => (await callHost(page, 'labels.counts', { projectId: seeded.projectId })).unlabeled;

test('accept the suggestions of one label in bulk, then undo', async ({ page }) => {
  test.setTimeout(60_000);
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  await page.goto(host.url);
  await page.getByRole('button', { name: 'Open Suggestions' }).click();
  // The engine's start and the first reading of the 30 pictures take a few seconds.
  await expect(page.getByTestId('suggest-bar')).toHaveAttribute('data-state', 'ready', { timeout: 30_000 });
  // The grid's unlabeled thumbnails carry the suggestion (dashed, with its confidence); labeled ones do not.
  const grid = page.getByTestId('image-grid');
  await expect(grid.getByTestId('thumb-suggestion').first()).toHaveText(/^\w+\? \d+%$/);
  const withChip = await grid
    .locator('button.thumb:has([data-testid="thumb-suggestion"])')
    .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
  expect(withChip.length).toBeGreaterThan(0);
  expect(withChip.every((name) => /, unlabeled, suggested \w+ \(\d+%\)/.test(name))).toBe(true);
  await expect(grid.locator('button.thumb:not([aria-label*="unlabeled"]) [data-testid="thumb-suggestion"]')).toHaveCount(0);
  await page.screenshot({ path: path.join(SHOTS, 'suggestions-on-grid.png') });
  await page.getByTestId('suggest-open').click();
  const view = page.getByTestId('suggestions-view');
  await expect(view).toBeVisible();
  await page.getByTestId('suggest-threshold').selectOption('0');
  const tiles = view.getByTestId('suggest-tile');
  await expect(tiles.first()).toBeVisible();
  await expect(tiles.first()).toContainText(/\d+%/);
  const shown = await tiles.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-image-id'))));
  const accept = page.getByTestId('suggest-accept');
  await expect(accept).toHaveText(new RegExp(`^Accept the ${shown.length} suggestions? for \\w+`));
  await page.screenshot({ path: path.join(SHOTS, 'suggestions-view.png') });

  const before = await unlabeledCount(page);
  await accept.click();
  await expect(page.getByTestId('suggest-undo')).toContainText(`Accept ${shown.length} suggestion`);
  await expect.poll(() => unlabeledCount(page)).toBe(before - shown.length);
  // Exactly the shown pictures now carry the label.
  const label = (await callHost(page, 'images.get', { projectId: seeded.projectId, imageId: shown[0]! })).labelId;
  for (const id of shown) expect((await callHost(page, 'images.get', { projectId: seeded.projectId, imageId: id })).labelId).toBe(label);

  await page.getByTestId('suggest-undo').click();
  await expect.poll(() => unlabeledCount(page)).toBe(before);
  for (const id of shown) expect((await callHost(page, 'images.get', { projectId: seeded.projectId, imageId: id })).labelId).toBeNull();
  expect(problems).toEqual([]);
});
