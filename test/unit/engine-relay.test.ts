// The desktop's engine relay under plain Node: the core's launcher (relayed-engine.ts) and main's
// relay (engine-relay.ts) talk over a real MessageChannel, as the core utility process and main
// do over process.parentPort; worker threads stand in for the engines' utility processes (same
// postMessage / 'message' / 'exit' / stderr shape).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EngineRelay, type EngineProcess } from '../../electron/main/engine-relay.js';
import { RelayedEngines } from '../../electron/main/relayed-engine.js';
import type { CoreToEngine, EngineToCore } from '../../electron/main/core-messages.js';
import type { EngineChannel, EngineEntry, EngineExit } from '../../electron/core/training/engine-launcher.js';
import type { FromEngine, ToEngine } from '../../electron/core/engine/protocol.js';

// A stand-in engine: answers a probe with its seed and its environment's tag; a start makes it
// write to stderr and die, like an engine that runs out of memory.
const STUB = `
const { parentPort } = require('node:worker_threads');
parentPort.postMessage({ type: 'ready', engine: { name: 'stub' } });
parentPort.on('message', (msg) => {
  if (msg.type === 'probe')
    parentPort.postMessage({ type: 'probed', requestId: msg.requestId, result: { seed: msg.seed, tag: process.env.STUB_TAG ?? null } });
  if (msg.type === 'start') {
    process.stderr.write('TensorFlow.js in Node.js banner\\nout of memory\\n');
    setTimeout(() => process.exit(3), 20);
  }
});
`;

let workers: Worker[] = [];
let channel: MessageChannel;
let tmp: string;
/** The script the core names; "main" starts exactly that file. */
let entry: EngineEntry;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-relay-'));
  entry = { file: path.join(tmp, 'stub-engine.cjs'), execArgv: [] };
  fs.writeFileSync(entry.file, STUB);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function setup() {
  channel = new MessageChannel();
  const toMain: CoreToEngine[] = [];
  const toCore: EngineToCore[] = [];
  // The core process's end.
  const engines = new RelayedEngines((msg) => {
    toMain.push(msg);
    channel.port1.postMessage(msg);
  });
  channel.port1.on('message', (msg: EngineToCore) => engines.handle(msg));
  // Main's end.
  const relay = new EngineRelay(
    (msg) => {
      toCore.push(msg);
      channel.port2.postMessage(msg);
    },
    (engineEntry, env) => {
      const worker = new Worker(engineEntry.file, { stderr: true, env: env ?? {} });
      workers.push(worker);
      const engine: EngineProcess = Object.assign(worker, { kill: () => void worker.terminate() });
      return engine;
    },
  );
  channel.port2.on('message', (msg: unknown) => relay.handle(msg));
  return { engines, relay, toMain, toCore };
}

function nextMessage(engine: EngineChannel, type: FromEngine['type']): Promise<FromEngine> {
  return new Promise((resolve) => engine.onMessage((m) => m.type === type && resolve(m)));
}
const exitOf = (engine: EngineChannel) => new Promise<EngineExit>((resolve) => engine.onExit(resolve));
// The stand-in reads only the type, the request id and the seed.
const probe = (seed: number) => ({ type: 'probe', requestId: seed, samples: [], cacheDir: '/cache', seed }) as unknown as ToEngine;

afterEach(async () => {
  await Promise.all(workers.map((w) => w.terminate()));
  workers = [];
  channel?.port1.close();
});

describe('engine relay between the core and main', () => {
  it('starts an engine per request and keeps each engine’s messages to its own channel', async () => {
    const { engines, relay } = setup();
    const a = engines.start({ entry });
    const b = engines.start({ entry, env: { STUB_TAG: 'second' } });
    const answers = [nextMessage(a, 'probed'), nextMessage(b, 'probed')];
    a.send(probe(11));
    b.send(probe(22));
    const [fromA, fromB] = await Promise.all(answers);
    expect(fromA).toMatchObject({ type: 'probed', requestId: 11, result: { seed: 11, tag: null } });
    expect(fromB).toMatchObject({ type: 'probed', requestId: 22, result: { seed: 22, tag: 'second' } });
    expect(relay.running).toBe(2);
  });

  it('reports an engine that dies with its exit code and the last stderr lines, then forgets it', async () => {
    const { engines, relay, toMain } = setup();
    const engine = engines.start({ entry });
    const exited = exitOf(engine);
    await nextMessage(engine, 'ready');
    engine.send({ type: 'start', runId: 1 } as ToEngine);
    expect(await exited).toEqual({ code: 3, signal: null, stderr: ['out of memory'] });
    expect(relay.running).toBe(0);
    // Nothing is sent for an engine that is gone.
    const sent = toMain.length;
    engine.send(probe(1));
    engine.kill();
    expect(toMain.length).toBe(sent);
  });

  it('ends an engine the core kills or releases', async () => {
    const { engines, relay } = setup();
    const killed = engines.start({ entry });
    const released = engines.start({ entry });
    await Promise.all([nextMessage(killed, 'ready'), nextMessage(released, 'ready')]);
    const exits = [exitOf(killed), exitOf(released)];
    killed.kill('SIGKILL');
    released.release();
    expect((await Promise.all(exits)).map((e) => e.code)).toEqual([1, 1]);
    expect(relay.running).toBe(0);
  });

  it('stops every engine when the core goes away, and sends nothing more to it', async () => {
    const { engines, relay, toCore } = setup();
    const engine = engines.start({ entry });
    await nextMessage(engine, 'ready');
    const worker = workers[0]!;
    const workerExit = new Promise<number>((resolve) => worker.once('exit', resolve));
    const sent = toCore.length;
    relay.stopAll();
    expect(await workerExit).toBe(1);
    expect(relay.running).toBe(0);
    expect(toCore.length).toBe(sent);
    // A late request from a core being replaced starts nothing.
    expect(relay.handle({ type: 'engine.start', engine: 99, entry } satisfies CoreToEngine)).toBe(true);
    expect(workers).toHaveLength(1);
  });

  it('leaves the core’s other messages to the core client, and reports an engine that cannot start', async () => {
    const toCore: EngineToCore[] = [];
    const relay = new EngineRelay(
      (msg) => toCore.push(msg),
      () => {
        throw new Error('no such module');
      },
    );
    expect(relay.handle({ type: 'result', id: 1, ok: true, value: null })).toBe(false);
    expect(relay.handle({ type: 'ready' })).toBe(false);
    expect(relay.handle({ type: 'engine.start', engine: 5, entry } satisfies CoreToEngine)).toBe(true);
    expect(toCore).toEqual([
      { type: 'engine.exit', engine: 5, code: null, stderr: ['could not start the engine process: no such module'] },
    ]);
  });
});
