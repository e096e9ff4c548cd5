// Near-duplicates end to end: the real `studio serve` host and Debian's Chromium on a data folder
// where a cropped, recompressed copy of a learning picture sits in the test pictures
// (fixtures/seed-duplicates.ts). The Images tab's Near-duplicates view reports the leak; the
// picture moves only when the warning is accepted; undo puts it back. Screenshot of the view.
import { test, expect } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import { startSeededHost, type RunningHost, type SeededHost } from './fixtures/host.js';

const SHOTS = path.resolve('test-results/screenshots');
let seededHost: SeededHost<{ projectId: number; original: number; copy: number }>;
let host: RunningHost;
let seeded: { projectId: number; original: number; copy: number };

test.beforeAll(async () => {
  test.setTimeout(120_000);
  seededHost = await startSeededHost('studio-e2e-dups-', 'test/e2e/fixtures/seed-duplicates.ts');
  ({ host, seeded } = seededHost);
  fs.mkdirSync(SHOTS, { recursive: true });
});

test.afterAll(async () => {
  await seededHost?.stop();
});

test.use({ viewport: { width: 1280, height: 900 } });

test('a near-duplicate planted across train and test is reported as a leak; accepting moves it; undo restores it', async ({ page }) => {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  await page.goto(host.url);
  await page.getByRole('button', { name: 'Open Duplicates' }).click();
  await page.getByTestId('open-duplicates').click();

  const view = page.getByTestId('near-duplicates');
  const groups = view.getByTestId('duplicate-group');
  await expect(groups).toHaveCount(1);
  const group = groups.first();
  await expect(group).toHaveAttribute('data-leak', 'yes');
  await expect(group.getByTestId('duplicate-member')).toHaveCount(2);
  await expect(group.getByTestId('leak-warning')).toContainText('2 near-identical pictures are split across learning and test pictures');
  const copySplit = group.locator(`[data-image-id="${seeded.copy}"]`).getByTestId('member-split');
  await expect(copySplit).toHaveAttribute('data-split', 'test');
  // Thumbnails load (served by id).
  await expect
    .poll(() =>
      group
        .locator('img')
        .first()
        .evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
    )
    .toBeGreaterThan(0);
  await view.screenshot({ path: path.join(SHOTS, 'near-duplicates-leak.png') });

  await group.getByTestId('accept-leak').click();
  await expect(copySplit).toHaveAttribute('data-split', 'train');
  await expect(group).toHaveAttribute('data-leak', 'no');
  await expect(group.getByTestId('leak-warning')).toHaveCount(0);

  await view.getByTestId('duplicates-undo').click();
  await expect(copySplit).toHaveAttribute('data-split', 'test');
  await expect(group).toHaveAttribute('data-leak', 'yes');
  expect(problems).toEqual([]);
});
