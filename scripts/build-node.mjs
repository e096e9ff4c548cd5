#!/usr/bin/env node
// Bundles the Node side with esbuild into dist/electron: the desktop code (main, the core's utility
// process, preload), the training engine's process, and the `studio` CLI (dist/electron/host/cli.cjs,
// run by bin/studio.mjs, so the CLI starts without compiling TypeScript). Native and heavyweight
// packages stay external and load from node_modules at run time.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist/electron');
const external = [
  'electron',
  'better-sqlite3',
  'sharp',
  'heic-decode',
  'onnxruntime-node',
  '@tensorflow/*',
  'nsfwjs',
  'onnx-proto',
  'protobufjs',
];
// Bundled CommonJS dependencies may call require(); ESM output has none unless we make one.
const esmBanner =
  "import { createRequire as __studioCreateRequire } from 'node:module'; const require = __studioCreateRequire(import.meta.url);";

/**
 * The CLI loads tfjs, ONNX Runtime and sharp only when a command uses them: `studio project list`
 * must not pay for libraries it never calls, yet the core imports them at the top of many modules.
 * In the CLI bundle each of these packages becomes a stand-in whose first use (a property read or
 * a call) requires the real package. esbuild's namespace objects for a CommonJS module inherit
 * from the module's prototype, so the stand-in reports a prototype that reads through to the real
 * package: every `tf.x`, `ort.X` or `sharp(…)` reaches the real thing, and nothing is copied.
 * Only packages imported for their exports can stand in this way; a side-effect import (the engine's
 * `import '@tensorflow/tfjs-backend-wasm'`, which the CLI does not reach) must stay external.
 */
const LAZY = ['@tensorflow/tfjs', 'onnxruntime-node', 'sharp', 'onnx-proto'];
// The CLI bundle is CommonJS (see below): require and __filename exist, import.meta does not.
const lazyBanner = `const __studioImportMetaUrl = require('node:url').pathToFileURL(__filename).href;
const __studioLazy = (id) => {
  let real;
  const load = () => (real ??= require(id));
  const read = { get: (_, key) => (key === '__esModule' ? undefined : Reflect.get(load(), key)), has: (_, key) => Reflect.has(load(), key) };
  const through = new Proxy(Object.create(null), read);
  // An arrow function as the target: callable (sharp's default export is a function), and without
  // non-configurable own properties the proxy would have to list.
  return new Proxy(() => {}, {
    ...read,
    apply: (_, self, args) => Reflect.apply(load(), self, args),
    ownKeys: () => [],
    getOwnPropertyDescriptor: () => undefined,
    getPrototypeOf: () => through,
  });
};`;

function lazyPackages() {
  return {
    name: 'lazy-packages',
    setup(b) {
      const filter = new RegExp(`^(${LAZY.map((k) => k.replace(/[/.-]/g, '\\$&')).join('|')})$`);
      b.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'lazy-package' }));
      b.onLoad({ filter: /.*/, namespace: 'lazy-package' }, (args) => ({
        contents: `module.exports = __studioLazy(${JSON.stringify(args.path)});`,
        loader: 'js',
      }));
    },
  };
}

/**
 * Node's built-in modules through require() in the CLI bundle: an ES `import` of one builds its ESM
 * facade, which reads every export — `node:crypto`'s include WebCrypto, about 70 ms of start-up
 * for nothing. The built-ins are CommonJS anyway.
 */
function builtinsViaRequire() {
  return {
    name: 'builtins-via-require',
    setup(b) {
      // The stand-in's own require() is left to esbuild (a built-in stays external).
      b.onResolve({ filter: /^node:/ }, (args) => (args.namespace === 'builtin' ? undefined : { path: args.path, namespace: 'builtin' }));
      b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({
        contents: `module.exports = require(${JSON.stringify(args.path)});`,
        loader: 'js',
      }));
    },
  };
}

fs.rmSync(out, { recursive: true, force: true });
const common = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  sourcemap: 'linked',
  external,
  logLevel: 'warning',
  absWorkingDir: root,
};
const esm = { format: 'esm', outExtension: { '.js': '.js' } };

const started = Date.now();
await Promise.all([
  build({
    ...common,
    ...esm,
    entryPoints: {
      'main/main': 'electron/main/main.ts',
      'main/core-process': 'electron/main/core-process.ts',
      // The training engine's own process: TrainingService looks for ../engine/entry.js beside the bundled core.
      'engine/entry': 'electron/core/engine/entry.ts',
    },
    outdir: out,
    banner: { js: esmBanner },
  }),
  // The CLI sits at host/cli.cjs, so ../engine/entry.js is the same engine bundle. It is one CommonJS
  // file because bin/studio.mjs compiles it through vm.Script with V8's code cache (ES modules have
  // no code cache on Node 20): compiling the source was a third of `studio project list`'s start-up.
  build({
    ...common,
    entryPoints: { 'host/cli': 'electron/host/cli.ts' },
    outdir: out,
    format: 'cjs',
    outExtension: { '.js': '.cjs' },
    define: { 'import.meta.url': '__studioImportMetaUrl' },
    // Node cannot run a dynamic import() in code compiled with a code cache (no loader is attached:
    // ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING), so every import() becomes require(); checked below.
    supported: { 'dynamic-import': false },
    banner: { js: lazyBanner },
    plugins: [lazyPackages(), builtinsViaRequire()],
    // Less source to read and compile at every start; names stay readable in stack traces.
    minifyWhitespace: true,
    minifySyntax: true,
  }),
  // A sandboxed preload cannot be an ES module.
  build({ ...common, entryPoints: ['electron/preload/preload.ts'], outfile: path.join(out, 'preload/preload.cjs'), format: 'cjs' }),
]);
const cliSource = fs.readFileSync(path.join(out, 'host/cli.cjs'), 'utf8');
const dynamicImport = /\bimport\((?!\))/.exec(cliSource);
if (dynamicImport) {
  console.error(
    `The CLI bundle has a dynamic import(), which fails under the code cache: …${cliSource.slice(dynamicImport.index - 80, dynamicImport.index + 60)}…`,
  );
  console.error('Use require() (createRequire(import.meta.url)) for that module.');
  process.exit(1);
}
// One command now writes the CLI's code cache (bin/studio.mjs), so the first `studio` a user runs starts as fast as the rest.
const warmData = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-build-'));
try {
  execFileSync(process.execPath, [path.join(root, 'bin/studio.mjs'), '--data-dir', warmData, 'project', 'list'], { stdio: 'ignore' });
} finally {
  fs.rmSync(warmData, { recursive: true, force: true });
}
console.log(`built dist/electron (main, core-process, engine, cli, preload) in ${Date.now() - started} ms`);
