#!/usr/bin/env node
// Bundles the Electron side (main, the core's utility process, preload) into dist/electron with
// esbuild. Native and heavyweight packages stay external and load from node_modules at run time.
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist/electron');
const external = ['electron', 'better-sqlite3', 'sharp', 'onnxruntime-node', '@tensorflow/*', 'nsfwjs', 'onnx-proto', 'protobufjs'];
// Bundled CommonJS dependencies may call require(); ESM output has none unless we make one.
const esmBanner =
  "import { createRequire as __studioCreateRequire } from 'node:module'; const require = __studioCreateRequire(import.meta.url);";

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

const started = Date.now();
await Promise.all([
  build({
    ...common,
    entryPoints: {
      'main/main': 'electron/main/main.ts',
      'main/core-process': 'electron/main/core-process.ts',
      // The training engine's own process: TrainingService looks for ../engine/entry.js beside the bundled core.
      'engine/entry': 'electron/core/engine/entry.ts',
    },
    outdir: out,
    format: 'esm',
    outExtension: { '.js': '.js' },
    banner: { js: esmBanner },
  }),
  // A sandboxed preload cannot be an ES module.
  build({ ...common, entryPoints: ['electron/preload/preload.ts'], outfile: path.join(out, 'preload/preload.cjs'), format: 'cjs' }),
]);
console.log(`built dist/electron (main, core-process, engine, preload) in ${Date.now() - started} ms`);
