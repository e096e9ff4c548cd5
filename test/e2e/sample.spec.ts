// The sample project from the first start: an empty data folder shows "Open the sample project";
// one click makes the project from the shipped pictures and opens it with its three labels.
import { test, expect } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import { startHost, tempDir, type RunningHost } from './fixtures/host.js';

let host: RunningHost;
let work: string;

test.beforeAll(async () => {
  work = tempDir('studio-e2e-sample-');
  host = await startHost(path.join(work, 'data'));
});

test.afterAll(async () => {
  await host?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('first start: open the sample project', async ({ page }) => {
  await page.goto(host.url);
  await expect(page.getByRole('heading', { name: 'Create your first project' })).toBeVisible();
  await page.getByTestId('open-sample').click();
  for (const label of ['sun', 'tree', 'house']) await expect(page.getByText(label, { exact: true }).first()).toBeVisible();
  await page.goto(host.url);
  await expect(page.getByRole('button', { name: 'Open Sample: sun, tree or house?' })).toBeVisible();
  await expect(page.getByText('90 images')).toBeVisible();
  // From the projects screen at any time, too (a second copy is the integration test's).
  await expect(page.getByTestId('open-sample')).toBeVisible();
});
