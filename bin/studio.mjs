#!/usr/bin/env node
// Launcher for the `studio` CLI: runs the bundle `npm run build` makes (dist/electron/host/cli.cjs),
// so no TypeScript is compiled at start-up. In a source checkout without a build, it falls back to
// the TypeScript source through tsx (a devDependency) and says so.
//
// The bundle is compiled with V8's code cache (cli.cjs.*.v8cache beside it): without it, parsing and
// compiling about 1 MB of JavaScript was a third of a `studio project list`. The cache is written
// after a command ran (so it holds the functions that command compiled, not just the top level),
// by the build and again whenever V8 rejects it (another Node version); a cache that cannot be
// read or written only costs that time, never the command.
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import Module, { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bundle = path.join(root, 'dist/electron/host/cli.cjs');

/** The cache belongs to one build of the bundle: V8 checks only the source's length, so its name carries the bundle's size and time. */
function cacheFileFor(file) {
  const { size, mtimeMs } = fs.statSync(file);
  return `${file}.${size}-${Math.trunc(mtimeMs)}.v8cache`;
}

/** Loads the CommonJS bundle through vm.Script with the cached code; returns its exports and a function that refreshes the cache. */
function loadBundle() {
  const cacheFile = cacheFileFor(bundle);
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(Module.wrap(fs.readFileSync(bundle, 'utf8')), {
    filename: bundle,
    cachedData,
    // The bundle's import() of an ES module package goes to Node's own loader, as in a required file.
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, path.dirname(bundle));
  const stale = cachedData === undefined || script.cachedDataRejected === true;
  const refresh = () => {
    if (!stale && process.env.STUDIO_CLI_WRITE_CACHE !== '1') return;
    try {
      // Written beside, then renamed: a CLI starting meanwhile reads the old cache or the new one, whole.
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, script.createCachedData());
      fs.renameSync(tmp, cacheFile);
    } catch {
      // A read-only install: the next start compiles again, nothing else changes.
    }
  };
  return { cli: module.exports, refresh };
}

if (fs.existsSync(bundle) && process.env.STUDIO_CLI_FROM_SOURCE !== '1') {
  const { cli, refresh } = loadBundle();
  await cli.start();
  refresh();
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
  const cli = await import('../electron/host/cli.ts');
  await cli.start();
}
