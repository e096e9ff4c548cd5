#!/usr/bin/env node
// `npm start`: build, then open the desktop app where Electron can run; otherwise say exactly
// why not and start the local web app instead (same UI, in the browser).
// Extra arguments (e.g. --data-dir DIR) go to the app or to `studio serve`.
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const passThrough = process.argv.slice(2);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(cmd, args, opts = {}) {
  return spawnSync(cmd, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32', ...opts }).status ?? 1;
}

function electronBinary() {
  const dir = path.dirname(require.resolve('electron/package.json'));
  const txt = path.join(dir, 'path.txt');
  if (!fs.existsSync(txt)) return null;
  const bin = path.join(dir, 'dist', fs.readFileSync(txt, 'utf8').trim());
  return fs.existsSync(bin) ? bin : null;
}

function hasDisplay() {
  if (process.platform === 'darwin' || process.platform === 'win32') return true;
  return Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
}

/** Electron's binary is not fetched by `npm install` (its install script is off); try once here. */
function downloadElectron() {
  if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) return null;
  console.log('Downloading the Electron binary (first run only)…');
  const installer = path.join(path.dirname(require.resolve('electron/package.json')), 'install.js');
  // Its failure offline is a long stack trace; the reason printed below says it in one line.
  spawnSync(process.execPath, [installer], { cwd: root, stdio: 'ignore', timeout: 300_000 });
  return electronBinary();
}

/** Why Electron cannot run here (every reason that applies), or null when it can. */
function whyNoElectron() {
  if (process.env.STUDIO_WEB === '1') return 'STUDIO_WEB=1 asks for the web app';
  const reasons = [];
  const display = hasDisplay();
  if (!display) reasons.push('no display (neither DISPLAY nor WAYLAND_DISPLAY is set)');
  // Downloading is pointless without a display; with one, try once.
  if (!electronBinary() && !(display && downloadElectron())) {
    reasons.push('no Electron binary: it is downloaded on first run and this machine is offline');
  }
  if (reasons.length > 0) return reasons.join('; and ');
  const sqliteReady = run(process.execPath, ['scripts/rebuild-electron-sqlite.mjs', '--check'], { stdio: 'ignore' }) === 0;
  if (!sqliteReady && run(process.execPath, ['scripts/rebuild-electron-sqlite.mjs']) !== 0) {
    return 'better-sqlite3 could not be built for Electron (this needs to be online once)';
  }
  return null;
}

function forward(child) {
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

if (run(npm, ['run', 'build']) !== 0) {
  console.error('The build failed; see above.');
  process.exit(1);
}

const reason = whyNoElectron();
if (reason === null) {
  console.log('Starting the Transfer Studio desktop app…');
  forward(spawn(electronBinary(), ['.', ...passThrough], { cwd: root, stdio: 'inherit' }));
} else {
  console.log(`The desktop app cannot start here: ${reason}.`);
  console.log('Starting the web app instead: open the URL below in a browser on this machine.');
  forward(spawn(process.execPath, [path.join(root, 'bin/studio.mjs'), ...passThrough, 'serve'], { cwd: root, stdio: 'inherit' }));
}
