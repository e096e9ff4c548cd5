// "Try it" with a file the browser cannot show: a message in words where the picture would be,
// and the model's refusal beside it, never a broken-image icon. Seeded with a finished run on the
// tiny base (fixtures/seed-mistakes.ts: seconds).
import { test, expect } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import { startSeededHost, type RunningHost, type SeededHost } from './fixtures/host.js';
import { CLIPART } from '../fixtures/datasets.js';

const SHOTS = path.resolve('test-results/screenshots');
let seededHost: SeededHost<{ projectId: number; runId: number }>;
let host: RunningHost;
let seeded: { projectId: number; runId: number };

test.beforeAll(async () => {
  test.setTimeout(180_000);
  seededHost = await startSeededHost('studio-e2e-try-', 'test/e2e/fixtures/seed-mistakes.ts');
  ({ host, seeded } = seededHost);
  fs.mkdirSync(SHOTS, { recursive: true });
});

test.afterAll(async () => {
  await seededHost?.stop();
});

test('an unreadable file in Try it says so in words; a good one after it shows the picture and the answer', async ({ page }) => {
  await page.goto(host.url);
  await page.getByRole('button', { name: 'Open Mistakes' }).click();
  await page.getByTestId('train-tab').click();
  await page.getByTestId(`run-${seeded.runId}`).click();
  const tryIt = page.getByTestId('try-it');
  await tryIt.scrollIntoViewIfNeeded();

  // A JPEG by name and type whose bytes are not a picture (a truncated download, a renamed file).
  await page
    .getByTestId('try-file')
    .setInputFiles({ name: 'holiday.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('not really a picture') });
  await expect(tryIt.getByTestId('try-unviewable')).toHaveText('Cannot open “holiday.jpg”.');
  await expect(tryIt.getByRole('alert')).toContainText('“holiday.jpg” could not be tried.');
  await expect(tryIt.locator('img')).toHaveCount(0);
  await expect(tryIt.getByTestId('try-result')).toHaveCount(0);
  await page.screenshot({ path: path.join(SHOTS, 'try-it-unreadable.png') });

  const bird = path.join(CLIPART, 'bird', fs.readdirSync(path.join(CLIPART, 'bird')).sort()[0]!);
  await page.getByTestId('try-file').setInputFiles(bird);
  await expect(tryIt.getByTestId('try-result').getByRole('listitem')).toHaveCount(3);
  await expect(tryIt.getByRole('img', { name: 'Being tried' })).toBeVisible();
  await expect(tryIt.getByRole('alert')).toHaveCount(0);
  await expect(tryIt.getByTestId('try-unviewable')).toHaveCount(0);

  // Seen here too: "Back to the recommended settings" is an ordinary, enabled button in full colour.
  await page.getByTestId('new-run').click();
  await page.getByText('Advanced', { exact: true }).click();
  const reset = page.getByRole('button', { name: /Back to the recommended settings/ });
  await reset.scrollIntoViewIfNeeded();
  await expect(reset).toBeEnabled();
  await expect(reset).toHaveCSS('opacity', '1');
  await page.screenshot({ path: path.join(SHOTS, 'try-it-reset-button.png') });
});
