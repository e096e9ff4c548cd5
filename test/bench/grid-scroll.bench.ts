// Grid scroll benchmark: a 100,000-image project, the real web host, Debian's Chromium.
// Scrolls the virtualized grid from top to bottom, one step per animation frame, and reports
// the p95 frame time (requestAnimationFrame deltas) and the most <img> elements ever in the page.
//   node --import tsx test/bench/grid-scroll.bench.ts
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { chromium } from 'playwright-core';
import { openDatabase } from '../../electron/core/db/connection.js';
import { DataPaths } from '../../electron/core/paths.js';
import { createProject } from '../../electron/core/library/projects.js';
import { createLabel } from '../../electron/core/library/labels.js';
import { insertImage } from '../../electron/core/library/images.js';
import { startHost, tempDir } from '../e2e/fixtures/host.js';
import { CHROMIUM_ARGS } from '../../playwright.config.js';

export interface GridScrollResult {
  bench: 'grid-scroll';
  images: number;
  frames: number;
  p95FrameMs: number;
  /** The same page not scrolling: what the machine gives any page right now (shared CPUs). */
  idleP95FrameMs: number;
  maxImgElements: number;
}

export interface GridScrollOptions {
  images?: number;
  /** Pixels scrolled per frame; the grid is about 170 px per row of 6. */
  stepPx?: number;
  keep?: boolean;
}

const IDLE_IN_PAGE = `new Promise((resolve) => {
  const deltas = [];
  let last = 0;
  const frame = (now) => {
    if (last) deltas.push(now - last);
    last = now;
    if (deltas.length >= 120) return resolve(deltas);
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
})`;

const p95 = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round((sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] ?? 0) * 10) / 10;
};

// Runs in the page. A string, not a function: tsx would inject helpers the page does not have.
const SCROLL_IN_PAGE = `async (step) => {
  const grid = document.querySelector('[data-testid="image-grid"]');
  if (!grid) throw new Error('no grid');
  const deltas = [];
  let maxImgs = 0;
  let last = performance.now();
  await new Promise((resolve) => {
    const frame = (now) => {
      deltas.push(now - last);
      last = now;
      maxImgs = Math.max(maxImgs, document.getElementsByTagName('img').length);
      if (grid.scrollTop + grid.clientHeight >= grid.scrollHeight - 1) return resolve();
      grid.scrollTop += step;
      requestAnimationFrame(frame);
    };
    requestAnimationFrame((now) => { last = now; requestAnimationFrame(frame); });
  });
  // Let the last rows arrive, then count once more at the very end.
  await new Promise((r) => setTimeout(r, 800));
  maxImgs = Math.max(maxImgs, document.getElementsByTagName('img').length);
  const indexes = [...document.querySelectorAll('[data-index]')].map((e) => Number(e.getAttribute('data-index')));
  return { deltas, maxImgs, lastIndex: Math.max(...indexes) };
}`;

const ROOT = path.resolve(import.meta.dirname, '../..');

/** A data folder with one project of `n` images; thumbnails are hard links to one tiny WebP per label. */
export async function seedLargeProject(dataDir: string, n: number): Promise<number> {
  const paths = new DataPaths(dataDir);
  fs.mkdirSync(dataDir, { recursive: true });
  const db = openDatabase(paths.database);
  let projectId: number;
  const shas: string[] = [];
  const slots: number[] = [];
  try {
    projectId = createProject(db, 'Grid scroll bench').id;
    const labels = ['cat', 'dog', 'bird', 'fish', 'horse', 'cow', 'sheep', 'goat'].map((name) => createLabel(db, projectId, name).id);
    db.transaction(() => {
      for (let i = 0; i < n; i++) {
        const sha256 = createHash('sha256').update(`bench-${i}`).digest('hex');
        const slot = i % 10 === 9 ? labels.length : i % labels.length;
        shas.push(sha256);
        slots.push(slot);
        insertImage(db, {
          projectId,
          sha256,
          bytes: 1000,
          width: 64,
          height: 64,
          format: 'jpg',
          originalName: `img-${i}.jpg`,
          labelId: labels[slot] ?? null,
        });
      }
    })();
  } finally {
    db.close();
  }
  // One source file per label keeps each under the file system's hard-link limit (65,000 on ext4).
  const tiny: string[] = [];
  for (let k = 0; k <= 8; k++) {
    const file = path.join(dataDir, `tiny-${k}.webp`);
    await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 40 + k * 25, g: 200 - k * 15, b: 120 + k * 10 } } })
      .webp()
      .toFile(file);
    tiny.push(file);
  }
  shas.forEach((sha, i) => {
    const thumb = paths.thumbnail(projectId, sha);
    fs.mkdirSync(path.dirname(thumb), { recursive: true });
    fs.linkSync(tiny[slots[i]!]!, thumb);
  });
  return projectId;
}

export async function runGridScrollBench(options: GridScrollOptions = {}): Promise<GridScrollResult> {
  const n = options.images ?? 100_000;
  const stepPx = options.stepPx ?? 1500;
  if (!fs.existsSync(path.join(ROOT, 'dist/renderer/index.html'))) {
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'error'], {
      cwd: ROOT,
      stdio: 'inherit',
    });
  }
  const work = tempDir('studio-grid-bench-');
  const dataDir = path.join(work, 'data');
  const projectId = await seedLargeProject(dataDir, n);
  const host = await startHost(dataDir);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(host.url);
    await page.evaluate(`window.location.hash = '#/project/${projectId}'`);
    await page.locator('[data-index="0"] img').waitFor({ timeout: 60_000 });
    const idle = (await page.evaluate(IDLE_IN_PAGE)) as number[];
    const stats = (await page.evaluate(`(${SCROLL_IN_PAGE})(${stepPx})`)) as { deltas: number[]; maxImgs: number; lastIndex: number };
    if (stats.lastIndex !== n - 1) throw new Error(`the grid ended at image ${stats.lastIndex + 1}, not ${n}`);
    const frames = stats.deltas.slice(1);
    return {
      bench: 'grid-scroll',
      images: n,
      frames: frames.length,
      p95FrameMs: p95(frames),
      idleP95FrameMs: p95(idle),
      maxImgElements: stats.maxImgs,
    };
  } finally {
    await browser.close();
    await host.stop();
    if (!options.keep) fs.rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const images = process.env.GRID_BENCH_IMAGES ? Number(process.env.GRID_BENCH_IMAGES) : undefined;
  const result = await runGridScrollBench(images ? { images } : {});
  console.log(JSON.stringify(result));
}
