#!/usr/bin/env node
// Launcher for the `studio` CLI: runs the bundle `npm run build` makes (dist/electron/host/cli.js),
// so no TypeScript is compiled at start-up. In a source checkout without a build, it falls back to
// the TypeScript source through tsx (a devDependency) and says so.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bundle = path.join(root, 'dist/electron/host/cli.js');

if (fs.existsSync(bundle) && process.env.STUDIO_CLI_FROM_SOURCE !== '1') {
  await import(pathToFileURL(bundle).href);
} else {
  let tsx;
  try {
    tsx = await import('tsx/esm/api');
  } catch {
    process.stderr.write('studio: the command line is not built; run `npm run build` first.\n');
    process.exit(1);
  }
  if (process.env.STUDIO_CLI_FROM_SOURCE !== '1')
    process.stderr.write('studio: running from source (no build found; `npm run build` makes start-up fast).\n');
  tsx.register();
  await import('../electron/host/cli.ts');
}
