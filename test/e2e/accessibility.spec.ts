// Accessibility, end to end: the main journey (create a project, import, label, train, see the
// results, export) done with the keyboard alone — every control is reached with Tab and used with
// Enter, Space, arrows or number keys — and axe-core (the engine behind Lighthouse's accessibility
// audit) run on every screen, failing on any serious or critical violation of WCAG 2 A/AA.
import { test, expect, type Locator, type Page } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { startHost, tempDir, type RunningHost } from './fixtures/host.js';
import { copyClipartSubset } from '../fixtures/datasets.js';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const LABELS = ['bird', 'fruit', 'vehicle'];
const PER_LABEL = 8;
const SHOTS = path.resolve('test-results/screenshots');

let host: RunningHost;
let work: string;

test.beforeAll(async () => {
  work = tempDir('studio-e2e-a11y-');
  copyClipartSubset(path.join(work, 'pictures'), LABELS, PER_LABEL);
  host = await startHost(path.join(work, 'data'));
  fs.mkdirSync(SHOTS, { recursive: true });
});

test.afterAll(async () => {
  await host?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

// The app's Content-Security-Policy refuses inline scripts, axe-core's included; only this test's
// browser context lets the checker in (the app itself is served unchanged).
test.use({ bypassCSP: true });

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/** axe-core on the page as it is now: serious and critical WCAG 2 A/AA violations, one line each. */
async function seriousViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const { axe, document } = globalThis as unknown as {
      document: unknown;
      axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: unknown[] }> };
    };
    const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations;
  });
  return (violations as AxeViolation[])
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary ?? ''}`.trim()).join(' | ')}`,
    );
}

async function audit(page: Page, screen: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `a11y-${screen}.png`) });
  expect(await seriousViolations(page), `accessibility of ${screen}`).toEqual([]);
}

/** Presses Tab (or Shift+Tab) until `target` has the focus: proves it is reachable from the keyboard. */
async function tabTo(page: Page, target: Locator, { back = false, max = 60 } = {}): Promise<void> {
  const handle = await target.elementHandle();
  for (let i = 0; i < max; i++) {
    const focused = await page.evaluate((el) => {
      const active = (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement;
      return el === active || (el as unknown as { contains(n: unknown): boolean } | null)?.contains(active) === true;
    }, handle);
    if (focused) return;
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
  }
  throw new Error(`Tab never reached ${target.toString()}`);
}

test('the main journey with the keyboard alone, and no serious accessibility violation on any screen', async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto(host.url);
  await expect(page.getByRole('heading', { name: 'Create your first project' })).toBeVisible();
  await audit(page, '01-projects-empty');

  await test.step('create a project', async () => {
    await tabTo(page, page.getByPlaceholder(/Name a new project/));
    await page.keyboard.type('Keyboard only');
    await page.keyboard.press('Enter');
    await expect(page.getByRole('heading', { name: 'Keyboard only' })).toBeVisible();
    await audit(page, '02-project-empty');
  });

  await test.step('import a folder', async () => {
    await tabTo(page, page.getByRole('button', { name: 'Import images' }).first());
    await page.keyboard.press('Enter');
    await expect(page.getByRole('checkbox', { name: /Use sub-folder names as labels/ })).toBeVisible();
    await audit(page, '03-import-chooser');
    const folderButton = page.getByRole('button', { name: /folder/i }).first();
    await tabTo(page, folderButton);
    const chooser = page.waitForEvent('filechooser');
    await page.keyboard.press('Enter');
    await (await chooser).setFiles(path.join(work, 'pictures'));
    const report = page.getByTestId('import-report');
    await expect(report).toBeVisible({ timeout: 60_000 });
    await expect(page.getByTestId('report-imported')).toHaveText(String(LABELS.length * PER_LABEL));
    await audit(page, '04-import-report');
    await tabTo(page, report.getByRole('button', { name: 'Done' }));
    await page.keyboard.press('Enter');
    await expect(report).toBeHidden();
  });

  await test.step('label a picture with the keyboard', async () => {
    await expect(page.getByTestId('count-all')).toHaveText(String(LABELS.length * PER_LABEL));
    await audit(page, '05-images');
    const first = page.getByTestId('image-grid').locator('button.thumb').first();
    await tabTo(page, first);
    await page.keyboard.press('Space'); // selects it
    await expect(first).toHaveAttribute('aria-pressed', 'true');
    const before = await page.getByTestId('count-label-fruit').innerText();
    // The first picture is a bird; key 2 gives the selection the second label (fruit).
    await page.keyboard.press('2');
    await expect(page.getByTestId('count-label-fruit')).not.toHaveText(before);
    await page.keyboard.press('Control+z');
    await expect(page.getByTestId('count-label-fruit')).toHaveText(before);
  });

  await test.step('train with the recommendation', async () => {
    await tabTo(page, page.getByRole('tab', { name: 'Train' }));
    await page.keyboard.press('Enter');
    const start = page.getByRole('button', { name: 'Start training' });
    await expect(start).toBeVisible();
    await audit(page, '06-train');
    await expect(start).toBeEnabled({ timeout: 150_000 });
    await tabTo(page, start);
    await page.keyboard.press('Enter');
    await expect(page.getByTestId('run-view').first()).toHaveAttribute('data-status', 'done', { timeout: 180_000 });
    await audit(page, '07-results');
  });

  await test.step('name the run', async () => {
    await tabTo(page, page.getByTestId('run-name'), { back: true });
    await page.keyboard.type('First try');
    await page.keyboard.press('Enter');
    await expect(page.getByRole('heading', { level: 2 })).toContainText('First try (run 1)');
    await expect(page.getByTestId('run-history')).toContainText('First try');
  });

  await test.step('export', async () => {
    const exportButton = page.getByTestId('open-export');
    await tabTo(page, exportButton);
    await page.keyboard.press('Enter');
    await expect(page.getByRole('dialog')).toBeVisible();
    await audit(page, '08-export');
    await page.keyboard.press('Escape');
    await expect(page.getByRole('dialog')).toBeHidden();
  });
});
