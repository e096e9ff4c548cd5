// Backup and restore from the projects screen in the web app: the real `studio serve` host and
// built renderer in Chromium. "Back up…" downloads the archive; "Restore from backup…" uploads it
// and opens the new project; a damaged file is refused with the core's message.
import { test, expect } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startHost, tempDir, type RunningHost } from './fixtures/host.js';
import { CLIPART } from '../fixtures/datasets.js';

let host: RunningHost;
let work: string;

test.beforeAll(async () => {
  work = tempDir('studio-e2e-backup-');
  const src = path.join(work, 'src');
  for (const label of ['bird', 'fruit']) {
    fs.mkdirSync(path.join(src, label), { recursive: true });
    for (const f of fs.readdirSync(path.join(CLIPART, label)).slice(0, 2))
      fs.copyFileSync(path.join(CLIPART, label, f), path.join(src, label, f));
  }
  const data = path.join(work, 'data');
  const cli = (...args: string[]) => execFileSync(process.execPath, ['bin/studio.mjs', '--data-dir', data, ...args], { encoding: 'utf8' });
  cli('project', 'create', 'Garden');
  cli('import', 'Garden', src);
  host = await startHost(data);
});

test.afterAll(async () => {
  await host?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('back up a project as a download, restore it by upload, refuse a damaged copy', async ({ page }) => {
  await page.goto(host.url);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Back up Garden' }).click()]);
  expect(download.suggestedFilename()).toMatch(/^Garden-.*\.studio-backup\.tar$/);
  const file = path.join(work, download.suggestedFilename());
  await download.saveAs(file);

  await page.getByTestId('restore-backup-file').setInputFiles(file);
  // The new project opens; back on the list both are there.
  await expect(page.getByText('Restored “Garden (restored)”: 4 images, 2 labels, 0 runs.')).toBeVisible();
  await page.goto(host.url);
  await expect(page.getByRole('button', { name: 'Open Garden (restored)' })).toBeVisible();

  const bad = path.join(work, 'damaged.studio-backup.tar');
  const bytes = fs.readFileSync(file);
  bytes[bytes.length - 3000] = bytes[bytes.length - 3000]! ^ 0xff;
  fs.writeFileSync(bad, bytes);
  await page.getByTestId('restore-backup-file').setInputFiles(bad);
  await expect(page.getByText(/The backup is damaged: .* Nothing was restored\./)).toBeVisible();
  await expect(page.getByRole('button', { name: /^Open Garden/ })).toHaveCount(2);
});
