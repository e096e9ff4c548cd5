// Freeing space from the UI against the real `studio serve`: the Train page says how much the
// project takes on disk; Delete run asks first, then removes the run and its model folder.
// The run is put in the database directly (a finished run needs no training for this).
import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startHost, tempDir, type RunningHost } from './fixtures/host.js';

let host: RunningHost;
let work: string;
let projectId: number;
let runId: number;
let runDir: string;

test.beforeAll(async () => {
  work = tempDir('studio-e2e-storage-');
  const data = path.join(work, 'data');
  const out = execFileSync(process.execPath, ['bin/studio.mjs', '--data-dir', data, '--json', 'project', 'create', 'Space'], {
    encoding: 'utf8',
  });
  projectId = Number((JSON.parse(out.trim().split('\n').at(-1)!) as { id: number }).id);
  const db = new Database(path.join(data, 'studio.db'));
  runId = Number(
    db
      .prepare(
        "INSERT INTO runs (project_id, base_id, strategy, config, status, finished_at) VALUES (?, 'mobilenet-v2', 'head', '{}', 'done', '2026-01-01T00:00:00Z')",
      )
      .run(projectId).lastInsertRowid,
  );
  db.close();
  runDir = path.join(data, 'projects', String(projectId), 'runs', String(runId));
  fs.mkdirSync(path.join(runDir, 'model'), { recursive: true });
  fs.writeFileSync(path.join(runDir, 'model', 'weights.bin'), Buffer.alloc(3 * 1024 * 1024));
  host = await startHost(data);
});

test.afterAll(async () => {
  await host?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('the Train page shows disk use; Delete run asks, then frees the run', async ({ page }) => {
  await page.goto(host.url);
  await page.goto(`${host.origin}/#/project/${projectId}/train`);
  await expect(page.getByTestId('project-storage')).toContainText('runs 3.0 MB');
  await page.getByTestId(`run-${runId}`).click();
  await page.getByTestId('delete-run').click();
  const dialog = page.getByRole('dialog');
  await expect(dialog).toContainText('Exports you saved to a folder of your choice stay there');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByTestId(`run-${runId}`)).toBeVisible(); // cancelled: nothing happened
  expect(fs.existsSync(runDir)).toBe(true);

  await page.getByTestId('delete-run').click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete run' }).click();
  await expect(page.getByTestId(`run-${runId}`)).toHaveCount(0);
  await expect(page.getByText(`Deleted run ${runId}: 3.0 MB freed.`)).toBeVisible();
  await expect(page.getByTestId('project-storage')).toContainText('runs 0 B');
  expect(fs.existsSync(runDir)).toBe(false);
});
