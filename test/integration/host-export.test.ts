// GET /exports/<id>.zip on the real web host: the cookie is required like everywhere, the export
// is found by id in the exports table (never by a path from the client), and only a finished
// export's zip is served.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Studio } from '../../electron/core/studio.js';
import { startWebHost, type WebHost } from '../../electron/host/server.js';
import { createExport, finishExport } from '../../electron/core/export/store.js';
import { writeManifest } from '../../electron/core/export/manifest.js';
import { zipFolder } from '../../electron/core/export/zip.js';
import { testEnvironment } from '../fixtures/environment.js';

let tmp: string;
let studio: Studio;
let host: WebHost;
let cookie: string;
let doneId: number;
let runningId: number;
let zipBytes: Buffer;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-host-export-'));
  const renderer = path.join(tmp, 'renderer');
  fs.mkdirSync(renderer, { recursive: true });
  fs.writeFileSync(path.join(renderer, 'index.html'), '<!doctype html><title>Transfer Studio</title>');
  studio = new Studio({ environment: testEnvironment(path.join(tmp, 'data')), host: 'web' });
  const project = (await studio.invoke('projects.create', { name: 'Zips' })) as { id: number };
  const runId = Number(
    studio.db
      .prepare("INSERT INTO runs (project_id, base_id, strategy, config, status) VALUES (?, 'mobilenet_v2', 'head', '{}', 'done')")
      .run(project.id).lastInsertRowid,
  );

  // A finished export as the bundle writer leaves it: a folder with a manifest and a zip beside it.
  doneId = createExport(studio.db, runId, 'bundle', ['tfjs', 'onnx', 'web-demo', 'examples'], false);
  const dir = path.join(studio.paths.root, 'exports', `run-${runId}-export-${doneId}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'labels.json'), '["a","b"]\n');
  writeManifest(dir);
  zipFolder(dir, `${dir}.zip`);
  zipBytes = fs.readFileSync(`${dir}.zip`);
  finishExport(studio.db, doneId, { status: 'done', dir, zipPath: `${dir}.zip`, bytes: 10 });
  runningId = createExport(studio.db, runId, 'onnx', ['onnx'], false);

  host = await startWebHost({ studio, port: 0, rendererDir: renderer });
  cookie = `studio_token=${host.token}`;
});

afterAll(async () => {
  await host?.close();
  studio?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function get(
  pathname: string,
  headers: Record<string, string> = { cookie },
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: host.port, path: pathname, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('GET /exports/<id>.zip', () => {
  it('refuses a request without the cookie', async () => {
    const res = await get(`/exports/${doneId}.zip`, {});
    expect(res.status).toBe(403);
    expect(res.body.toString()).toMatch(/Open the newest link/);
    expect(res.body.toString()).not.toMatch(/studio serve|token/i);
    expect(res.body.subarray(0, 2).toString()).not.toBe('PK');
  });

  it('serves a finished export’s zip as a download', async () => {
    const res = await get(`/exports/${doneId}.zip`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/zip');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="transfer-studio-export-\d+\.zip"$/);
    expect(res.body.subarray(0, 2).toString()).toBe('PK');
    expect(res.body.equals(zipBytes)).toBe(true);
  });

  it('answers 404 for an unknown id, a running export and malformed paths', async () => {
    for (const p of [
      '/exports/999999.zip',
      `/exports/${runningId}.zip`,
      '/exports/0.zip',
      '/exports/abc.zip',
      `/exports/${doneId}`,
      `/exports/${doneId}.zip/x`,
      '/exports/..%2F..%2Fdata.zip',
      '/exports/',
    ]) {
      const res = await get(p);
      expect(res.status, p).toBe(404);
    }
  });

  it('answers 404 once the zip file is gone', async () => {
    const zip = studio.db.prepare('SELECT zip_path FROM exports WHERE id = ?').pluck().get(doneId) as string;
    fs.renameSync(zip, `${zip}.moved`);
    try {
      expect((await get(`/exports/${doneId}.zip`)).status).toBe(404);
    } finally {
      fs.renameSync(`${zip}.moved`, zip);
    }
  });

  it('lists the export’s files with their sizes in exports.list', async () => {
    const runId = studio.db.prepare('SELECT run_id FROM exports WHERE id = ?').pluck().get(doneId) as number;
    const list = (await studio.invoke('exports.list', { runId })) as { id: number; files: { path: string; bytes: number }[] }[];
    expect(list.map((e) => e.id)).toEqual([runningId, doneId]);
    expect(list[1]!.files).toEqual([{ path: 'labels.json', bytes: 10 }]);
    expect(list[0]!.files).toEqual([]);
  });
});
