#!/usr/bin/env node
// `npm run package:check`: packages the app as electron-builder would ship it (unpacked, Linux),
// then runs the packaged core under plain Node with the environment the desktop app builds
// (process.resourcesPath = the package's resources folder) and imports images and a base model,
// trains, predicts and exports through the contract. Fails when a resource is missing from the
// package or is read from this checkout instead (every file access of the packaged processes
// is watched, and they run from an empty working folder outside the checkout).
//
// For this check only: Electron's binary is a stand-in file (it cannot be downloaded here),
// native modules are not rebuilt for Electron (that needs Electron's headers; the ones in the
// package are built for Node, which is what runs them here) and fuses are not flipped (that
// needs the real binary; they are read from build/electron-builder.yml as they are).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const started = Date.now();
const keep = process.argv.includes('--keep');

function step(message) {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${message}`);
}

let tmp = null;

function fail(message) {
  console.error(`package:check FAILED: ${message}`);
  if (tmp && !keep) fs.rmSync(tmp, { recursive: true, force: true });
  else if (tmp) console.error(`kept ${tmp}`);
  process.exit(1);
}

/** Runs a process to its end (killed after 10 minutes: a hung check must still fail). */
function run(cmd, args, options) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let out = '';
    const timer = setTimeout(() => {
      out += `\n(killed after 10 minutes)`;
      child.kill('SIGKILL');
    }, 600_000);
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

for (const file of [
  'dist/electron/main/core-process.js',
  'dist/electron/engine/entry.js',
  'dist/renderer/index.html',
  'build/models/bases/mobilenet_v2/model.json',
]) {
  if (!fs.existsSync(path.join(root, file))) fail(`${file} is missing; run \`npm run build\` first.`);
}

tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'studio-package-check-')));
if (!path.relative(root, tmp).startsWith('..')) fail(`the temporary folder ${tmp} lies inside the checkout`);

// 1. electron-builder --dir --linux with a derived config: stand-in Electron, no rebuild, no fuses.
const yaml = require('js-yaml');
const config = yaml.load(fs.readFileSync(path.join(root, 'build/electron-builder.yml'), 'utf8'));
const electronDist = path.join(tmp, 'electron-dist');
fs.mkdirSync(electronDist);
fs.writeFileSync(path.join(electronDist, 'electron'), '#!/bin/sh\necho "stand-in for the Electron binary (package:check)" >&2\nexit 1\n', {
  mode: 0o755,
});
const outDir = path.join(tmp, 'out');
const derived = {
  ...config,
  directories: { ...config.directories, output: outDir, buildResources: path.join(root, 'build') },
  electronDist,
  electronVersion: JSON.parse(fs.readFileSync(path.join(root, 'node_modules/electron/package.json'), 'utf8')).version,
  npmRebuild: false,
  electronFuses: null,
};
const configFile = path.join(tmp, 'electron-builder.json');
fs.writeFileSync(configFile, JSON.stringify(derived, null, 2));
step(`electron-builder --dir --linux (Electron ${derived.electronVersion}, stand-in binary) → ${outDir}`);
const builder = await run(
  process.execPath,
  [require.resolve('electron-builder/cli.js'), '--dir', '--linux', '--config', configFile, '--projectDir', root],
  {
    cwd: root,
    env: { ...process.env, CSC_IDENTITY_AUTO_DISCOVERY: 'false' },
  },
);
if (builder.code !== 0) fail(`electron-builder exited with ${builder.code}:\n${builder.out.slice(-4000)}`);

const unpacked = fs.readdirSync(outDir).find((d) => d.endsWith('-unpacked'));
if (!unpacked) fail(`electron-builder made no *-unpacked folder in ${outDir}`);
const resources = path.join(outDir, unpacked, 'resources');
const appAsar = path.join(resources, 'app.asar');

// 2. What must be in the package.
const expected = [
  'app.asar',
  'bases/mobilenet_v2/model.json',
  'bases/mobilenet_v2/weights.bin',
  'bases/mobilenet_v2/metadata.json',
  'bases/inception_v3/model.json',
  'export-templates/web-demo/index.html',
  'export-templates/examples/node/classify.mjs',
  'export-templates/examples/python/classify.py',
  'tfjs/tf.min.js',
  'tfjs/package.json',
  'sample/sample.json',
  'sample/LICENSE.txt',
  'sample/images/sun/sun-01.png',
  'sample/images/house/house-30.png',
];
const missing = expected.filter((f) => !fs.existsSync(path.join(resources, f)));
if (missing.length) fail(`the package's resources lack ${missing.join(', ')}`);
const nativeUnpacked = ['better-sqlite3', 'onnxruntime-node', 'sharp'].filter(
  (m) => !fs.existsSync(path.join(resources, 'app.asar.unpacked', 'node_modules', m)),
);
if (nativeUnpacked.length) fail(`native modules not unpacked beside app.asar: ${nativeUnpacked.join(', ')}`);

// 3. app.asar (with its unpacked files) extracted, as plain Node cannot read inside an archive.
const asar = require('@electron/asar');
const appDir = path.join(resources, 'app');
asar.extractAll(appAsar, appDir);
const inApp = ['package.json', 'dist/electron/main/core-process.js', 'dist/electron/engine/entry.js', 'dist/renderer/index.html'];
const missingCode = inApp.filter((f) => !fs.existsSync(path.join(appDir, f)));
if (missingCode.length) fail(`app.asar lacks ${missingCode.join(', ')}`);
step(`packaged: ${resources} (app.asar ${(fs.statSync(appAsar).size / 1e6).toFixed(1)} MB)`);

// 4. Inputs outside the checkout: two labels of generated images (one dark and warm, one light
//    and cool, with noise) and a copy of a built-in base to import as a user's own model.
const sharp = require('sharp');
const images = path.join(tmp, 'images');
for (const [label, base] of [
  ['warm', [170, 60, 40]],
  ['cool', [40, 120, 190]],
]) {
  fs.mkdirSync(path.join(images, label), { recursive: true });
  for (let i = 0; i < 14; i++) {
    const px = Buffer.alloc(64 * 64 * 3);
    let s = (i + 1) * (label === 'warm' ? 7919 : 104729);
    for (let k = 0; k < px.length; k++) {
      s = (s * 1103515245 + 12345) >>> 0;
      px[k] = Math.max(0, Math.min(255, base[k % 3] + ((s >>> 16) % 61) - 30));
    }
    await sharp(px, { raw: { width: 64, height: 64, channels: 3 } })
      .png()
      .toFile(path.join(images, label, `${label}-${i}.png`));
  }
}
const modelCopy = path.join(tmp, 'my base model');
fs.cpSync(path.join(resources, 'bases', 'mobilenet_v2'), modelCopy, { recursive: true });

// 5. The watch on file access, loaded into every packaged process through NODE_OPTIONS.
const accessLog = path.join(tmp, 'checkout-access.log');
const guard = path.join(tmp, 'guard.mjs');
fs.writeFileSync(
  guard,
  `import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
const root = ${JSON.stringify(root + path.sep)};
const log = ${JSON.stringify(accessLog)};
const append = fs.appendFileSync.bind(fs);
const seen = (p) => {
  const s = typeof p === 'string' ? p : p instanceof URL ? p.pathname : Buffer.isBuffer(p) ? p.toString() : '';
  if (s.startsWith(root)) append(log, \`\${process.pid} \${s}\\n\`);
};
const wrap = (obj, names) => {
  for (const n of names) {
    const orig = obj[n];
    if (typeof orig !== 'function') continue;
    obj[n] = function (a, b, ...rest) {
      seen(a);
      if (n === 'copyFileSync' || n === 'copyFile' || n === 'renameSync' || n === 'rename' || n === 'cpSync' || n === 'cp') seen(b);
      return orig.call(this, a, b, ...rest);
    };
  }
};
const names = ['readFileSync', 'readFile', 'existsSync', 'statSync', 'stat', 'lstatSync', 'lstat', 'openSync', 'open', 'readdirSync', 'readdir',
  'createReadStream', 'copyFileSync', 'copyFile', 'cpSync', 'cp', 'accessSync', 'access', 'realpathSync', 'realpath', 'opendirSync', 'opendir'];
wrap(fs, names);
wrap(fs.promises, names);
syncBuiltinESMExports();
`,
);

// 6. The runner: Electron's utility-process API stood in for, then the packaged core-process.js.
const work = path.join(tmp, 'work');
fs.mkdirSync(work);
const runner = path.join(tmp, 'runner.mjs');
fs.writeFileSync(
  runner,
  `import { fork } from 'node:child_process';
import { pathToFileURL } from 'node:url';
const [appDir, resources, dataDir, images, modelCopy] = process.argv.slice(2);
const listeners = [];
const waiting = new Map();
const events = [];
let nextId = 1;
// What Electron gives a utility process: process.resourcesPath and process.parentPort.
Object.defineProperty(process, 'resourcesPath', { value: resources });
process.parentPort = {
  on: (event, cb) => event === 'message' && listeners.push(cb),
  postMessage: (msg) => {
    if (msg.type === 'result') waiting.get(msg.id)?.(msg);
    else if (msg.type === 'event') events.push(msg);
    else if (msg.type === 'ready') waiting.get('ready')?.();
    else if (msg.type === 'fatal') { console.error('core fatal:', msg.message); process.exit(3); }
    else if (msg.type === 'pick') {
      const p = pickQueue.shift();
      setImmediate(() => listeners.forEach((cb) => cb({ data: { type: 'picked', id: msg.id, source: { paths: [p], displayName: 'check' } } })));
    }
    // Training engines: what main does with utilityProcess.fork (electron/main/engine-relay.ts), here with fork.
    else if (msg.type === 'engine.start') {
      const child = fork(msg.entry.file, [], { execArgv: msg.entry.execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: msg.env ?? process.env });
      engines.set(msg.engine, child);
      child.on('message', (m) => toCore({ type: 'engine.message', engine: msg.engine, msg: m }));
      child.on('exit', (code) => (engines.delete(msg.engine), toCore({ type: 'engine.exit', engine: msg.engine, code, stderr: [] })));
    } else if (msg.type === 'engine.send') engines.get(msg.engine)?.send(msg.msg);
    else if (msg.type === 'engine.kill') engines.get(msg.engine)?.kill();
  },
};
const engines = new Map();
const toCore = (data) => setImmediate(() => listeners.forEach((cb) => cb({ data })));
const pickQueue = [];
const ready = new Promise((r) => waiting.set('ready', r));
process.argv = [process.argv[0], appDir + '/dist/electron/main/core-process.js', '--data-dir', dataDir];
await import(pathToFileURL(appDir + '/dist/electron/main/core-process.js').href);
await ready;
function call(method, args) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    waiting.set(id, (m) => (m.ok ? resolve(m.value) : reject(new Error(method + ': ' + m.error.message))));
    listeners.forEach((cb) => cb({ data: { type: 'call', id, method, args } }));
  });
}
async function event(name, match, timeoutMs) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const e = events.find((x) => x.name === name && match(x.payload));
    if (e) return e.payload;
    if (Date.now() > until) throw new Error('no ' + name + ' event within ' + timeoutMs + ' ms');
    await new Promise((r) => setTimeout(r, 50));
  }
}
const t0 = Date.now();
const lap = (what) => console.log('  ' + what + ' (' + ((Date.now() - t0) / 1000).toFixed(1) + ' s)');
const sample = await call('sample.create', {});
if (sample.images !== 90 || sample.labels !== 3) throw new Error('sample.create: ' + JSON.stringify(sample));
lap('created the sample project from the packaged pictures (' + sample.images + ' in ' + sample.labels + ' labels)');
const project = await call('projects.create', { name: 'Package check' });
pickQueue.push(images);
const picked = await call('import.pickSource', { kind: 'folder' });
const { jobId } = await call('import.start', { projectId: project.id, source: picked.source, folderLabels: true });
const imported = await event('import.finished', (p) => p.report.jobId === jobId, 60000);
if (imported.report.imported !== 28) throw new Error('imported ' + JSON.stringify(imported.report));
lap('imported ' + imported.report.imported + ' images');
pickQueue.push(modelCopy);
const modelPick = await call('import.pickSource', { kind: 'folder' });
const modelImport = await call('models.import', { source: modelPick.source });
if (modelImport.status !== 'imported') throw new Error('models.import: ' + JSON.stringify(modelImport));
const models = await call('models.list', {});
lap('imported base "' + modelImport.model.id + '"; models: ' + models.map((m) => m.id).join(', '));
const { runId } = await call('training.start', {
  projectId: project.id, baseId: modelImport.model.id, strategy: 'head',
  overrides: { epochs: 2, augmentedVariants: 0, featureLayer: 'block_13_expand_relu' },
});
await event('training.finished', (p) => p.runId === runId, 240000);
const run = await call('runs.get', { runId });
if (run.status !== 'done') throw new Error('training ' + run.status + ': ' + run.error);
lap('trained run ' + runId + ' (' + run.engine + ', test accuracy ' + run.metrics?.testAccuracy + ')');
const pred = await call('runs.predictProject', { runId });
let predictions = { total: 0 };
for (let i = 0; i < 1200 && predictions.total < 28; i++) {
  predictions = await call('runs.predictions', { runId, limit: 1000 });
  if (predictions.total < 28) await new Promise((r) => setTimeout(r, 100));
}
if (predictions.total !== 28) throw new Error('predicted ' + predictions.total + ' of 28 images');
lap('predicted ' + predictions.total + ' images (job ' + pred.jobId + ', ' + predictions.runtime + ')');
await call('exports.start', { runId, formats: ['tfjs', 'onnx', 'web-demo', 'examples'], quantize: false });
const exported = await event('export.finished', (p) => p.runId === runId, 240000);
if (exported.status !== 'done') throw new Error('export ' + exported.status + ': ' + exported.message);
lap('exported ' + exported.export.files.length + ' files, parity agreement ' + exported.export.agreement);
listeners.forEach((cb) => cb({ data: { type: 'shutdown' } }));
`,
);
step('running the packaged core under plain Node (cwd: an empty folder outside the checkout)');
const result = await run(process.execPath, [runner, appDir, resources, path.join(tmp, 'data'), images, modelCopy], {
  cwd: work,
  env: {
    ...process.env,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${pathToFileURL(guard).href}`.trim(),
    NODE_PATH: '',
  },
});
process.stdout.write(
  result.out
    .split('\n')
    .filter((l) => l.trim() && !/TensorFlow\.js in Node\.js|tfjs-node for more|^=+$|model\.execute\(\)/.test(l))
    .map((l) => `${l}\n`)
    .join(''),
);
if (result.code !== 0) fail(`the packaged core failed (exit ${result.code})`);
const reads = fs.existsSync(accessLog) ? [...new Set(fs.readFileSync(accessLog, 'utf8').trim().split('\n'))] : [];
if (reads.length) fail(`the packaged app touched the checkout:\n${reads.slice(0, 20).join('\n')}`);
step('no file of the checkout was touched; resources, code and native modules came from the package');
if (keep) step(`kept ${tmp}`);
else fs.rmSync(tmp, { recursive: true, force: true });
step('package:check passed');
