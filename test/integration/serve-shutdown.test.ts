// `studio serve` stopped with SIGTERM (a service manager, the e2e fixture) while an engine process
// does not answer: the host must neither wait for it for ever nor exit and leave it running. The
// engine is frozen with SIGSTOP here, standing in for one deep in a long step: it cannot see its
// channel close. The real CLI process, on a data folder seeded like the suggestions e2e test's.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { openDatabase } from '../../electron/core/db/connection.js';
import { DataPaths } from '../../electron/core/paths.js';
import { makeSuggestProject } from '../fixtures/suggest-project.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
let tmp: string | undefined;
const spawned: number[] = [];

afterAll(() => {
  // Whatever the outcome, nothing this test started keeps running.
  for (const pid of spawned) if (alive(pid)) process.kill(pid, 'SIGKILL');
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The processes whose parent is `pid` (Linux: from /proc). */
function childrenOf(pid: number): number[] {
  const found: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // The parent's id is the second field after the command name, which is in parentheses and may hold spaces.
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) found.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function urlOf(serve: ChildProcess): Promise<URL> {
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]+/.exec(output);
      if (m) resolve(new URL(m[0]));
    };
    serve.stdout!.on('data', onData);
    serve.stderr!.on('data', onData);
    serve.once('exit', (code) => reject(new Error(`studio serve exited (${code}) before printing its URL:\n${output}`)));
  });
}

/** One call over the web host's WebSocket, as the app makes it. */
async function callOverWs(url: URL, method: string, args: unknown): Promise<void> {
  const ws = new WebSocket(`ws://${url.host}/ws`, {
    headers: { origin: url.origin, cookie: `studio_token=${url.searchParams.get('token')}` },
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const answer = new Promise<{ ok: boolean }>((resolve) => ws.on('message', (d) => resolve(JSON.parse(String(d)) as { ok: boolean })));
  ws.send(JSON.stringify({ type: 'call', id: 1, method, args }));
  expect(await answer).toMatchObject({ ok: true });
  ws.close();
}

it.skipIf(process.platform !== 'linux')(
  'on SIGTERM, stops its engine processes and exits, leaving none behind',
  async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'serve-shutdown-'));
    const paths = new DataPaths(path.join(tmp, 'data'));
    fs.mkdirSync(paths.root);
    const db = openDatabase(paths.database);
    const projectId = makeSuggestProject(db, paths);
    db.close();

    const serve = spawn(process.execPath, ['bin/studio.mjs', 'serve', '--data-dir', paths.root, '--port', '0'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    spawned.push(serve.pid!);
    const url = await urlOf(serve);
    // Opening the suggestions of a project with enough labels starts the suggestion engine.
    await callOverWs(url, 'suggest.status', { projectId });
    const engine = await until('the suggestion engine', () => childrenOf(serve.pid!)[0], 10_000);
    spawned.push(engine);
    process.kill(engine, 'SIGSTOP');

    const exited = new Promise<number | null>((resolve) => serve.once('exit', (code) => resolve(code)));
    serve.kill('SIGTERM');
    const code = await Promise.race([
      exited,
      new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 10_000)),
    ]);
    expect(code).toBe(0);
    expect(alive(engine)).toBe(false);
  },
  30_000,
);
