// The desktop app end to end: Playwright launches the built Electron app (main + core utility
// process + sandboxed preload), the same library flow as library.spec.ts, with the native
// folder dialog replaced by STUDIO_E2E_IMPORT_DIR (read by main only when STUDIO_E2E=1).
// Runs where an Electron binary and a display exist; elsewhere it is skipped and says why.
import { test, expect, _electron as electron, type ElectronApplication, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const ROOT = path.resolve(import.meta.dirname, '../..');
const DATASET = path.resolve(ROOT, '../shared/datasets/clipart-8');
const EXPECTED: Record<string, number> = { beverage: 51, bird: 47, bug: 49, fruit: 88, hardware: 54, mammal: 115, music: 72, vehicle: 52 };

function electronBinary(): string | null {
  const dir = path.dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  const txt = path.join(dir, 'path.txt');
  if (!fs.existsSync(txt)) return null;
  const bin = path.join(dir, 'dist', fs.readFileSync(txt, 'utf8').trim());
  return fs.existsSync(bin) ? bin : null;
}

function whySkip(): string | null {
  if (!electronBinary())
    return 'no Electron binary (node_modules/electron/dist): it is downloaded on first run of `npm start`, and this machine is offline';
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY)
    return 'no display (DISPLAY / WAYLAND_DISPLAY unset); try xvfb-run';
  return null;
}

const skipReason = whySkip();
if (skipReason) console.log(`[electron.spec] skipped: ${skipReason}`);

let app: ElectronApplication;
let work: string;

test.describe('desktop app', () => {
  test.skip(skipReason !== null, skipReason ?? '');

  test.beforeAll(async () => {
    // The web-host global setup builds the renderer; the Electron side is bundled here.
    execFileSync(process.execPath, ['scripts/build-node.mjs'], { cwd: ROOT, stdio: 'inherit' });
    execFileSync(process.execPath, ['scripts/rebuild-electron-sqlite.mjs'], { cwd: ROOT, stdio: 'inherit' });
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-electron-e2e-'));
    fs.cpSync(DATASET, path.join(work, 'clipart-8'), { recursive: true });
  });

  test.afterAll(async () => {
    await app?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  const launch = () =>
    electron.launch({
      executablePath: electronBinary()!,
      args: [ROOT, '--data-dir', path.join(work, 'data')],
      cwd: ROOT,
      env: { ...process.env, STUDIO_E2E: '1', STUDIO_E2E_IMPORT_DIR: path.join(work, 'clipart-8') },
    });

  const labelCount = (page: Page, name: string) => page.getByTestId(`count-label-${name}`);

  test('create, import through the native picker, label, relaunch', async () => {
    app = await launch();
    const page = await app.firstWindow();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));

    await test.step('the page is sandboxed: only studioBridge, no Node', async () => {
      expect(await page.evaluate(() => typeof (globalThis as unknown as { studioBridge?: unknown }).studioBridge)).toBe('object');
      expect(await page.evaluate(() => typeof (globalThis as unknown as { require?: unknown }).require)).toBe('undefined');
      expect(await page.evaluate(() => typeof (globalThis as unknown as { process?: unknown }).process)).toBe('undefined');
    });

    await test.step('create a project', async () => {
      await expect(page.getByRole('heading', { name: 'Create your first project' })).toBeVisible();
      await page.getByPlaceholder(/Name a new project/).fill('Clip art');
      await page.getByRole('button', { name: 'Create project' }).click();
      await expect(page.getByRole('heading', { name: 'Clip art' })).toBeVisible();
    });

    await test.step('import clipart-8 with the (overridden) native folder dialog', async () => {
      await page.getByRole('button', { name: 'Import images' }).first().click();
      await page.getByRole('button', { name: /Import a folder/ }).click();
      const report = page.getByTestId('import-report');
      await expect(report).toBeVisible({ timeout: 150_000 });
      await expect(page.getByTestId('report-imported')).toHaveText('528');
      await report.getByRole('button', { name: 'Done' }).click();
      for (const [name, n] of Object.entries(EXPECTED)) await expect(labelCount(page, name)).toHaveText(String(n));
      // Thumbnails come through the studio-image:// protocol.
      await expect(page.locator('[data-index="0"] img')).toBeVisible();
      expect(
        await page.locator('[data-index="0"] img').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
      ).toBeGreaterThan(0);
    });

    await test.step('label a range with a number key', async () => {
      await page.getByRole('button', { name: '+ New label' }).click();
      await page.getByLabel('New label name').fill('favourite');
      await page.getByRole('button', { name: 'Add', exact: true }).click();
      await page.locator('[data-index="2"]').click();
      await page.locator('[data-index="6"]').click({ modifiers: ['Shift'] });
      await page.keyboard.press('9');
      await expect(labelCount(page, 'favourite')).toHaveText('5');
    });

    await test.step('relaunch: everything is kept', async () => {
      await app.close();
      app = await launch();
      const again = await app.firstWindow();
      await again.getByText('Clip art').first().click();
      await expect(again.getByTestId('count-all')).toHaveText('528');
      await expect(labelCount(again, 'favourite')).toHaveText('5');
    });

    expect(problems).toEqual([]);
  });
});
