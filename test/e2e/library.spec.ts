// The dataset library end to end: the real `studio serve` host, the built renderer, Debian's
// Chromium with a fake camera. Create a project, import clipart-8 through the folder upload,
// label with the keyboard, undo/redo, capture from the webcam, reload and find it all kept.
import { test, expect, type Page } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import { startHost, tempDir, type RunningHost } from './fixtures/host.js';

import { CLIPART as DATASET } from '../fixtures/datasets.js';
const EXPECTED: Record<string, number> = { beverage: 51, bird: 47, bug: 49, fruit: 88, hardware: 54, mammal: 115, music: 72, vehicle: 52 };
const SHOTS = path.resolve('test-results/screenshots');

let host: RunningHost;
let work: string;

test.beforeAll(async () => {
  work = tempDir('studio-e2e-');
  fs.cpSync(DATASET, path.join(work, 'clipart-8'), { recursive: true });
  host = await startHost(path.join(work, 'data'));
  fs.mkdirSync(SHOTS, { recursive: true });
});

test.afterAll(async () => {
  await host?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
const count = (page: Page, testId: string) => page.getByTestId(testId);
const labelCount = (page: Page, name: string) => page.getByTestId(`count-label-${name}`);

async function readLabelCounts(page: Page): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const el of await page.locator('[data-testid^="count-label-"]').all()) {
    const id = (await el.getAttribute('data-testid'))!.slice('count-label-'.length);
    out[id] = Number((await el.innerText()).replace(/[^\d]/g, ''));
  }
  return out;
}

test('create, import, label, undo/redo, capture, reload', async ({ page }) => {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/404/.test(m.text())) problems.push(`console: ${m.text()}`);
  });

  await test.step('open the host and see the empty project list', async () => {
    await page.goto(host.url);
    await expect(page.getByRole('heading', { name: 'Create your first project' })).toBeVisible();
    await shot(page, '01-empty-project-list');
  });

  await test.step('create a project', async () => {
    await page.getByPlaceholder(/Name a new project/).fill('Clip art');
    await page.getByRole('button', { name: 'Create project' }).click();
    await expect(page.getByRole('heading', { name: 'Clip art' })).toBeVisible();
    await expect(page.getByText('Import a folder of images — sub-folders become labels — or capture from your webcam.')).toBeVisible();
    await shot(page, '02-empty-project');
  });

  await test.step('import clipart-8 through the folder upload', async () => {
    await page.getByRole('button', { name: 'Import images' }).first().click();
    await expect(page.getByRole('checkbox', { name: /Use sub-folder names as labels/ })).toBeChecked();
    await shot(page, '03-import-chooser');
    await page.getByTestId('folder-input').setInputFiles(path.join(work, 'clipart-8'));
    await expect(page.getByTestId('import-progress')).toBeVisible();
    await expect(page.getByRole('progressbar', { name: 'Import progress' })).toBeVisible();
    await shot(page, '04-import-progress');
    const report = page.getByTestId('import-report');
    await expect(report).toBeVisible({ timeout: 150_000 });
    await expect(page.getByTestId('report-imported')).toHaveText('528');
    for (const [name, n] of Object.entries(EXPECTED))
      await expect(report.getByRole('listitem').filter({ hasText: name })).toContainText(String(n));
    await shot(page, '05-import-report');
    await report.getByRole('button', { name: 'Done' }).click();
  });

  await test.step('see 528 images and the 8 labels with their counts', async () => {
    await expect(count(page, 'count-all')).toHaveText('528');
    await expect(count(page, 'count-unlabeled')).toHaveText('0');
    for (const [name, n] of Object.entries(EXPECTED)) await expect(labelCount(page, name)).toHaveText(String(n));
    expect(Object.keys(await readLabelCounts(page)).sort()).toEqual(Object.keys(EXPECTED).sort());
    await expect(page.locator('[data-index="0"] img')).toBeVisible();
    // Virtualized: far fewer thumbnails in the DOM than images in the project.
    expect(await page.locator('[data-testid="image-grid"] img').count()).toBeLessThan(150);
    await shot(page, '06-grid-after-import');
  });

  await test.step('create a label, select a range, label it with a number key', async () => {
    await page.getByRole('button', { name: '+ New label' }).click();
    await page.getByLabel('New label name').fill('favourite');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await expect(labelCount(page, 'favourite')).toHaveText('0');
    const before = await readLabelCounts(page);

    await page.locator('[data-index="2"]').click();
    await page.locator('[data-index="6"]').click({ modifiers: ['Shift'] });
    await expect(page.getByTestId('selection-count')).toHaveText('5 images selected');
    await shot(page, '07-range-selected');
    await page.keyboard.press('9'); // favourite is the 9th label
    await expect(labelCount(page, 'favourite')).toHaveText('5');
    const after = await readLabelCounts(page);
    const othersBefore = Object.entries(before)
      .filter(([n]) => n !== 'favourite')
      .reduce((s, [, v]) => s + v, 0);
    const othersAfter = Object.entries(after)
      .filter(([n]) => n !== 'favourite')
      .reduce((s, [, v]) => s + v, 0);
    expect(othersAfter).toBe(othersBefore - 5);
    await expect(page.getByTestId('undo')).toHaveText('Undo: Label as favourite');
    await expect(page.locator('[data-index="2"] .chip')).toHaveText('favourite');
    await shot(page, '08-labeled-with-key');

    await page.keyboard.press('Escape');
    await page.getByTestId('undo').click();
    await expect(labelCount(page, 'favourite')).toHaveText('0');
    expect(await readLabelCounts(page)).toEqual(before);
    await expect(page.getByTestId('redo')).toHaveText('Redo: Label as favourite');
    await shot(page, '09-undone');
    await page.keyboard.press('Control+Shift+Z');
    await expect(labelCount(page, 'favourite')).toHaveText('5');
    expect(await readLabelCounts(page)).toEqual(after);
  });

  await test.step('preview with arrow navigation', async () => {
    await page.locator('[data-index="2"]').dblclick();
    const preview = page.getByTestId('preview');
    await expect(preview).toBeVisible();
    await expect(preview.getByText('3 of 528')).toBeVisible();
    await expect(page.getByTestId('preview-label')).toContainText('favourite');
    await page.keyboard.press('ArrowRight');
    await expect(preview.getByText('4 of 528')).toBeVisible();
    await shot(page, '10-preview');
    await page.keyboard.press('Escape');
    await expect(preview).toBeHidden();
  });

  await test.step('capture two pictures from the fake camera into a label', async () => {
    await page.getByRole('button', { name: 'Capture', exact: true }).click();
    const panel = page.getByTestId('capture-panel');
    await panel.getByLabel('Label new pictures as').selectOption({ label: 'favourite' });
    const button = panel.getByTestId('capture-button');
    await expect(button).toBeEnabled();
    // The fake camera's first frame has arrived. A function, not a string: Playwright evaluates a
    // string predicate with eval, which the app's Content Security Policy rightly refuses.
    await expect
      .poll(() => page.locator('video').evaluate((v) => (v as unknown as { videoWidth: number }).videoWidth), { timeout: 30_000 })
      .toBeGreaterThan(0);
    await button.click();
    await expect(panel.getByTestId('captured-count')).toHaveText('1 taken');
    await button.click();
    await expect(panel.getByTestId('captured-count')).toHaveText('2 taken');
    await expect(panel.getByRole('img', { name: 'Captured' })).toHaveCount(2);
    await shot(page, '11-capture');
    await page.keyboard.press('Escape');
    await expect(labelCount(page, 'favourite')).toHaveText('7');
    await expect(count(page, 'count-all')).toHaveText('530');
  });

  const kept = await readLabelCounts(page);

  await test.step('reload: everything is kept', async () => {
    await page.reload();
    await expect(count(page, 'count-all')).toHaveText('530');
    expect(await readLabelCounts(page)).toEqual(kept);
    await page.getByRole('button', { name: /^favourite/ }).click();
    await expect(page.locator('[data-testid="image-grid"] [data-index]')).toHaveCount(7);
    await expect(page.locator('[data-index="6"] img')).toBeVisible();
    await shot(page, '12-after-reload-favourite');
  });

  await test.step('the project list shows the project with its count', async () => {
    await page.getByRole('button', { name: 'Back to all projects' }).click();
    await expect(page.getByText('530 images')).toBeVisible();
    await shot(page, '13-project-list');
  });

  expect(problems).toEqual([]);
});

test('files and CSV import, label management, exclude, select all, preview labeling', async ({ page }) => {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('dialog', (d) => void d.dismiss());

  // A flat folder of six pictures plus a CSV that lists four of them; two loose files.
  const csvDir = path.join(work, 'csvset');
  fs.mkdirSync(csvDir, { recursive: true });
  const birds = fs.readdirSync(path.join(DATASET, 'bird')).slice(0, 3);
  const bugs = fs.readdirSync(path.join(DATASET, 'bug')).slice(0, 3);
  for (const f of birds) fs.copyFileSync(path.join(DATASET, 'bird', f), path.join(csvDir, `b-${f}`));
  for (const f of bugs) fs.copyFileSync(path.join(DATASET, 'bug', f), path.join(csvDir, `u-${f}`));
  fs.writeFileSync(
    path.join(csvDir, 'labels.csv'),
    `path,label\nb-${birds[0]},owl\nb-${birds[1]},owl\nu-${bugs[0]},insect\nu-${bugs[1]},insect\n`,
  );
  const loose = fs
    .readdirSync(path.join(DATASET, 'fruit'))
    .slice(0, 2)
    .map((f) => path.join(DATASET, 'fruit', f));

  await page.goto(host.url);
  await page.getByPlaceholder(/Name a new project/).fill('Small set');
  await page.getByRole('button', { name: 'Create project' }).click();
  await expect(page.getByRole('heading', { name: 'Small set' })).toBeVisible();

  await test.step('import loose files: they arrive unlabeled', async () => {
    await page.getByRole('button', { name: 'Import images' }).first().click();
    await page.getByTestId('files-input').setInputFiles(loose);
    await expect(page.getByTestId('report-imported')).toHaveText('2', { timeout: 60_000 });
    await page.getByRole('button', { name: 'Done' }).click();
    await expect(count(page, 'count-unlabeled')).toHaveText('2');
  });

  await test.step('import a folder with a CSV of labels', async () => {
    await page.getByRole('button', { name: 'Import images' }).first().click();
    await page.getByTestId('csv-folder-input').setInputFiles(csvDir);
    await expect(page.getByLabel('CSV file', { exact: true })).toHaveValue('csvset/labels.csv');
    await shot(page, '20-csv-chooser');
    await page.getByRole('button', { name: 'Import with this CSV' }).click();
    await expect(page.getByTestId('import-report')).toBeVisible({ timeout: 60_000 });
    await shot(page, '21-csv-report');
    await page.getByRole('button', { name: 'Done' }).click();
    await expect(labelCount(page, 'owl')).toHaveText('2');
    await expect(labelCount(page, 'insect')).toHaveText('2');
    // A CSV import takes the files the CSV lists.
    await expect(count(page, 'count-all')).toHaveText('6');
    await expect(count(page, 'count-unlabeled')).toHaveText('2');
  });

  await test.step('rename, recolour, merge and delete labels', async () => {
    await page.getByRole('button', { name: 'Edit label owl' }).click();
    await page.getByLabel('Name').fill('bird');
    await page.getByRole('button', { name: 'Colour #4363d8' }).click();
    await shot(page, '22-label-editor');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(labelCount(page, 'bird')).toHaveText('2');

    await page.getByRole('button', { name: 'Edit label insect' }).click();
    await page.getByLabel('Merge into').selectOption({ label: 'bird' });
    await page.getByRole('button', { name: 'Merge', exact: true }).click();
    await expect(page.getByRole('heading', { name: 'Merge “insect” into “bird”?' })).toBeVisible();
    await page.getByRole('button', { name: 'Merge', exact: true }).click();
    await expect(labelCount(page, 'bird')).toHaveText('4');
    await expect(page.getByTestId('label-insect')).toHaveCount(0);

    await page.getByRole('button', { name: 'Edit label bird' }).click();
    await page.getByRole('button', { name: 'Delete label' }).click();
    await expect(page.getByText('stay in the project and become unlabeled')).toBeVisible();
    await shot(page, '23-delete-label-confirm');
    await page.getByRole('button', { name: 'Delete label' }).click();
    await expect(count(page, 'count-unlabeled')).toHaveText('6');
    await expect(count(page, 'count-all')).toHaveText('6');
  });

  await test.step('select all, exclude, include, undo', async () => {
    await page.getByRole('button', { name: '+ New label' }).click();
    await page.getByLabel('New label name').fill('keep');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.locator('[data-index="0"]').click();
    await page.keyboard.press('Control+A');
    await expect(page.getByTestId('selection-count')).toHaveText('6 images selected');
    await page.locator('[data-index="1"]').click({ modifiers: ['Control'] });
    await expect(page.getByTestId('selection-count')).toHaveText('5 images selected');
    await page.getByRole('button', { name: 'Exclude', exact: true }).click();
    await expect(count(page, 'count-excluded')).toHaveText('5');
    await expect(page.locator('.thumb.excluded')).toHaveCount(5);
    await shot(page, '24-excluded');
    await page.keyboard.press('Control+Z');
    await expect(count(page, 'count-excluded')).toHaveText('0');
    await page.getByRole('button', { name: /^Excluded/ }).click();
    await expect(page.getByText('Nothing is excluded')).toBeVisible();
    await page.getByRole('button', { name: /^All images/ }).click();
  });

  await test.step('label in the preview with number keys, and the keyboard help', async () => {
    await page.locator('[data-index="0"]').focus();
    await page.keyboard.press('Enter');
    await expect(page.getByTestId('preview')).toBeVisible();
    await page.keyboard.press('1');
    await expect(page.getByTestId('preview-label')).toContainText('keep');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('1');
    await expect(page.getByTestId('preview-label')).toContainText('keep');
    await page.keyboard.press('0');
    await expect(page.getByTestId('preview-label')).toContainText('Unlabeled');
    await page.keyboard.press('Escape');
    await expect(labelCount(page, 'keep')).toHaveText('1');
    await page.keyboard.press('?');
    await expect(page.getByRole('heading', { name: 'Keyboard shortcuts' })).toBeVisible();
    await shot(page, '25-keyboard-help');
    await page.keyboard.press('Escape');
  });

  await test.step('an error from the host is shown to the user', async () => {
    await page.getByRole('button', { name: '+ New label' }).click();
    await page.getByLabel('New label name').fill('keep');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await expect(page.getByRole('alert')).toContainText('A label named "keep" already exists.');
    await shot(page, '26-error-toast');
  });

  await test.step('rename and delete the project from the list', async () => {
    await page.getByRole('button', { name: 'Back to all projects' }).click();
    const card = page.getByRole('article').filter({ hasText: 'Small set' });
    await card.getByRole('button', { name: 'Rename' }).click();
    await page.getByLabel('New name').fill('Tiny set');
    await page.getByRole('button', { name: 'Rename', exact: true }).last().click();
    await expect(page.getByRole('button', { name: 'Tiny set', exact: true })).toBeVisible();
    await page.getByRole('article').filter({ hasText: 'Tiny set' }).getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('button', { name: 'Delete project' }).click();
    await expect(page.getByRole('article').filter({ hasText: 'Tiny set' })).toHaveCount(0);
  });

  expect(problems).toEqual([]);
});
