// "Nothing in the way of Start": on the first visit to a freshly imported project, the Train tab
// offers a plan at once (from the picture counts) and its Start button is enabled within 5 s and
// in view at 1280×800, however long the wizard's measurement takes — here stretched to minutes by
// STUDIO_SLOW_WIZARD_MS. Pressing Start before it ends trains exactly the plan shown.
import { test, expect } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import { startHost, tempDir, type RunningHost } from './fixtures/host.js';
import { callHost } from './fixtures/host-call.js';
import { expectPlainWords } from './fixtures/plain-words.js';
import { copyClipartSubset } from '../fixtures/datasets.js';

const LABELS = ['bird', 'fruit'];
const PER_LABEL = 6;
const SHOTS = path.resolve('test-results/screenshots');

let host: RunningHost;
let work: string;

test.beforeAll(async () => {
  work = tempDir('studio-e2e-start-');
  copyClipartSubset(path.join(work, 'two'), LABELS, PER_LABEL);
  host = await startHost(path.join(work, 'data'), 60_000, { STUDIO_SLOW_WIZARD_MS: '300000' });
  fs.mkdirSync(SHOTS, { recursive: true });
});

test.afterAll(async () => {
  await host?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('Start is enabled within 5 s, in view, and trains the plan shown while the wizard still measures', async ({ page }) => {
  test.setTimeout(180_000);
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(host.url);
  await page.getByPlaceholder(/Name a new project/).fill('First visit');
  await page.getByRole('button', { name: 'Create project' }).click();
  await page.getByRole('button', { name: 'Import images' }).first().click();
  await page.getByTestId('folder-input').setInputFiles(path.join(work, 'two'));
  await expect(page.getByTestId('report-imported')).toHaveText(String(LABELS.length * PER_LABEL), { timeout: 60_000 });
  await page.getByRole('button', { name: 'Done' }).click();
  await expectPlainWords(page, 'the images page');
  // Selecting does not move the grid: the selection bar's place is kept.
  const cell = page.locator('[data-index="0"]');
  const y = (await cell.boundingBox())!.y;
  await cell.click();
  await expect(page.getByTestId('selection-count')).toHaveText('1 image selected');
  expect((await cell.boundingBox())!.y).toBe(y);
  await page.screenshot({ path: path.join(SHOTS, 'start-00-images-selected.png') });
  await page.keyboard.press('Escape');

  await page.getByTestId('train-tab').click();
  const start = page.getByTestId('start-training');
  await expect(start).toBeEnabled({ timeout: 5_000 });
  await expect(start).toBeInViewport();
  // The measurement is still going: Start did not wait for it.
  await expect(page.getByTestId('wizard-measuring')).toBeVisible();
  await expect(page.getByTestId('plan-first')).toBeVisible();
  // Nobody chose anything yet: the box says what is recommended, not "Your choice".
  await expect(page.getByTestId('recommendation').getByRole('heading', { name: 'Recommended' })).toBeVisible();
  await expect(page.getByTestId('reason')).toBeVisible();
  await page.screenshot({ path: path.join(SHOTS, 'start-01-first-visit.png') });
  await expectPlainWords(page, 'the Train tab while the wizard measures');

  const shown = {
    strategy: await page.getByTestId('recommended-strategy').innerText(),
    text: await page.getByTestId('recommendation').locator('dl').innerText(),
  };
  const projectId = Number(/project\/(\d+)/.exec(page.url())![1]);
  const [defaults, quick] = await Promise.all([
    callHost(page, 'training.defaults', {}),
    callHost(page, 'training.quickPlan', { projectId }),
  ]);
  expect(quick.cached).toBeNull();
  // Still enabled seconds later, the measurement still running.
  await expect(page.getByTestId('wizard-measuring')).toBeVisible();
  await start.click();
  await expect(page.getByTestId('run-view')).toBeVisible();
  await page.screenshot({ path: path.join(SHOTS, 'start-02-run-started.png') });

  // The run trains what the box showed: the quick plan's strategy and layer, every other setting as the defaults give it.
  const runs = await callHost(page, 'runs.list', { projectId });
  expect(runs).toHaveLength(1);
  const run = runs[0]!;
  expect(shown.strategy).toBe('Train a new classifier only');
  expect(run.strategy).toBe(quick.recommendation.strategy);
  const { strategy: _, ...headDefaults } = defaults.byStrategy.head;
  expect(run.config).toEqual({ ...headDefaults, featureLayer: quick.recommendation.featureLayer, boundary: null });
  expect(shown.text).toContain(`Epochs\n${run.config.epochs} `);
  expect(shown.text).toMatch(/Classifier reads from\s+the last layer/);
  expect(run.config.featureLayer).toBe('out_relu');

  await test.step('plain words on the finished run, its export and the projects page', async () => {
    await expect(page.getByTestId('run-view')).toHaveAttribute('data-status', 'done', { timeout: 90_000 });
    await page.screenshot({ path: path.join(SHOTS, 'start-03-run-done.png') });
    await expectPlainWords(page, 'a finished run');
    await page.getByTestId('open-export').click();
    await expect(page.getByTestId('export-panel')).toBeVisible();
    await page.screenshot({ path: path.join(SHOTS, 'start-04-export.png') });
    await expectPlainWords(page, 'the export panel');
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Back to all projects' }).click();
    await expect(page.getByText('First visit')).toBeVisible();
    await expectPlainWords(page, 'the projects page');
  });
});
