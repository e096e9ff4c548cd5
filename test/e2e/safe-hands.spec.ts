// Safe hands: what a person does by reflex must not relabel or lose the wrong pictures. The
// selection follows the picture looked at in the preview; deleting a label and webcam captures
// are undone by Undo; a capture asks for the label first; imported labels say where they came from.
import { test, expect, type Page } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import { startHost, tempDir, type RunningHost } from './fixtures/host.js';
import { copyClipartSubset } from '../fixtures/datasets.js';

const SHOTS = path.resolve('test-results/screenshots');
let host: RunningHost;
let work: string;

test.beforeAll(async () => {
  work = tempDir('studio-e2e-safe-');
  copyClipartSubset(path.join(work, 'set'), ['bird', 'fruit', 'music'], 3);
  host = await startHost(path.join(work, 'data'));
  fs.mkdirSync(SHOTS, { recursive: true });
});

test.afterAll(async () => {
  await host?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
const labelCount = (page: Page, name: string) => page.getByTestId(`count-label-${name}`);
const chip = (page: Page, index: number) => page.locator(`[data-index="${index}"] .chip`);

async function projectWithFolders(page: Page, name: string): Promise<void> {
  await page.goto(host.url);
  await page.getByPlaceholder(/Name a new project/).fill(name);
  await page.getByRole('button', { name: 'Create project' }).click();
  await page.getByRole('button', { name: 'Import images' }).first().click();
  await page.getByTestId('folder-input').setInputFiles(path.join(work, 'set'));
  await expect(page.getByTestId('report-imported')).toHaveText('9', { timeout: 30_000 });
  await page.getByRole('button', { name: 'Done' }).click();
  await expect(page.getByTestId('count-all')).toHaveText('9');
}

test('the selection follows the preview; a label delete is undone; a capture asks for its label and is undone', async ({ page }) => {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  await projectWithFolders(page, 'Safe hands');

  await test.step('after walking through the preview, a number key labels the picture last seen', async () => {
    await page.getByRole('button', { name: '+ New label' }).click();
    await page.getByLabel('New label name').fill('picked');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await expect(labelCount(page, 'picked')).toHaveText('0');
    // A refused name is explained beside its field, not in a toast over the page.
    await page.getByRole('button', { name: '+ New label' }).click();
    await page.getByLabel('New label name').fill('picked');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await expect(page.locator('#new-label-error')).toHaveText('A label named "picked" already exists.');
    await expect(page.getByLabel('New label name')).toHaveAttribute('aria-invalid', 'true');
    await expect(page.locator('.toast')).toHaveCount(0);
    await page.getByRole('button', { name: '+ New label' }).click();
    const first = await chip(page, 0).innerText();
    await page.locator('[data-index="0"]').dblclick();
    const preview = page.getByTestId('preview');
    await expect(preview.getByText('1 of 9')).toBeVisible();
    // Imported from a folder: not "set by a person".
    await expect(page.getByTestId('preview-label-source')).toHaveText('from the folder name');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await expect(preview.getByText('3 of 9')).toBeVisible();
    // A small picture grows at most 2× its own pixels, not to the whole stage.
    const img = preview.locator('.stage img');
    await expect
      .poll(() => img.evaluate((el) => (el as unknown as { naturalWidth: number; clientWidth: number }).clientWidth))
      .toBeGreaterThan(0);
    const { natural, shown } = await img.evaluate((el) => {
      const i = el as unknown as { naturalWidth: number; naturalHeight: number; clientWidth: number; clientHeight: number };
      return { natural: Math.max(i.naturalWidth, i.naturalHeight), shown: Math.max(i.clientWidth, i.clientHeight) };
    });
    expect(shown).toBeLessThanOrEqual(2 * natural + 1);
    await shot(page, 'safe-00-preview');
    await page.keyboard.press('Escape');
    await expect(preview).toBeHidden();
    await expect(page.locator('[data-index="2"]')).toHaveAttribute('aria-pressed', 'true');
    await expect(page.locator('[data-index="0"]')).toHaveAttribute('aria-pressed', 'false');
    await page.keyboard.press('4'); // picked, the 4th label
    await expect(chip(page, 2)).toHaveText('picked');
    await expect(chip(page, 0)).toHaveText(first);
    await shot(page, 'safe-01-selection-followed-preview');
    await page.keyboard.press('Escape');
  });

  await test.step('deleting a label is undone by Undo', async () => {
    await page.getByRole('button', { name: 'Edit label picked' }).click();
    await page.getByRole('button', { name: 'Delete label' }).click();
    await expect(page.getByText('Undo brings the label back.')).toBeVisible();
    await page.getByRole('button', { name: 'Delete label' }).click();
    await expect(page.getByTestId('label-picked')).toHaveCount(0);
    await expect(page.getByTestId('count-unlabeled')).toHaveText('1');
    await expect(page.getByTestId('undo')).toHaveText('Undo: Delete label picked');
    await page.getByTestId('undo').click();
    await expect(labelCount(page, 'picked')).toHaveText('1');
    await expect(page.getByTestId('count-unlabeled')).toHaveText('0');
    await expect(chip(page, 2)).toHaveText('picked');
    await shot(page, 'safe-02-label-delete-undone');
  });

  await test.step('a capture waits for a label, then one Undo takes the session back', async () => {
    await page.getByRole('button', { name: 'Capture', exact: true }).click();
    const panel = page.getByTestId('capture-panel');
    const button = panel.getByTestId('capture-button');
    await expect(panel.getByLabel('Label new pictures as')).toHaveValue('');
    await expect(panel.getByTestId('capture-hint')).toHaveText('Choose the label for the new pictures first.');
    await expect
      .poll(() => page.locator('video').evaluate((v) => (v as unknown as { videoWidth: number }).videoWidth), { timeout: 15_000 })
      .toBeGreaterThan(0);
    await expect(button).toBeDisabled();
    await shot(page, 'safe-03-capture-asks-label');
    await panel.getByLabel('Label new pictures as').selectOption({ label: 'picked' });
    await expect(button).toBeEnabled();
    await button.click();
    await expect(panel.getByTestId('captured-count')).toHaveText('1 taken');
    await button.click();
    await expect(panel.getByTestId('captured-count')).toHaveText('2 taken');
    await page.keyboard.press('Escape');
    await expect(labelCount(page, 'picked')).toHaveText('3');
    await expect(page.getByTestId('undo')).toHaveText('Undo: Capture 2 pictures');
    await page.getByTestId('undo').click();
    await expect(labelCount(page, 'picked')).toHaveText('1');
    await expect(page.getByTestId('count-all')).toHaveText('9');
    await page.getByTestId('redo').click();
    await expect(page.getByTestId('count-all')).toHaveText('11');
  });

  await test.step("the project card's cover fills the card's top", async () => {
    await page.getByRole('button', { name: 'Back to all projects' }).click();
    const cover = page.getByRole('article').filter({ hasText: 'Safe hands' }).locator('.cover img');
    await expect(cover).toBeVisible();
    const box = (await cover.boundingBox())!;
    expect(box.height).toBeGreaterThanOrEqual(170);
    expect(box.width).toBeGreaterThanOrEqual(220);
    await shot(page, 'safe-04-project-card');
  });

  expect(problems).toEqual([]);
});
