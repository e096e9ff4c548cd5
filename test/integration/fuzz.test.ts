// A bounded, seeded fuzz of the real web host: every contract call over one WebSocket, with
// payloads generated from the call's zod args schema (ids drawn from real rows, so many calls
// reach the handlers) plus mutations of them, and random requests on every HTTP route. Each
// message must get a result or an error that is not 'internal', and the host must stay up.
// Calls that start jobs run on a project without images (it cannot train) and are cancelled at
// once, so the run stays bounded.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import sharp from 'sharp';
import { z } from 'zod';
import { Studio } from '../../electron/core/studio.js';
import { startWebHost, type WebHost } from '../../electron/host/server.js';
import { calls, type Method, type ServerMessage } from '../../electron/shared/contract.js';
import { testEnvironment } from '../fixtures/environment.js';

const SEED = 0x5eed;
const MESSAGES = 20_000;
const HTTP_REQUESTS = 600;
/** Calls in flight at once on the one socket. */
const WINDOW = 32;

/** mulberry32: small, seeded, good enough to pick cases. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  return { next, int, pick, chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof rng>;

type JsonSchema = {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  prefixItems?: JsonSchema[];
  minItems?: number;
  maxItems?: number;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  additionalProperties?: JsonSchema | boolean;
};

/** Real ids of the fixture, by the argument names that carry them. */
interface Pools {
  projectIds: number[];
  labelIds: number[];
  imageIds: number[];
  modelIds: string[];
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** Strings for the patterns the contract uses: `^prefix[class]{a,b}$`, `[class]+`, `[class]{n}`, optional `=*`. */
function fromPattern(r: Rng, pattern: string): string {
  const m = /^\^([^[]*)\[([^\]]+)\](\{(\d+)(?:,(\d+))?\}|\+)(=\*)?\$$/.exec(pattern);
  if (!m) return Array.from({ length: r.int(1, 12) }, () => r.pick([...ALNUM])).join('');
  const chars: string[] = [];
  const cls = m[2]!;
  for (let i = 0; i < cls.length; i++) {
    if (cls[i + 1] === '-' && i + 2 < cls.length) {
      for (let c = cls.charCodeAt(i); c <= cls.charCodeAt(i + 2); c++) chars.push(String.fromCharCode(c));
      i += 2;
    } else chars.push(cls[i] === '\\' ? cls[++i]! : cls[i]!);
  }
  const lo = m[3] === '+' ? 1 : Number(m[4]);
  const hi = m[3] === '+' ? 40 : m[5] !== undefined ? Number(m[5]) : lo;
  const n = r.int(lo, Math.min(hi, lo + 40));
  return m[1]! + Array.from({ length: n }, () => r.pick(chars)).join('');
}

function generate(r: Rng, s: JsonSchema, key: string, pools: Pools): unknown {
  if (s.const !== undefined) return s.const;
  if (s.enum) return r.pick(s.enum);
  const alts = s.anyOf ?? s.oneOf;
  if (alts) return generate(r, r.pick(alts), key, pools);
  switch (s.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(s.properties ?? {})) {
        if ((s.required ?? []).includes(k) || r.chance(0.5)) out[k] = generate(r, v, k, pools);
      }
      return out;
    }
    case 'array': {
      if (s.prefixItems) return s.prefixItems.map((p) => generate(r, p, key, pools));
      const lo = s.minItems ?? 0;
      const n = r.int(lo, Math.min(s.maxItems ?? 5, lo + 5));
      return Array.from({ length: n }, () => generate(r, s.items ?? {}, key, pools));
    }
    case 'integer':
      return integerFor(r, s, key, pools);
    case 'number': {
      const lo = s.minimum ?? s.exclusiveMinimum ?? -1000;
      const hi = s.maximum ?? s.exclusiveMaximum ?? 1000;
      const v = lo + r.next() * (hi - lo);
      return v === s.exclusiveMinimum ? hi : v;
    }
    case 'boolean':
      return r.chance(0.5);
    case 'null':
      return null;
    case 'string': {
      if (key === 'id' || key === 'entryId' || key === 'baseId') {
        if (pools.modelIds.length && r.chance(0.7)) return r.pick(pools.modelIds);
      }
      if (s.pattern) return fromPattern(r, s.pattern);
      const n = r.int(Math.max(1, s.minLength ?? 0), Math.min(s.maxLength ?? 30, 30));
      return Array.from({ length: n }, () => r.pick([...ALNUM, ' ', 'é', '_'])).join('');
    }
    default:
      return r.pick([1, 'x', null, {}, []]);
  }
}

function integerFor(r: Rng, s: JsonSchema, key: string, pools: Pools): number {
  const pool = /project/i.test(key)
    ? pools.projectIds
    : /label|target|source/i.test(key)
      ? pools.labelIds
      : /image|ids/i.test(key)
        ? pools.imageIds
        : [];
  if (pool.length && r.chance(0.8)) return r.pick(pool);
  const lo = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : 0);
  const hi = Math.min(s.maximum ?? 1000, lo + 1000);
  return r.int(lo, hi);
}

const JUNK: unknown[] = [
  null,
  -1,
  0,
  1.5,
  -0.0001,
  1e308,
  '',
  'x'.repeat(100_000),
  '\u0000\u001f',
  '__proto__',
  true,
  [],
  [[[[[]]]]],
  {},
  { a: { b: { c: { d: [1, { e: null }] } } } },
  Number.MAX_SAFE_INTEGER + 2,
];

/** A payload changed in one of the ways a broken or hostile client would. */
function mutate(r: Rng, value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return r.pick(JUNK);
  const obj = { ...(value as Record<string, unknown>) };
  const keys = Object.keys(obj);
  const key = keys.length ? r.pick(keys) : 'x';
  switch (r.int(0, 9)) {
    case 0:
      delete obj[key];
      return obj;
    case 1:
      obj[key] = r.pick(['1', true, [obj[key]], { value: obj[key] }]);
      return obj;
    case 2:
      obj[key] = 'A'.repeat(r.pick([1000, 70_000, 300_000]));
      return obj;
    case 3:
      // JSON has no NaN or Infinity: they arrive as null; negatives and fractions do arrive.
      obj[key] = r.pick([-1, -1e9, NaN, Infinity, 0.5, -0, 2 ** 53]);
      return obj;
    case 4: {
      // Prototype keys as a client would send them: in the JSON text, not as JS properties.
      const rest = JSON.stringify(obj).slice(1, -1);
      const proto = `"${r.pick(['__proto__', 'constructor', 'prototype'])}":{"polluted":1}`;
      return JSON.parse(`{${rest ? `${proto},${rest}` : proto}}`) as unknown;
    }
    case 5:
      obj[key] = r.pick(JUNK);
      return obj;
    case 6: {
      // Nested junk: mutate one level down, or replace a nested value.
      const inner = obj[key];
      obj[key] = typeof inner === 'object' && inner !== null ? mutate(r, inner) : { nested: r.pick(JUNK) };
      return obj;
    }
    case 7:
      obj[`extra${r.int(0, 9)}`] = r.pick(JUNK);
      return obj;
    case 8:
      return r.pick(JUNK);
    default:
      for (const k of keys) if (r.chance(0.5)) obj[k] = r.pick(JUNK);
      return obj;
  }
}

/** Messages that are not calls at all, or calls with a broken envelope. */
function brokenEnvelope(r: Rng, id: number): string {
  return r.pick([
    'not json',
    '[]',
    'null',
    `{"type":"call","id":${id}}`,
    `{"type":"call","id":${id},"method":{"toString":1},"args":{}}`,
    `{"type":"call","id":${id},"method":"no.such.call","args":{}}`,
    `{"type":"call","id":${id},"method":"__proto__","args":{}}`,
    `{"type":"call","id":${id},"method":"constructor","args":{}}`,
    `{"type":"call","id":${id},"method":"app.info","args":"x"}`,
    `{"type":"event","id":${id}}`,
    `{"type":"call","id":-5,"method":"app.info","args":{}}`,
  ]);
}

/** Calls that start work, and how to stop it at once. */
const CANCEL: Partial<Record<Method, (value: Record<string, unknown>) => [Method, Record<string, unknown>] | null>> = {
  'import.start': (v) => ['import.cancel', { jobId: v.jobId }],
  'training.start': (v) => ['training.cancel', { runId: v.runId }],
  'exports.start': (v) => ['exports.cancel', { jobId: v.jobId }],
  'runs.predictProject': (v) => ['runs.cancelPrediction', { jobId: v.jobId }],
  'models.download': (v) => ['models.cancelDownload', { downloadId: v.downloadId }],
};
/**
 * Calls whose every valid use does seconds of real work from nothing: `sample.create` imports the
 * 90 sample pictures into a new project. Sent once: hundreds of copies test nothing more and took
 * the run from 10 s to 400 s.
 */
const ONCE = new Set<Method>(['sample.create']);
/** Calls that would train or probe: they always go to the project without images. */
const ON_EMPTY_PROJECT = new Set<Method>(['import.start', 'training.start', 'training.wizard']);

let tmp: string;
let studio: Studio;
let host: WebHost;
let base: string;
let cookie: string;

class Socket {
  private pending = new Map<number, (m: ServerMessage) => void>();
  /** Answers with no call id (-1): envelope errors, counted by the caller. */
  readonly orphans: ServerMessage[] = [];
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as ServerMessage;
      if (msg.type === 'event') return;
      const done = this.pending.get(msg.id);
      if (done) {
        this.pending.delete(msg.id);
        done(msg);
      } else this.orphans.push(msg);
    });
  }
  send(id: number, text: string): Promise<ServerMessage> {
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.ws.send(text);
    });
  }
}

function connect(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${host.port}/ws`, { headers: { origin: base, cookie } });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

let sock: Socket;
let nextId = 1;
async function call(method: string, args: unknown): Promise<ServerMessage> {
  const id = nextId++;
  return sock.send(id, JSON.stringify({ type: 'call', id, method, args }));
}
async function value<T>(method: string, args: unknown): Promise<T> {
  const r = await call(method, args);
  if (r.type !== 'result' || !r.ok) throw new Error(`${method} failed: ${JSON.stringify(r)}`);
  return r.value as T;
}

const pools: Pools = { projectIds: [], labelIds: [], imageIds: [], modelIds: [] };
let emptyProjectId: number;
let fixtureProjectIds: number[];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-fuzz-'));
  const renderer = path.join(tmp, 'renderer');
  fs.mkdirSync(path.join(renderer, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(renderer, 'index.html'), '<!doctype html><title>Transfer Studio</title>');
  fs.writeFileSync(path.join(renderer, 'assets', 'app.js'), 'console.log("hi")');
  studio = new Studio({ environment: testEnvironment(path.join(tmp, 'data')), host: 'web' });
  host = await startWebHost({ studio, port: 0, rendererDir: renderer });
  base = `http://127.0.0.1:${host.port}`;
  cookie = `studio_token=${host.token}`;
  sock = new Socket(await connect());

  // The fixture: a project with two labels and a few real images, and one with no images.
  const project = await value<{ id: number }>('projects.create', { name: 'fuzz' });
  const empty = await value<{ id: number }>('projects.create', { name: 'empty' });
  emptyProjectId = empty.id;
  fixtureProjectIds = [project.id, empty.id];
  for (const name of ['cat', 'dog']) {
    const label = await value<{ id: number }>('labels.create', { projectId: project.id, name });
    pools.labelIds.push(label.id);
  }
  for (let i = 0; i < 6; i++) {
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: i * 40, g: 10, b: 200 - i * 30 } } })
      .png()
      .toBuffer();
    const row = await value<{ id: number }>('images.capture', {
      projectId: project.id,
      labelId: pools.labelIds[i % 2],
      mime: 'image/png',
      dataBase64: png.toString('base64'),
    });
    pools.imageIds.push(row.id);
  }
  pools.projectIds.push(project.id, empty.id);
  pools.modelIds = (await value<{ id: string }[]>('models.list', {})).map((m) => m.id);
}, 120_000);

afterAll(async () => {
  sock?.ws.close();
  await host?.close();
  studio?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('fuzz', () => {
  it(`answers ${MESSAGES} generated and mutated calls with a result or a non-internal error`, async () => {
    const r = rng(SEED);
    const methods = Object.keys(calls) as Method[];
    const schemas = new Map(
      methods.map((m) => [m, z.toJSONSchema(calls[m].args, { io: 'input', unrepresentable: 'any' }) as JsonSchema] as const),
    );
    const counts = { messages: 0, valid: 0, mutated: 0, envelope: 0, ok: 0, cancelled: 0 };
    const byCode: Record<string, number> = {};
    const offenders: string[] = [];
    const started = Date.now();

    let pickable = methods;
    async function one(): Promise<void> {
      const method = r.pick(pickable);
      if (ONCE.has(method)) pickable = pickable.filter((m) => m !== method);
      const id = nextId++;
      if (r.chance(0.03)) {
        counts.envelope++;
        counts.messages++;
        const text = brokenEnvelope(r, id);
        // An envelope the host cannot tie to a call is answered with id -1; do not wait for it.
        if (!text.includes(`"id":${id}`) || text.includes('"type":"event"')) {
          sock.ws.send(text);
          return;
        }
        const reply = await sock.send(id, text);
        if (reply.type === 'result' && !reply.ok) byCode[reply.error.code] = (byCode[reply.error.code] ?? 0) + 1;
        if (reply.type === 'result' && !reply.ok && reply.error.code === 'internal')
          offenders.push(`${text.slice(0, 200)} → ${reply.error.message}`);
        return;
      }
      let args = generate(r, schemas.get(method)!, '', pools) as Record<string, unknown>;
      if (r.chance(0.4)) args = mutate(r, args) as Record<string, unknown>;
      if (ON_EMPTY_PROJECT.has(method) && args && typeof args === 'object' && typeof args.projectId === 'number') {
        args.projectId = emptyProjectId;
      }
      if (method === 'projects.delete' && args && typeof args === 'object' && fixtureProjectIds.includes(args.projectId as number)) {
        args.projectId = (args.projectId as number) + 2;
      }
      const valid = calls[method].args.safeParse(args).success;
      if (valid) counts.valid++;
      else counts.mutated++;
      counts.messages++;
      const text = JSON.stringify({ type: 'call', id, method, args });
      const reply = await sock.send(id, text);
      if (reply.type !== 'result') return;
      if (reply.ok) {
        counts.ok++;
        const cancel = CANCEL[method]?.(reply.value as Record<string, unknown>);
        if (cancel) {
          counts.cancelled++;
          const c = await call(cancel[0], cancel[1]);
          if (c.type === 'result' && !c.ok && c.error.code === 'internal')
            offenders.push(`${cancel[0]} ${JSON.stringify(cancel[1])} → ${c.error.message}`);
        }
        return;
      }
      byCode[reply.error.code] = (byCode[reply.error.code] ?? 0) + 1;
      if (reply.error.code === 'internal') offenders.push(`${method} ${text.slice(0, 300)} → ${reply.error.message}`);
    }

    let issued = 0;
    async function lane(): Promise<void> {
      while (issued < MESSAGES) {
        issued++;
        await one();
      }
    }
    await Promise.all(Array.from({ length: WINDOW }, lane));
    const seconds = (Date.now() - started) / 1000;

    // The host is still up and still answers.
    expect(await value<{ host: string }>('app.info', {})).toMatchObject({ host: 'web' });
    console.log(
      `[fuzz] ${counts.messages} messages in ${seconds.toFixed(1)} s: ${counts.valid} valid (${((100 * counts.valid) / counts.messages).toFixed(1)}%), ` +
        `${counts.mutated} mutated, ${counts.envelope} broken envelopes; ${counts.ok} ok (${counts.cancelled} jobs cancelled at once); errors by code ${JSON.stringify(byCode)}`,
    );
    if (offenders.length) console.log(`[fuzz] internal errors:\n${offenders.slice(0, 40).join('\n')}`);
    expect(offenders).toEqual([]);
    expect(counts.messages).toBeGreaterThanOrEqual(MESSAGES);
    expect(counts.valid / counts.messages).toBeGreaterThanOrEqual(0.5);
    // Some generated calls must reach real rows, or the fuzz only exercises validation.
    expect(counts.ok).toBeGreaterThan(MESSAGES / 10);
  }, 400_000);

  it(`answers ${HTTP_REQUESTS} random requests on every route without a 5xx, and stays up`, async () => {
    const r = rng(SEED + 1);
    const prefixes = ['/img/thumb/', '/img/full/', '/img/', '/upload', '/upload/', '/exports/', '/assets/', '/', '/ws', '/index.html'];
    const tails = () =>
      r.pick([
        String(r.pick(pools.imageIds)),
        String(r.int(-5, 100_000)),
        `${r.int(1, 50)}.zip`,
        'x'.repeat(r.int(1, 3000)),
        '%2e%2e/%2e%2e/etc/passwd',
        '..%2f..%2fsecret',
        '%00',
        '%ff%fe',
        `${fromPattern(r, '^[A-Za-z0-9_-]{8,64}$')}/finish`,
        fromPattern(r, '^[A-Za-z0-9_-]{8,64}$'),
        'app.js?x=1#y',
        '1e3',
        '0x10',
        '',
      ]);
    const methods = ['GET', 'GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'];
    const bad: string[] = [];
    const statuses: Record<number, number> = {};
    for (let i = 0; i < HTTP_REQUESTS; i++) {
      const method = r.pick(methods);
      const target = r.pick(prefixes) + tails();
      const headers: Record<string, string> = { cookie };
      if (r.chance(0.3)) headers['content-type'] = r.pick(['application/json', 'text/plain', 'multipart/form-data', '\u00ff']);
      if (r.chance(0.3)) headers['x-relative-path'] = r.pick(['a.jpg', '../../x.jpg', '/etc/passwd', 'd/e/f.png', '', 'C:\\x.png']);
      if (r.chance(0.2)) headers.origin = r.pick([base, 'http://evil.example', 'null']);
      if (r.chance(0.1)) headers.range = r.pick(['bytes=0-10', 'bytes=-5', 'bytes=x']);
      const body =
        method === 'POST' || method === 'PUT' || method === 'PATCH'
          ? r.pick(['', '{}', '{"csv":null}', '{"files":[1,2]}', 'not json', 'x'.repeat(r.int(0, 200_000))])
          : undefined;
      const status = await rawRequest(method, target, headers, body);
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status === 0 || status >= 500) bad.push(`${method} ${target.slice(0, 120)} ${JSON.stringify(headers)} → ${status}`);
    }
    console.log(`[fuzz] ${HTTP_REQUESTS} HTTP requests, statuses ${JSON.stringify(statuses)}`);
    expect(bad).toEqual([]);
    expect((await fetch(base + '/', { headers: { cookie } })).status).toBe(200);
  }, 300_000);
});

/** One request as sent (no URL normalisation); the status, or 0 if the connection failed. */
function rawRequest(method: string, target: string, headers: Record<string, string>, body?: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: host.port, method, path: target, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.setTimeout(30_000, () => req.destroy());
    req.end(body);
  });
}
