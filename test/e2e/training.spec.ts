// Training end to end: the real `studio serve` host and engine process, the built renderer,
// Debian's Chromium. A small labeled set (3 labels × 12 clip-art pictures) goes in through the
// folder upload; the wizard measures and recommends; a "new classifier only" run trains a few
// epochs with live charts; the finished run shows its test accuracy in the history; and, once
// `runs.classify` exists, "Try it" classifies one picture.
import { test, expect, type Page } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import { startHost, tempDir, type RunningHost } from './fixtures/host.js';
import { copyClipartSubset } from '../fixtures/datasets.js';
import { expectPlainWords } from './fixtures/plain-words.js';

const LABELS = ['bird', 'fruit', 'vehicle'];
const PER_LABEL = 12;
const SHOTS = path.resolve('test-results/screenshots');
// Try it needs the classify call, added to the contract by the inference work.
const CONTRACT = fs.readFileSync(path.resolve('electron/shared/contract.ts'), 'utf8');
const PREDICT = path.resolve('electron/shared/contract-predict.ts');
const HAS_CLASSIFY =
  CONTRACT.includes('runs.classify') ||
  (fs.existsSync(PREDICT) && fs.readFileSync(PREDICT, 'utf8').includes('runs.classify') && /contract-predict/.test(CONTRACT));

let host: RunningHost;
let work: string;

test.beforeAll(async () => {
  work = tempDir('studio-e2e-train-');
  copyClipartSubset(path.join(work, 'three'), LABELS, PER_LABEL);
  host = await startHost(path.join(work, 'data'));
  fs.mkdirSync(SHOTS, { recursive: true });
});

test.afterAll(async () => {
  await host?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

// The app scrolls inside its panes, so a taller window shows more of each page in a screenshot.
test.use({ viewport: { width: 1280, height: 1000 } });
const EPOCHS = 12;
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `3x-${name}.png`) });

/** A new run from the wizard, with a strategy and epochs set under Advanced. */
async function newRun(page: Page, strategy: 'head' | 'partial' | 'full', epochs: number): Promise<void> {
  await page.getByTestId('new-run').click();
  // The wizard's measured plan (the engine card shows what it found), not the first one from the counts.
  await expect(page.getByTestId('engine-card')).toBeVisible({ timeout: 120_000 });
  await expect(page.getByTestId('start-training')).toBeEnabled();
  const advanced = page.locator('details').filter({ hasText: 'Advanced' });
  if (!(await advanced.getAttribute('open'))) await page.getByText('Advanced', { exact: true }).click();
  await page.getByTestId('advanced-strategy').selectOption(strategy);
  await page.getByTestId('advanced-epochs').fill(String(epochs));
}

/**
 * Presses Cancel on the open run. Once (CI, 2 cores shared with Vitest) the button went away
 * before the click and never came back, and the test only timed out: if it is gone, the failure
 * says what the page shows instead (the run's status and error, or no run open at all).
 */
async function cancelLiveRun(page: Page): Promise<void> {
  try {
    await page.getByTestId('cancel-training').click({ timeout: 60_000 });
  } catch (err) {
    await shot(page, '06x-cancel-missing');
    const view = page.getByTestId('run-view');
    const status = (await view.count()) ? `run status "${await view.getAttribute('data-status')}"` : 'no run open (the wizard shows)';
    const alerts = await page.getByRole('alert').allTextContents();
    const history = await page.getByTestId('run-history').getByTestId('run-status').allTextContents();
    throw new Error(`Cancel could not be pressed: ${status}; alerts ${JSON.stringify(alerts)}; history ${JSON.stringify(history)}.`, {
      cause: err,
    });
  }
}

test('wizard, a strategy-3 run with live charts, history, try it', async ({ page }) => {
  test.setTimeout(480_000);
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/404/.test(m.text())) problems.push(`console: ${m.text()}`);
  });

  await test.step('create a project and import 3 labels × 12 pictures', async () => {
    await page.goto(host.url);
    await page.getByPlaceholder(/Name a new project/).fill('Three kinds');
    await page.getByRole('button', { name: 'Create project' }).click();
    await expect(page.getByRole('heading', { name: 'Three kinds' })).toBeVisible();
    await page.getByRole('button', { name: 'Import images' }).first().click();
    await page.getByTestId('folder-input').setInputFiles(path.join(work, 'three'));
    await expect(page.getByTestId('report-imported')).toHaveText(String(LABELS.length * PER_LABEL), { timeout: 120_000 });
    await page.getByRole('button', { name: 'Done' }).click();
  });

  await test.step('open Train: the wizard measures, then recommends', async () => {
    await page.getByTestId('train-tab').click();
    await expect(page.getByTestId('training-view')).toBeVisible();
    await expect(page).toHaveURL(/#\/project\/\d+\/train$/);
    for (const l of LABELS) await expect(page.getByTestId(`train-count-${l}`)).toHaveText(String(PER_LABEL));
    await expect(page.getByTestId('split-settings')).toContainText('to learn from');
    const measuring = page.getByTestId('wizard-measuring');
    if (await measuring.isVisible()) await shot(page, '01-wizard-measuring');
    // A first plan (from the counts) shows at once; the measured one follows with the engine card.
    await expect(page.getByTestId('engine-card')).toBeVisible({ timeout: 240_000 });
    await expect(page.getByTestId('reason')).toBeVisible();
    // 12 pictures per label is far too few to retrain the base: the wizard keeps it frozen.
    await expect(page.getByTestId('recommended-strategy')).toHaveText('Train a new classifier only');
    await expect(page.getByTestId('probe-chart').locator('rect')).not.toHaveCount(0);
    await expect(page.getByTestId('probe-chart').locator('rect.best')).toHaveCount(1);
    await expect(page.getByTestId('engine-card')).toContainText(/ms/);
    // The fine-tuning speeds come from a training step the wizard just timed on this engine.
    await expect(page.getByTestId('engine-card')).toContainText('timed on this computer just now');
    // Where the wizard timed the step is where the run will take it (one compute plan).
    await expect(page.getByTestId('step-runtime')).toContainText(/ONNX Runtime: the whole training step natively/);
    await expect(page.getByTestId('estimate')).not.toBeEmpty();
    await shot(page, '02-wizard-recommendation');
    await expectPlainWords(page, 'the measured recommendation');
  });

  await test.step('change the split: the counts follow, every picture keeps one split', async () => {
    const n = async (which: string) => Number(await page.getByTestId(`split-${which}-count`).innerText());
    const before = await n('validation');
    await page.getByRole('button', { name: 'Change the split…' }).click();
    await page.getByTestId('split-validation').fill('25');
    await page.getByRole('button', { name: 'Redraw the split' }).click();
    await expect.poll(() => n('validation')).toBeGreaterThan(before);
    expect((await n('train')) + (await n('validation')) + (await n('test'))).toBe(LABELS.length * PER_LABEL);
  });

  await test.step(`Advanced: a strategy-3 run with ${EPOCHS} epochs`, async () => {
    await page.getByText('Advanced', { exact: true }).click();
    await page.getByTestId('advanced-strategy').selectOption('head');
    await page.getByTestId('advanced-epochs').fill(String(EPOCHS));
    // 24 training pictures: batches of 8 give a few steps per epoch, not one.
    await page.getByTestId('advanced-batch').fill('8');
    await expect(page.getByRole('heading', { name: 'Your choice' })).toBeVisible();
    // The term and its value are separate elements, with whitespace between them.
    await expect(page.getByTestId('recommendation')).toContainText(new RegExp(`Epochs\\s*${EPOCHS} `));
    await page.getByTestId('advanced-epochs').scrollIntoViewIfNeeded();
    await shot(page, '03-advanced');
  });

  await test.step('start: the charts fill in per epoch, then the run finishes', async () => {
    await page.getByTestId('start-training').click();
    const run = page.getByTestId('run-view');
    await expect(run).toBeVisible();
    await shot(page, '04a-training-started');
    await expect(page.getByTestId('run-history').getByRole('button')).toHaveCount(1);
    const loss = page.getByTestId('loss-chart');
    await expect.poll(async () => Number(await loss.getAttribute('data-points')), { timeout: 240_000 }).toBeGreaterThanOrEqual(1);
    await expect(loss.locator('circle').first()).toBeVisible();
    await expect(page.getByTestId('accuracy-chart').locator('circle').first()).toBeVisible();
    await shot(page, '04-training-first-epochs');
    await expect(run).toHaveAttribute('data-status', 'done', { timeout: 240_000 });
    await expect(page.getByTestId('test-accuracy')).toHaveText(/^\d+%$/);
    await expect(page.getByTestId('per-class').locator('tbody tr')).toHaveCount(LABELS.length);
    await expect(page.getByTestId('confusion-matrix').locator('tbody tr')).toHaveCount(LABELS.length);
    const points = Number(await loss.getAttribute('data-points'));
    expect(points).toBeGreaterThanOrEqual(1);
    expect(points).toBeLessThanOrEqual(EPOCHS);
    await shot(page, '05-run-finished');
    await page.getByTestId('confusion-matrix').scrollIntoViewIfNeeded();
    await shot(page, '05b-run-metrics');
  });

  await test.step('the history keeps the finished run with its accuracy; clicking reopens it', async () => {
    const item = page.getByTestId('run-history').getByRole('button').first();
    await expect(item.getByTestId('run-status')).toHaveText('Done');
    await expect(item.getByTestId('history-accuracy')).toHaveText(/^\d+%$/);
    await expect(item).toContainText('Train a new classifier only');
    await page.getByTestId('new-run').click();
    await expect(page.getByTestId('wizard')).toBeVisible();
    await item.click();
    await expect(page.getByTestId('run-view')).toHaveAttribute('data-status', 'done');
    await expect(page.getByTestId('loss-chart').locator('circle').first()).toBeVisible();
    // A reload lands on the Train page and reads the run back from the host.
    await page.reload();
    await expect(page.getByTestId('run-history').getByTestId('history-accuracy')).toHaveText(/^\d+%$/);
    await shot(page, '06-history');
  });

  await test.step('a long run can be cancelled mid-way', async () => {
    // Fine-tuning, not a new classifier: the default classifier is now one convex fit that ends
    // after its first record however many epochs are asked for, which raced the progress check.
    await newRun(page, 'partial', 5000);
    await page.getByLabel('Stop after epochs without progress').fill('1000');
    // Fine-tuning shows its recipe, as strategy 2 brings it (engine/recipe.ts).
    await expect(page.getByTestId('advanced-recipe').getByLabel('Learning rate over time')).toHaveValue('cosine');
    await expect(page.getByTestId('advanced-recipe').getByLabel("Lowest trained layer's share of the rate")).toHaveValue('0.3');
    await expect(page.getByTestId('advanced-recipe').getByLabel('Label smoothing')).toHaveValue('0.1');
    await page.getByTestId('advanced-recipe').scrollIntoViewIfNeeded();
    await shot(page, '06a-advanced-recipe');
    // The plan shown is the one chosen here (a late wizard answer must not replace it).
    await expect(page.getByRole('heading', { name: 'Your choice' })).toBeVisible();
    await expect(page.getByTestId('recommended-strategy')).toHaveText('Fine-tune the top');
    await page.getByTestId('start-training').click();
    const run = page.getByTestId('run-view');
    await expect(run).toContainText('5000', { timeout: 60_000 });
    await expect
      .poll(async () => Number(await page.getByTestId('loss-chart').getAttribute('data-points')), { timeout: 120_000 })
      .toBeGreaterThanOrEqual(1);
    await expect(page.getByTestId('run-progress')).toBeVisible();
    await shot(page, '06b-training-live');
    await cancelLiveRun(page);
    await expect(run).toHaveAttribute('data-status', 'cancelled', { timeout: 60_000 });
    // "Stopping…" ends with the run: nothing still says it once it says Cancelled.
    await expect(page.getByText('Stopping the training…')).toHaveCount(0, { timeout: 1000 });
    const items = page.getByTestId('run-history').getByRole('button');
    await expect(items).toHaveCount(2);
    await expect(items.first().getByTestId('run-status')).toHaveText('Cancelled');
    await expect(items.nth(1).getByTestId('run-status')).toHaveText('Done');
    await expect(page.getByTestId('run-recipe')).toHaveText(/cosine.*0\.3× the rate.*label smoothing 0\.1/);
    await shot(page, '06c-cancelled');
  });

  await test.step('a fine-tuning run (the whole network) trains natively in ONNX Runtime and says so', async () => {
    await newRun(page, 'full', 2);
    await page.getByTestId('advanced-batch').fill('8');
    // The choice made here gets its own estimate, from the measured speeds.
    await expect(page.getByTestId('estimate')).toHaveText(/at most, on this computer|measuring/);
    await page.getByTestId('start-training').click();
    const run = page.getByTestId('run-view');
    // Two fine-tuning epochs: the time left is read as it runs and must keep changing (it is
    // recomputed every second from the epochs seen so far), never stuck on one text.
    const times = new Set<string>();
    const until = Date.now() + 300_000;
    while (Date.now() < until && ['running', 'queued'].includes((await run.getAttribute('data-status')) ?? 'running')) {
      const t = (
        await page
          .getByTestId('eta')
          .textContent({ timeout: 1000 })
          .catch(() => null)
      )?.trim();
      if (t && !/estimating/.test(t)) times.add(t);
      await page.waitForTimeout(300);
    }
    expect([...times].length, `time-left texts seen: ${[...times].join(' | ')}`).toBeGreaterThanOrEqual(2);
    await expect(run).toHaveAttribute('data-status', 'done', { timeout: 300_000 });
    await expect(page.getByTestId('run-backends')).toContainText(/finetune ONNX Runtime: the whole training step natively on \d+ threads?/);
    await expect(page.getByTestId('run-backends')).not.toContainText('delegatedToCpu');
    await expect(page.getByTestId('test-accuracy')).toHaveText(/^\d+%$/);
    await expect(page.getByTestId('run-history').getByRole('button').first()).toContainText('Train the whole network');
    await shot(page, '06d-fine-tuned-whole-network');
  });

  await test.step('try it on one picture', async () => {
    if (!HAS_CLASSIFY) {
      test.info().annotations.push({ type: 'skipped step', description: 'runs.classify is not in the contract yet' });
      return;
    }
    await page.getByTestId('run-history').getByRole('button').last().click();
    const picture = path.join(work, 'three', 'fruit', fs.readdirSync(path.join(work, 'three', 'fruit'))[0]!);
    await page.getByTestId('try-file').setInputFiles(picture);
    const result = page.getByTestId('try-result');
    await expect(result.getByRole('listitem')).toHaveCount(LABELS.length, { timeout: 60_000 });
    await expect(result.getByRole('listitem').first()).toContainText(/%/);
    await expect(result).toHaveAttribute('data-source', 'file');
    await page.getByTestId('try-it').scrollIntoViewIfNeeded();
    await shot(page, '07-try-it');
    // Chromium's fake camera: frames are classified live, about twice a second.
    await page.getByTestId('try-webcam').click();
    await expect(result).toHaveAttribute('data-source', 'camera', { timeout: 30_000 });
    await expect(result.getByRole('listitem')).toHaveCount(LABELS.length);
    await shot(page, '08-try-it-webcam');
    await page.getByRole('button', { name: 'Stop the webcam' }).click();
  });

  expect(problems).toEqual([]);
});
