#!/usr/bin/env node
// `npm test`: the unit and integration suite (Vitest) and the end-to-end suite (Playwright in
// Chromium) side by side. Vitest runs its files one at a time, and most of its time is spent in
// single-threaded JavaScript (stock tfjs-cpu as the reference of the parity tests), so on a
// 2-core machine the second core sat idle for most of the run while Playwright waited its turn.
// The renderer is built once before either starts (Playwright's global setup would otherwise
// rebuild dist/renderer while Vitest's host tests read it). Vitest's output is shown live;
// Playwright's is collected and shown whole when it ends, so the two never interleave.
// `npm run test:unit` and `npm run test:e2e` still run one suite alone.
import { spawn, execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (pkg, file) => path.join(root, 'node_modules', pkg, file);
const started = Date.now();
const seconds = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;

console.log('== building the renderer for the end-to-end tests');
execFileSync(process.execPath, [bin('vite', 'bin/vite.js'), 'build', '--logLevel', 'error'], { cwd: root, stdio: 'inherit' });

function run(name, args, { live }) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: { ...process.env, E2E_SKIP_BUILD: '1', FORCE_COLOR: process.env.FORCE_COLOR ?? (process.stdout.isTTY ? '1' : '0') },
      stdio: ['ignore', live ? 'inherit' : 'pipe', live ? 'inherit' : 'pipe'],
    });
    const chunks = [];
    child.stdout?.on('data', (c) => chunks.push(c));
    child.stderr?.on('data', (c) => chunks.push(c));
    child.on('exit', (code, signal) => resolve({ name, code: code ?? 1, signal, output: Buffer.concat(chunks).toString() }));
  });
}

// Ctrl+C reaches both runners (same process group); this process only waits for them.
process.on('SIGINT', () => {});

const e2e = run('Playwright (end to end)', [bin('@playwright/test', 'cli.js'), 'test'], { live: false });
const unit = await run('Vitest (unit and integration)', [bin('vitest', 'vitest.mjs'), 'run'], { live: true });
console.log(`== Vitest finished after ${seconds()} (exit ${unit.code}); Playwright's output follows when it ends`);
const end = await e2e;
process.stdout.write(end.output);
console.log(`== Playwright finished after ${seconds()} (exit ${end.code}${end.signal ? `, ${end.signal}` : ''})`);
const failed = [unit, end].filter((r) => r.code !== 0);
if (failed.length) console.log(`== failed: ${failed.map((r) => r.name).join(', ')}`);
process.exit(failed.length ? 1 : 0);
