// The real web host on a temp data folder and a free port: auth, headers, static files,
// uploads, the WebSocket transport and the image route, as a browser would use them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import sharp from 'sharp';
import { Studio } from '../../electron/core/studio.js';
import { startWebHost, type WebHost } from '../../electron/host/server.js';
import { MAX_OPEN_SESSIONS, UploadSessions } from '../../electron/host/upload.js';
import { SourceRegistry } from '../../electron/core/sources.js';
import type { ServerMessage } from '../../electron/shared/contract.js';
import { testEnvironment } from '../fixtures/environment.js';

let tmp: string;
let studio: Studio;
let host: WebHost;
let base: string;
let cookie: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-host-'));
  const renderer = path.join(tmp, 'renderer');
  fs.mkdirSync(path.join(renderer, 'assets'), { recursive: true });
  fs.writeFileSync(
    path.join(renderer, 'index.html'),
    '<!doctype html><title>Transfer Studio</title><script type="module" src="/assets/app.js"></script>',
  );
  fs.writeFileSync(path.join(renderer, 'assets', 'app.js'), 'console.log("hi")');
  fs.writeFileSync(path.join(tmp, 'secret.txt'), 'do not serve me');
  studio = new Studio({ environment: testEnvironment(path.join(tmp, 'data')), host: 'web' });
  host = await startWebHost({ studio, port: 0, rendererDir: renderer });
  base = `http://127.0.0.1:${host.port}`;
  cookie = `studio_token=${host.token}`;
});

afterAll(async () => {
  await host?.close();
  studio?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A raw GET, so paths like /../ reach the server unnormalised (fetch would clean them up). */
function rawGet(pathname: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: host.port, path: pathname, headers: { cookie, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function connect(headers: Record<string, string> = { origin: base, cookie: '' }): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${host.port}/ws`, { headers: { ...headers, cookie: headers.cookie || cookie } });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

class Client {
  private nextId = 1;
  private pending = new Map<number, (m: ServerMessage) => void>();
  readonly events: { name: string; payload: unknown }[] = [];
  private eventWaiters: { name: string; resolve: (p: unknown) => void }[] = [];
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as ServerMessage;
      if (msg.type === 'event') {
        this.events.push({ name: msg.name, payload: msg.payload });
        this.eventWaiters = this.eventWaiters.filter((w) => (w.name === msg.name ? (w.resolve(msg.payload), false) : true));
      } else {
        this.pending.get(msg.id)?.(msg);
        this.pending.delete(msg.id);
      }
    });
  }
  sendRaw(text: string, id: number): Promise<ServerMessage> {
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.ws.send(text);
    });
  }
  call(method: string, args: unknown): Promise<ServerMessage> {
    const id = this.nextId++;
    return this.sendRaw(JSON.stringify({ type: 'call', id, method, args }), id);
  }
  async value<T>(method: string, args: unknown): Promise<T> {
    const r = await this.call(method, args);
    if (r.type !== 'result' || !r.ok) throw new Error(`${method} failed: ${JSON.stringify(r)}`);
    return r.value as T;
  }
  nextEvent(name: string, timeoutMs = 60_000): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no ${name} event`)), timeoutMs);
      this.eventWaiters.push({ name, resolve: (p) => (clearTimeout(t), resolve(p)) });
    });
  }
}

describe('auth', () => {
  it('refuses every route without the token, telling a person to open the newest link', async () => {
    for (const p of ['/', '/index.html', '/assets/app.js', '/img/thumb/1', '/upload']) {
      const res = await fetch(base + p, { redirect: 'manual' });
      expect(res.status, p).toBe(403);
      const text = await res.text();
      // It speaks to a person: what happened and what to do, not a command or a token.
      expect(text).toMatch(/Open the newest link/);
      expect(text).not.toMatch(/studio serve|token/i);
    }
    const wrong = await fetch(`${base}/?token=${'x'.repeat(43)}`, { redirect: 'manual' });
    expect(wrong.status).toBe(403);
    // A browser opening an old link gets a page in plain words.
    const page = await fetch(`${base}/?token=${'x'.repeat(43)}`, { redirect: 'manual', headers: { accept: 'text/html,*/*' } });
    expect(page.status).toBe(403);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toMatch(/<h1>This link no longer opens Transfer Studio<\/h1>/);
  });

  it('trades the token in the URL for an HttpOnly SameSite=Strict cookie and redirects to /', async () => {
    expect(host.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32,}$/);
    const res = await fetch(host.url, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/');
    expect(res.headers.get('set-cookie')).toBe(`studio_token=${host.token}; HttpOnly; SameSite=Strict; Path=/`);
    const page = await fetch(base + '/', { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Transfer Studio');
  });

  it('refuses a foreign Host header (DNS rebinding)', async () => {
    const res = await rawGet('/', { host: 'evil.example:80' });
    expect(res.status).toBe(403);
  });

  it('sends a strict CSP and nosniff on every response', async () => {
    for (const res of [await fetch(base + '/'), await fetch(base + '/', { headers: { cookie } })]) {
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toMatch(/script-src[^;]*unsafe/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });
});

/** Writes raw bytes to the host and returns what it answers before closing, so broken request lines reach the server as sent. */
function rawRequest(text: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(host.port, '127.0.0.1', () => socket.write(text));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => (answer += c));
    socket.on('end', () => resolve(answer));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy());
  });
}

describe('malformed request lines', () => {
  const targets = ['http://[', 'http://[::1', '//[', 'http://a b', 'http://%', '/%', '/ws%', 'http://[/ws'];
  it('answers an upgrade with a request target that is not a URL with 400, and stays up', async () => {
    for (const target of targets) {
      const answer = await rawRequest(
        `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${host.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: ${base}\r\nCookie: ${cookie}\r\n\r\n`,
      );
      // Node's parser may refuse some targets itself (socket closed with no answer); when we answer, it is a 4xx.
      if (answer !== '') expect(answer, target).toMatch(/^HTTP\/1\.1 4\d\d/);
    }
    expect((await fetch(base + '/', { headers: { cookie } })).status).toBe(200);
  });

  it('answers a plain request with a target that is not a URL with 400, not 500', async () => {
    for (const target of targets) {
      const answer = await rawRequest(
        `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${host.port}\r\nCookie: ${cookie}\r\nConnection: close\r\n\r\n`,
      );
      if (answer !== '') expect(answer, target).toMatch(/^HTTP\/1\.1 4\d\d/);
    }
    const answer = await rawRequest(
      `GET http://[ HTTP/1.1\r\nHost: 127.0.0.1:${host.port}\r\nCookie: ${cookie}\r\nConnection: close\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect((await fetch(base + '/', { headers: { cookie } })).status).toBe(200);
  });
});

describe('static files', () => {
  it('serves the renderer with the right types', async () => {
    const js = await fetch(base + '/assets/app.js', { headers: { cookie } });
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
  });

  it('refuses path traversal in every spelling', async () => {
    for (const p of [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/assets%2f..%2f..%2fsecret.txt',
      '/%2e%2e%5csecret.txt',
      '/a%00.js',
      '/%E0%A4%A',
    ]) {
      const res = await rawGet(p);
      expect([400, 404], p).toContain(res.status);
      expect(res.body).not.toContain('do not serve me');
    }
  });

  it('says to build first when dist/renderer is missing', async () => {
    const other = await startWebHost({ studio, port: 0, rendererDir: path.join(tmp, 'nope') });
    try {
      const res = await fetch(`http://127.0.0.1:${other.port}/`, { headers: { cookie: `studio_token=${other.token}` } });
      expect(res.status).toBe(503);
      expect(await res.text()).toMatch(/npm run build/);
    } finally {
      await other.close();
    }
  });
});

describe('WebSocket', () => {
  it('round-trips projects.create and projects.list', async () => {
    const c = new Client(await connect());
    const created = await c.value<{ id: number; name: string }>('projects.create', { name: 'Birds' });
    expect(created.name).toBe('Birds');
    const list = await c.value<{ id: number }[]>('projects.list', {});
    expect(list.map((p) => p.id)).toContain(created.id);
    const info = await c.value<{ host: string; folderPicker: string }>('app.info', {});
    expect(info).toMatchObject({ host: 'web', folderPicker: 'upload' });
    c.ws.close();
  });

  it('refuses a foreign Origin and a missing token', async () => {
    await expect(connect({ origin: 'http://evil.example', cookie })).rejects.toThrow(/403/);
    await expect(connect({ origin: `http://127.0.0.1:${host.port + 1}`, cookie })).rejects.toThrow(/403/);
    await expect(
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${host.port}/ws`, { headers: { origin: base } });
        ws.once('open', resolve);
        ws.once('unexpected-response', (_q, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      }),
    ).rejects.toThrow(/403/);
  });

  it('answers hostile messages with error results and stays up', async () => {
    const c = new Client(await connect());
    const notJson = await c.sendRaw('{"id": 7, this is not json', 7);
    expect(notJson).toMatchObject({ type: 'result', id: 7, ok: false, error: { code: 'invalid' } });
    const unknown = await c.call('fs.readFile', { path: '/etc/passwd' });
    expect(unknown).toMatchObject({ ok: false, error: { code: 'invalid', message: expect.stringMatching(/Unknown call/) } });
    const proto = await c.call('__proto__', {});
    expect(proto).toMatchObject({ ok: false, error: { code: 'invalid' } });
    const wrongType = await c.call('projects.create', { name: 42 });
    expect(wrongType).toMatchObject({ ok: false, error: { code: 'invalid' } });
    const negative = await c.call('labels.counts', { projectId: -1 });
    expect(negative).toMatchObject({ ok: false, error: { code: 'invalid' } });
    const huge = await c.sendRaw(
      `{"id": 9, "type":"call","method":"projects.create","args":{"name":"${'x'.repeat(33 * 1024 * 1024)}"}}`,
      9,
    );
    expect(huge).toMatchObject({ id: 9, ok: false, error: { code: 'invalid', message: expect.stringMatching(/too large/) } });
    // A method that is not a string, with a toString that is not a function: naming it must not throw.
    for (const method of [
      { toString: 1 },
      {
        toString: () => {
          throw new Error('boom');
        },
      },
      Object.create(null),
      [1, 2],
      null,
    ]) {
      const text = JSON.stringify({ type: 'call', id: 11, method, args: {} }) ?? '';
      const r = await c.sendRaw(text.replace('"method":{}', '"method":{"toString":1,"valueOf":1}'), 11);
      expect(r).toMatchObject({ id: 11, ok: false, error: { code: 'invalid', message: expect.stringMatching(/Unknown call/) } });
    }
    const hostileArgs = await c.sendRaw(
      '{"type":"call","id":12,"method":"projects.create","args":{"toString":1,"valueOf":1,"name":{"toString":1}}}',
      12,
    );
    expect(hostileArgs).toMatchObject({ id: 12, ok: false, error: { code: 'invalid' } });
    // Still serving the same connection, and new ones.
    expect(await c.value<unknown[]>('projects.list', {})).toBeInstanceOf(Array);
    const c2 = new Client(await connect());
    expect(await c2.value<unknown[]>('projects.list', {})).toBeInstanceOf(Array);
    c.ws.close();
    c2.ws.close();
  });
});

async function makeImages(dir: string): Promise<string[]> {
  const files: string[] = [];
  const colours = { red: [220, 30, 30], green: [30, 200, 60] } as const;
  for (const [label, [r, g, b]] of Object.entries(colours)) {
    for (let i = 0; i < 3; i++) {
      const rel = `shapes/${label}/${label}-${i}.png`;
      const png = await sharp({ create: { width: 40 + i * 8, height: 32, channels: 3, background: { r, g: g + i * 10, b } } })
        .png()
        .toBuffer();
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, rel), png);
      files.push(rel);
    }
  }
  return files;
}

describe('upload sessions', () => {
  it('are bounded: past the limit of open sessions a new one gets 429, and a finished one frees its place', async () => {
    const staging = path.join(tmp, 'bounded-staging');
    const sessions = new UploadSessions(staging, new SourceRegistry());
    try {
      const ids = Array.from({ length: MAX_OPEN_SESSIONS }, () => sessions.create());
      expect(() => sessions.create()).toThrow(expect.objectContaining({ status: 429, message: expect.stringMatching(/Too many uploads/) }));
      sessions.remove(ids[0]!);
      expect(sessions.create()).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    } finally {
      sessions.close();
    }
  });
});

describe('upload and images', () => {
  const put = (session: string, rel: string, body: Buffer | string) =>
    fetch(`${base}/upload/${session}`, {
      method: 'PUT',
      headers: { cookie, 'x-relative-path': rel, 'content-type': 'application/octet-stream' },
      body,
    });

  it('reads a raw (not percent-encoded) UTF-8 X-Relative-Path as UTF-8, and refuses bytes that are not UTF-8', async () => {
    const { session } = (await (await fetch(`${base}/upload`, { method: 'POST', headers: { cookie } })).json()) as { session: string };
    const rawPut = (header: Buffer) =>
      rawRequest(
        Buffer.concat([
          Buffer.from(`PUT /upload/${session} HTTP/1.1\r\nHost: 127.0.0.1:${host.port}\r\nCookie: ${cookie}\r\nX-Relative-Path: `),
          header,
          Buffer.from('\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx'),
        ]),
      );
    const ok = await rawPut(Buffer.from('été/chat.png', 'utf8'));
    expect(ok).toMatch(/^HTTP\/1\.1 200/);
    expect(ok).toContain('"path":"été/chat.png"');
    expect(fs.existsSync(path.join(tmp, 'data', 'staging', session, 'été', 'chat.png'))).toBe(true);
    const bad = await rawPut(Buffer.from([0x61, 0xff, 0x2e, 0x6a, 0x70, 0x67]));
    expect(bad).toMatch(/^HTTP\/1\.1 400/);
    expect(bad).toMatch(/UTF-8/);
  });

  it('refuses unsafe relative paths with 400 and a JSON error, and writes nothing outside staging', async () => {
    const { session } = (await (await fetch(`${base}/upload`, { method: 'POST', headers: { cookie } })).json()) as { session: string };
    expect(session).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    const bad = [
      '../evil.jpg',
      'a/../../evil.jpg',
      '/etc/evil.jpg',
      'C:/evil.jpg',
      'a//b.jpg',
      './a.jpg',
      'a/\u0000.jpg',
      'a\\..\\evil.jpg',
      'a/b./c.jpg',
      'x'.repeat(300) + '.jpg',
      '',
    ];
    // Header values as sent, still percent-encoded: the server decodes exactly once.
    const badRaw = ['..%2Fevil.jpg', '%2e%2e/evil.jpg', 'a/%2e%2e/%2e%2e/evil.jpg', '%E0%A4%A', '%00', '%2Fetc%2Fpasswd'];
    for (const header of [...bad.map(encodeURIComponent), ...badRaw]) {
      const res = await put(session, header, 'x');
      expect(res.status, header).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBeTruthy();
    }
    expect(fs.existsSync(path.join(tmp, 'data', 'staging', 'evil.jpg'))).toBe(false);
    expect(fs.existsSync(path.join(tmp, 'data', 'evil.jpg'))).toBe(false);
    const unknown = await put('A'.repeat(24), 'a.jpg', 'x');
    expect(unknown.status).toBe(404);
    const noCookie = await fetch(`${base}/upload/${session}`, { method: 'PUT', headers: { 'x-relative-path': 'a.jpg' }, body: 'x' });
    expect(noCookie.status).toBe(403);
  });

  it('stages an uploaded folder, imports it with folder labels, cleans up, and serves thumbnails by id', async () => {
    const c = new Client(await connect());
    const project = await c.value<{ id: number }>('projects.create', { name: 'Uploaded' });
    const src = path.join(tmp, 'to-upload');
    const files = await makeImages(src);
    const { session } = (await (await fetch(`${base}/upload`, { method: 'POST', headers: { cookie } })).json()) as { session: string };
    for (const rel of files) {
      const res = await put(session, encodeURIComponent(rel), fs.readFileSync(path.join(src, rel)));
      expect(res.status, rel).toBe(200);
    }
    const stagingDir = path.join(tmp, 'data', 'staging', session);
    expect(fs.existsSync(path.join(stagingDir, 'shapes', 'red', 'red-0.png'))).toBe(true);
    const fin = await fetch(`${base}/upload/${session}/finish`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(fin.status).toBe(200);
    const { source, displayName } = (await fin.json()) as { source: string; displayName: string };
    expect(displayName).toBe('shapes');
    const finished = c.nextEvent('import.finished');
    await c.value('import.start', { projectId: project.id, source, folderLabels: true });
    const { report } = (await finished) as { report: { imported: number; labels: Record<string, number>; skipped: { reason: string }[] } };
    expect(report.imported).toBe(6);
    expect(report.labels).toEqual({ green: 3, red: 3 });
    await expect.poll(() => fs.existsSync(stagingDir)).toBe(false);
    // A token is good for one import.
    expect(await c.call('import.start', { projectId: project.id, source, folderLabels: true })).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });

    const page = await c.value<{ rows: { id: number }[] }>('images.page', { projectId: project.id, filter: {}, offset: 0, limit: 10 });
    const id = page.rows[0]!.id;
    const thumb = await fetch(`${base}/img/thumb/${id}`, { headers: { cookie } });
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/webp');
    expect((await sharp(Buffer.from(await thumb.arrayBuffer())).metadata()).format).toBe('webp');
    const full = await fetch(`${base}/img/full/${id}`, { headers: { cookie } });
    expect(full.status).toBe(200);
    expect(full.headers.get('content-type')).toMatch(/^image\//);
    for (const p of [`/img/thumb/999999`, '/img/thumb/0', '/img/thumb/abc', '/img/other/1', `/img/thumb/${id}/../../x`]) {
      expect((await rawGet(p)).status, p).toBe(404);
    }
    c.ws.close();
  });

  it('refuses a finish without files, a CSV that was not uploaded, and a second finish', async () => {
    const { session } = (await (await fetch(`${base}/upload`, { method: 'POST', headers: { cookie } })).json()) as { session: string };
    const empty = await fetch(`${base}/upload/${session}/finish`, { method: 'POST', headers: { cookie }, body: '{}' });
    expect(empty.status).toBe(400);
    expect((await put(session, 'a.jpg', 'x')).status).toBe(200);
    const badCsv = await fetch(`${base}/upload/${session}/finish`, {
      method: 'POST',
      headers: { cookie },
      body: JSON.stringify({ csv: '../labels.csv' }),
    });
    expect(badCsv.status).toBe(400);
    const notJson = await fetch(`${base}/upload/${session}/finish`, { method: 'POST', headers: { cookie }, body: 'nope' });
    expect(notJson.status).toBe(400);
    const ok = await fetch(`${base}/upload/${session}/finish`, { method: 'POST', headers: { cookie }, body: '{}' });
    expect(((await ok.json()) as { displayName: string }).displayName).toBe('1 file');
    expect((await fetch(`${base}/upload/${session}/finish`, { method: 'POST', headers: { cookie }, body: '{}' })).status).toBe(409);
  });
});
