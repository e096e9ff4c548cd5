// The desktop app's core process (electron/main/core-process.ts) without Electron: a child
// process stands in for utilityProcess, with process.parentPort bridged to Node's IPC channel.
// Checks the relay main depends on: ready, calls, the native-dialog round trip, events, images by
// id, training in an engine that main starts and relays (engine-relay.ts, the real engine
// forked here where main would start a utility process), and a clean shutdown.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fork, type ChildProcess } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { FromCore, ToCore } from '../../electron/main/core-messages.js';
import { coreArgs } from '../../electron/main/core-messages.js';
import { EngineRelay, type EngineProcess } from '../../electron/main/engine-relay.js';
import { CLIPART } from '../fixtures/training-project.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
let tmp: string;
let child: ChildProcess;
let relay: EngineRelay;
const enginesStarted: ChildProcess[] = [];
const inbox: FromCore[] = [];
let waiters: { match: (m: FromCore) => boolean; resolve: (m: FromCore) => void }[] = [];

function next<T extends FromCore>(match: (m: FromCore) => boolean, timeoutMs = 60_000): Promise<T> {
  const i = inbox.findIndex(match);
  if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0] as T);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no matching message from the core process')), timeoutMs);
    waiters.push({ match, resolve: (m) => (clearTimeout(t), resolve(m as T)) });
  });
}

const send = (m: ToCore) => child.send(m);
let nextId = 1;
async function call(method: string, args: unknown): Promise<Extract<FromCore, { type: 'result' }>> {
  const id = nextId++;
  send({ type: 'call', id, method, args });
  return next((m) => m.type === 'result' && m.id === id);
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-core-process-'));
  const harness = path.join(tmp, 'harness.mjs');
  fs.writeFileSync(
    harness,
    `import { EventEmitter } from 'node:events';
const port = new EventEmitter();
port.postMessage = (m) => process.send(m);
process.on('message', (data) => port.emit('message', { data, ports: [] }));
process.parentPort = port;
await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'electron/main/core-process.ts')).href)});
`,
  );
  child = fork(harness, coreArgs(path.join(tmp, 'data'), null), {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    serialization: 'advanced',
    stdio: 'inherit',
  });
  relay = new EngineRelay(
    (m) => child.send(m),
    // The entry the core names (engine/entry.ts through tsx here), forked where main would start a utility process.
    (entry, env) => {
      const engine = fork(entry.file, [], {
        cwd: ROOT,
        execArgv: entry.execArgv,
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        env: env ?? process.env,
      });
      enginesStarted.push(engine);
      return Object.assign(engine, { postMessage: (m: unknown) => void engine.send(m as object) }) as EngineProcess;
    },
  );
  child.on('message', (m: FromCore) => {
    if (relay.handle(m)) return;
    const w = waiters.find((x) => x.match(m));
    if (w) {
      waiters = waiters.filter((x) => x !== w);
      w.resolve(m);
    } else inbox.push(m);
  });
  await next((m) => m.type === 'ready');
});

afterAll(() => {
  relay.stopAll();
  if (child.exitCode === null) child.kill();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('core utility process', () => {
  it('answers calls and reports validation errors as results', async () => {
    expect(await call('app.info', {})).toMatchObject({ ok: true, value: { host: 'electron', folderPicker: 'native' } });
    expect(await call('projects.create', { name: 42 })).toMatchObject({ ok: false, error: { code: 'invalid' } });
    expect(await call('no.such.call', {})).toMatchObject({ ok: false, error: { code: 'invalid' } });
  });

  it('asks main for the native dialog, imports what was picked, streams events, serves images', async () => {
    const dir = path.join(tmp, 'pics');
    for (const label of ['sky', 'grass']) {
      fs.mkdirSync(path.join(dir, label), { recursive: true });
      for (let i = 0; i < 2; i++) {
        const png = await sharp({ create: { width: 30 + i, height: 20, channels: 3, background: label === 'sky' ? '#3366ff' : '#33aa44' } })
          .png()
          .toBuffer();
        fs.writeFileSync(path.join(dir, label, `${i}.png`), png);
      }
    }
    const project = await call('projects.create', { name: 'Desktop' });
    const projectId = (project as { value: { id: number } }).value.id;

    const pickId = nextId++;
    send({ type: 'call', id: pickId, method: 'import.pickSource', args: { kind: 'folder' } });
    const ask = await next<Extract<FromCore, { type: 'pick' }>>((m) => m.type === 'pick');
    expect(ask.kind).toBe('folder');
    send({ type: 'picked', id: ask.id, source: { paths: [dir], displayName: 'pics' } });
    const picked = await next<Extract<FromCore, { type: 'result' }>>((m) => m.type === 'result' && m.id === pickId);
    expect(picked).toMatchObject({ ok: true, value: { displayName: 'pics' } });
    const source = (picked as { value: { source: string } }).value.source;

    expect(await call('import.start', { projectId, source, folderLabels: true })).toMatchObject({ ok: true });
    const finished = await next<Extract<FromCore, { type: 'event' }>>((m) => m.type === 'event' && m.name === 'import.finished');
    expect(finished.payload).toMatchObject({ projectId, report: { imported: 4, labels: { sky: 2, grass: 2 } } });
    expect(inbox.some((m) => m.type === 'event' && m.name === 'job.progress')).toBe(true);

    const page = (await call('images.page', { projectId, filter: {}, offset: 0, limit: 10 })) as { value: { rows: { id: number }[] } };
    const imageId = page.value.rows[0]!.id;
    send({ type: 'image', id: 900, imageId, variant: 'thumb' });
    const image = await next<Extract<FromCore, { type: 'image' }>>((m) => m.type === 'image' && m.id === 900);
    expect(image.image).toMatchObject({ mime: 'image/webp' });
    send({ type: 'image', id: 901, imageId: 999_999, variant: 'full' });
    expect((await next<Extract<FromCore, { type: 'image' }>>((m) => m.type === 'image' && m.id === 901)).image).toBeNull();

    // A cancelled dialog is a null result, not an error.
    const cancelId = nextId++;
    send({ type: 'call', id: cancelId, method: 'import.pickSource', args: { kind: 'csv' } });
    const ask2 = await next<Extract<FromCore, { type: 'pick' }>>((m) => m.type === 'pick');
    send({ type: 'picked', id: ask2.id, source: null });
    expect(await next((m) => m.type === 'result' && m.id === cancelId)).toMatchObject({ ok: true, value: null });
  });

  it('trains in an engine process that main starts and relays', async () => {
    const dir = path.join(tmp, 'clipart');
    for (const label of ['bird', 'vehicle']) {
      fs.mkdirSync(path.join(dir, label), { recursive: true });
      for (const f of fs.readdirSync(path.join(CLIPART, label)).sort().slice(0, 10))
        fs.copyFileSync(path.join(CLIPART, label, f), path.join(dir, label, f));
    }
    const projectId = ((await call('projects.create', { name: 'Trainable' })) as { value: { id: number } }).value.id;
    const pickId = nextId++;
    send({ type: 'call', id: pickId, method: 'import.pickSource', args: { kind: 'folder' } });
    const ask = await next<Extract<FromCore, { type: 'pick' }>>((m) => m.type === 'pick');
    send({ type: 'picked', id: ask.id, source: { paths: [dir], displayName: 'clipart' } });
    const source = ((await next((m) => m.type === 'result' && m.id === pickId)) as { value: { source: string } }).value.source;
    expect(await call('import.start', { projectId, source, folderLabels: true })).toMatchObject({ ok: true });
    await next((m) => m.type === 'event' && m.name === 'import.finished' && (m.payload as { projectId: number }).projectId === projectId);

    const started = await call('training.start', { projectId, baseId: 'mobilenet_v2', strategy: 'head', overrides: { epochs: 1 } });
    expect(started).toMatchObject({ ok: true });
    const runId = (started as { value: { runId: number } }).value.runId;
    const finished = await next(
      (m) => m.type === 'event' && m.name === 'training.finished' && (m.payload as { runId: number }).runId === runId,
      120_000,
    );
    expect(finished).toMatchObject({ payload: { status: 'done' } });
    const run = (await call('runs.get', { runId })) as { value: { status: string; engine: string; epochs: unknown[] } };
    expect(run.value).toMatchObject({ status: 'done' });
    expect(run.value.epochs).toHaveLength(1);
    // One engine, started by "main" for the core, and gone once the run is recorded.
    expect(enginesStarted).toHaveLength(1);
    await new Promise<void>((resolve) =>
      enginesStarted[0]!.exitCode !== null ? resolve() : enginesStarted[0]!.once('exit', () => resolve()),
    );
    expect(relay.running).toBe(0);
  }, 180_000);

  it('closes the database and exits on shutdown', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    send({ type: 'shutdown' });
    await next((m) => m.type === 'closed');
    expect(await exited).toBe(0);
    expect(fs.existsSync(path.join(tmp, 'data', 'studio.db-wal'))).toBe(false);
  });
});
