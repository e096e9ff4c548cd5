// npm run bench:soak — many writers on one data folder for SOAK_S seconds (default 600):
//   - the real web host (`studio serve`, its own process), driven over its WebSocket by
//     SOAK_LABELERS labelers (default 3), each owning a slice of one project's images and
//     labeling / excluding / creating labels as fast as the host answers;
//   - `studio import` processes, one after another, each into a new project (a second writer
//     process on the same database, as the README allows);
//   - strategy-3 training runs on a tiny base, one after another, started through the host.
// Then the host is stopped and the database checked: PRAGMA integrity_check, every acknowledged
// write is there (each image's last acknowledged label and status, every acknowledged label and
// import, every run reported done), how often the host exited on its own, how often
// `database is locked` reached a client, and the host's resident memory at start and end.
// Prints a table and, last, one JSON line.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import Database from 'better-sqlite3';
import { Studio } from '../../electron/core/studio.js';
import { testEnvironment } from '../fixtures/environment.js';
import { installTinyBase } from '../fixtures/tiny-base.js';
import { makeTrainingProject } from '../fixtures/training-project.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const STUDIO = path.join(ROOT, 'bin', 'studio.mjs');
const SOAK_S = Number(process.env.SOAK_S ?? 600);
const LABELERS = Number(process.env.SOAK_LABELERS ?? 3);
const IMPORT_SOURCE = process.env.SOAK_IMPORT_DIR ?? '/work/shared/datasets/clipart-b';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-soak-'));
const dataDir = path.join(work, 'data');

function rssMb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

const locked = (s: string) => /database is locked|SQLITE_BUSY/i.test(s);
const counters = { lockedSurfaced: 0, otherErrors: [] as string[] };
function noteError(where: string, message: string): void {
  if (locked(message)) counters.lockedSurfaced++;
  else if (counters.otherErrors.length < 20) counters.otherErrors.push(`${where}: ${message.slice(0, 200)}`);
}

// ---- set-up: a labeling project, a training project and the tiny base, in the data folder ----
const setup = new Studio({ environment: testEnvironment(dataDir), host: 'cli' });
await installTinyBase(setup.environment.models, path.join(work, 'bases'));
const trainProject = makeTrainingProject(setup.db, setup.paths, { bird: 12, vehicle: 12, fruit: 12 }, 'soak-train');
const labelProject = makeTrainingProject(setup.db, setup.paths, { bird: 30, vehicle: 30, fruit: 30, bug: 30 }, 'soak-label');
const labelImageIds = setup.db.prepare('SELECT id FROM images WHERE project_id = ? ORDER BY id').pluck().all(labelProject) as number[];
setup.close();

// ---- the web host, its own process ----
function startHost(): Promise<{ child: ChildProcess; port: number; token: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [STUDIO, '--data-dir', dataDir, 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c;
      const m = /http:\/\/127\.0\.0\.1:(\d+)\/\?token=([A-Za-z0-9_-]+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]), token: m[2]! });
    });
    child.stderr!.on('data', (c: Buffer) => {
      // Its own notices (data folder, the start-up sweep) are not errors.
      for (const line of String(c).split('\n')) if (locked(line) || /error|failed|exception/i.test(line)) noteError('host stderr', line);
    });
    child.once('exit', (code) => reject(new Error(`studio serve exited (${code}) before it printed its URL: ${out}`)));
  });
}

const host = await startHost();
let stopping = false;
let hostExits = 0;
host.child.once('exit', (code, signal) => {
  if (!stopping) {
    hostExits++;
    noteError('host', `the web host exited on its own (${signal ?? code})`);
  }
});

class Client {
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private listeners = new Map<string, ((payload: any) => void)[]>();
  private constructor(private ws: WebSocket) {
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as {
        type: string;
        id?: number;
        ok?: boolean;
        value?: unknown;
        error?: { message: string };
        name?: string;
        payload?: unknown;
      };
      if (msg.type === 'event') for (const l of this.listeners.get(msg.name!) ?? []) l(msg.payload);
      else if (msg.type === 'result') {
        const p = this.pending.get(msg.id!);
        this.pending.delete(msg.id!);
        if (msg.ok) p?.resolve(msg.value);
        else p?.reject(new Error(msg.error?.message ?? 'failed'));
      }
    });
    ws.on('close', () => {
      for (const p of this.pending.values()) p.reject(new Error('socket closed'));
      this.pending.clear();
    });
  }
  static open(port: number, token: string): Promise<Client> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, {
        headers: { origin: `http://127.0.0.1:${port}`, cookie: `studio_token=${token}` },
      });
      ws.once('open', () => resolve(new Client(ws)));
      ws.once('error', reject);
    });
  }
  call<T = any>(method: string, args: unknown): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.ws.send(JSON.stringify({ type: 'call', id, method, args }));
    });
  }
  on(name: string, fn: (payload: any) => void): void {
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), fn]);
  }
  close(): void {
    this.ws.close();
  }
}

const rssStart = rssMb(host.child.pid!);
let rssPeak = rssStart ?? 0;
const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssMb(host.child.pid!) ?? 0)), 2000);
const deadline = Date.now() + SOAK_S * 1000;
// Once everything has run for a while (modules loaded, caches warm): the fair baseline for "flat".
let rssWarm: number | null = null;
const warmTimer = setTimeout(() => (rssWarm = rssMb(host.child.pid!)), (SOAK_S * 1000) / 4);
const running = () => Date.now() < deadline && hostExits === 0;

// ---- labelers: each owns a slice of the images, so "the last acknowledged write" is well defined ----
const expected = new Map<number, { labelId: number | null; status: 'active' | 'excluded' }>();
const ackedLabels = new Set<number>();
const stats = {
  labelCalls: 0,
  labelAcked: 0,
  labelFailed: 0,
  imports: 0,
  importsFailed: 0,
  imported: 0,
  runsStarted: 0,
  runsDone: 0,
  runsOther: 0,
};

async function labeler(index: number): Promise<void> {
  const client = await Client.open(host.port, host.token);
  const mine = labelImageIds.filter((_, i) => i % LABELERS === index);
  const counts = await client.call<{ labels: { id: number }[] }>('labels.counts', { projectId: labelProject });
  const labelIds = counts.labels.map((l) => l.id);
  let n = 0;
  while (running()) {
    n++;
    const imageId = mine[n % mine.length]!;
    const before = expected.get(imageId) ?? { labelId: null, status: 'active' as const };
    stats.labelCalls++;
    try {
      if (n % 50 === 0) {
        const label = await client.call<{ id: number }>('labels.create', { projectId: labelProject, name: `soak-${index}-${n}` });
        ackedLabels.add(label.id);
        labelIds.push(label.id);
      } else if (n % 3 === 0) {
        const status = before.status === 'active' ? 'excluded' : 'active';
        await client.call('images.setStatus', { projectId: labelProject, selection: { kind: 'ids', ids: [imageId] }, status });
        expected.set(imageId, { ...before, status });
      } else {
        const labelId = n % 7 === 0 ? null : labelIds[(n * 31 + index) % labelIds.length]!;
        await client.call('images.assignLabel', { projectId: labelProject, selection: { kind: 'ids', ids: [imageId] }, labelId });
        expected.set(imageId, { ...before, labelId });
      }
      stats.labelAcked++;
    } catch (err) {
      stats.labelFailed++;
      noteError(`labeler ${index}`, (err as Error).message);
    }
  }
  client.close();
}

// ---- imports: `studio import` processes, one after another, each into a new project ----
function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [STUDIO, '--data-dir', dataDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c));
    child.stderr!.on('data', (c: Buffer) => (stderr += c));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
const expectedImports = new Map<string, number>();
async function importer(): Promise<void> {
  const folders = fs.readdirSync(IMPORT_SOURCE).filter((f) => fs.statSync(path.join(IMPORT_SOURCE, f)).isDirectory());
  for (let n = 0; running(); n++) {
    const name = `soak-import-${n}`;
    stats.imports++;
    const created = await runCli(['project', 'create', name, '--json']);
    if (created.code !== 0) {
      stats.importsFailed++;
      noteError('import', created.stderr.trim());
      continue;
    }
    const r = await runCli(['import', name, path.join(IMPORT_SOURCE, folders[n % folders.length]!), '--json']);
    const last = r.stdout.trimEnd().split('\n').at(-1) ?? '';
    if (r.code === 0) {
      const report = JSON.parse(last) as { imported: number };
      expectedImports.set(name, report.imported);
      stats.imported += report.imported;
    } else {
      stats.importsFailed++;
      noteError('import', r.stderr.trim());
    }
  }
}

// ---- training: strategy 3 on the tiny base, one run after another, through the host ----
async function trainer(): Promise<void> {
  const client = await Client.open(host.port, host.token);
  const finished = new Map<number, (status: string) => void>();
  client.on('training.finished', ({ runId, status }: { runId: number; status: string }) => finished.get(runId)?.(status));
  while (running()) {
    try {
      const { runId } = await client.call<{ runId: number }>('training.start', {
        projectId: trainProject,
        baseId: 'tiny',
        strategy: 'head',
        overrides: { epochs: 3, seed: stats.runsStarted + 1 },
      });
      stats.runsStarted++;
      const status = await new Promise<string>((resolve) => finished.set(runId, resolve));
      if (status === 'done') stats.runsDone++;
      else {
        stats.runsOther++;
        const run = await client.call<{ error: string | null }>('runs.get', { runId });
        noteError('training', `run ${runId} ${status}: ${run.error ?? ''}`);
      }
    } catch (err) {
      noteError('training', (err as Error).message);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  client.close();
}

const started = Date.now();
await Promise.all([...Array.from({ length: LABELERS }, (_, i) => labeler(i)), importer(), trainer()]);
const seconds = (Date.now() - started) / 1000;
clearInterval(sampler);
clearTimeout(warmTimer);
const rssEnd = rssMb(host.child.pid!);

// ---- stop the host, then check the database against every acknowledged write ----
stopping = true;
const hostExit = await new Promise<number | null>((resolve) => {
  if (host.child.exitCode !== null) return resolve(host.child.exitCode);
  host.child.once('exit', (code) => resolve(code));
  host.child.kill('SIGTERM');
});
const db = new Database(path.join(dataDir, 'studio.db'), { readonly: true });
const integrity = db.pragma('integrity_check', { simple: true }) as string;
const rows = new Map(
  (
    db.prepare('SELECT id, label_id, status FROM images WHERE project_id = ?').all(labelProject) as {
      id: number;
      label_id: number | null;
      status: string;
    }[]
  ).map((r) => [r.id, r]),
);
let lostWrites = 0;
for (const [imageId, want] of expected) {
  const got = rows.get(imageId);
  if (!got || got.label_id !== want.labelId || got.status !== want.status) lostWrites++;
}
const labelRows = new Set(db.prepare('SELECT id FROM labels WHERE project_id = ?').pluck().all(labelProject) as number[]);
for (const id of ackedLabels) if (!labelRows.has(id)) lostWrites++;
const countOf = db.prepare('SELECT COUNT(*) FROM images i JOIN projects p ON p.id = i.project_id WHERE p.name = ?').pluck();
let importMismatches = 0;
for (const [name, n] of expectedImports) if ((countOf.get(name) as number) !== n) importMismatches++;
const runsDoneInDb = db.prepare("SELECT COUNT(*) FROM runs WHERE project_id = ? AND status = 'done'").pluck().get(trainProject) as number;
if (runsDoneInDb < stats.runsDone) lostWrites += stats.runsDone - runsDoneInDb;
db.close();

const result = {
  seconds: Math.round(seconds),
  labelers: LABELERS,
  labelCalls: stats.labelCalls,
  labelAcked: stats.labelAcked,
  labelFailed: stats.labelFailed,
  labelCallsPerSecond: Math.round(stats.labelAcked / seconds),
  imports: stats.imports,
  importsFailed: stats.importsFailed,
  imagesImported: stats.imported,
  importMismatches,
  runsStarted: stats.runsStarted,
  runsDone: stats.runsDone,
  runsNotDone: stats.runsOther,
  integrity,
  lostAcknowledgedWrites: lostWrites + importMismatches,
  hostExits,
  hostExitCode: hostExit,
  databaseLockedSurfaced: counters.lockedSurfaced,
  rssMB: { start: rssStart, warm: rssWarm, end: rssEnd, peak: rssPeak },
  otherErrors: counters.otherErrors,
};
const table: [string, string][] = [
  ['duration', `${result.seconds} s (SOAK_S=${SOAK_S})`],
  [
    'label writes acknowledged',
    `${result.labelAcked} of ${result.labelCalls} (${result.labelCallsPerSecond}/s, ${result.labelFailed} failed)`,
  ],
  [
    'imports (studio import)',
    `${result.imports} (${result.importsFailed} failed), ${result.imagesImported} images, ${importMismatches} count mismatches`,
  ],
  ['training runs (strategy 3)', `${result.runsStarted} started, ${result.runsDone} done, ${result.runsNotDone} not done`],
  ['integrity_check', integrity],
  ['lost acknowledged writes', String(result.lostAcknowledgedWrites)],
  ['host exits (unexpected)', `${hostExits} (exit code at stop ${hostExit})`],
  ['database is locked surfaced', String(result.databaseLockedSurfaced)],
  ['host RSS MB start / at 1/4 / end / peak', `${rssStart} / ${rssWarm} / ${rssEnd} / ${rssPeak}`],
];
const w = Math.max(...table.map(([k]) => k.length));
for (const [k, v] of table) console.log(`${k.padEnd(w)}  ${v}`);
for (const e of result.otherErrors) console.log(`  error: ${e}`);
console.log(JSON.stringify(result));
fs.rmSync(work, { recursive: true, force: true });
process.exit(result.lostAcknowledgedWrites === 0 && hostExits === 0 && integrity === 'ok' && result.databaseLockedSurfaced === 0 ? 0 : 1);
