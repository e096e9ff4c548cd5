#!/usr/bin/env node
// Builds better-sqlite3 for Electron's ABI into native/electron/better_sqlite3.node, from a
// copy of the package, so node_modules keeps its Node build (the CLI, web host and tests use it).
// Electron main passes the result to better-sqlite3 as `nativeBinding`.
// Usage: node scripts/rebuild-electron-sqlite.mjs [--check]   (--check: exit 0 if up to date, 1 if not)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const outDir = path.join(root, 'native/electron');
const outFile = path.join(outDir, 'better_sqlite3.node');
const stampFile = path.join(outDir, 'better_sqlite3.json');

const electronVersion = require('electron/package.json').version;
const sqliteVersion = require('better-sqlite3/package.json').version;
const want = { electron: electronVersion, betterSqlite3: sqliteVersion, platform: process.platform, arch: process.arch };

function upToDate() {
  try {
    const have = JSON.parse(fs.readFileSync(stampFile, 'utf8'));
    return fs.existsSync(outFile) && Object.entries(want).every(([k, v]) => have[k] === v);
  } catch {
    return false;
  }
}

if (process.argv.includes('--check')) process.exit(upToDate() ? 0 : 1);
if (upToDate() && !process.argv.includes('--force')) {
  console.log(`better-sqlite3 ${sqliteVersion} for Electron ${electronVersion} is up to date (${path.relative(root, outFile)}).`);
  process.exit(0);
}

const { rebuild } = await import('@electron/rebuild');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-sqlite-electron-'));
try {
  const src = path.dirname(require.resolve('better-sqlite3/package.json'));
  const dst = path.join(work, 'node_modules', 'better-sqlite3');
  // Copy without the Node build, so nothing stale can be picked up.
  fs.cpSync(src, dst, { recursive: true, filter: (p) => !p.startsWith(path.join(src, 'build')) });
  fs.writeFileSync(
    path.join(work, 'package.json'),
    JSON.stringify({ name: 'sqlite-electron-build', version: '1.0.0', dependencies: { 'better-sqlite3': sqliteVersion } }),
  );
  console.log(`Building better-sqlite3 ${sqliteVersion} for Electron ${electronVersion} (${process.platform}-${process.arch})…`);
  await rebuild({ buildPath: work, electronVersion, onlyModules: ['better-sqlite3'], force: true, mode: 'sequential' });
  const built = path.join(dst, 'build', 'Release', 'better_sqlite3.node');
  if (!fs.existsSync(built)) throw new Error(`the build finished but ${built} is missing`);
  fs.mkdirSync(outDir, { recursive: true });
  fs.copyFileSync(built, outFile);
  fs.writeFileSync(stampFile, `${JSON.stringify(want, null, 2)}\n`);
  console.log(`Wrote ${path.relative(root, outFile)}.`);
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  console.error(
    `Could not build better-sqlite3 for Electron: ${message.split('\n')[0]}\n` +
      "This needs Electron's headers (downloaded once) or a prebuilt binary, so it must run online the first time.",
  );
  process.exitCode = 1;
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
