// An export left 'running' is stale only when the process that ran it is gone: opening the same
// data folder from the CLI must not mark the web host's live export interrupted.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Studio } from '../../electron/core/studio.js';
import { testEnvironment } from '../fixtures/environment.js';

let dir: string;
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('exports left running', () => {
  it('are marked interrupted at start-up only when their host process is gone', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-export-int-'));
    let studio = new Studio({ environment: testEnvironment(dir), host: 'cli' });
    const projectId = Number(studio.db.prepare("INSERT INTO projects (name) VALUES ('p')").run().lastInsertRowid);
    const runId = Number(
      studio.db
        .prepare("INSERT INTO runs (project_id, base_id, strategy, config, status) VALUES (?, 'mobilenet_v2', 'head', '{}', 'done')")
        .run(projectId).lastInsertRowid,
    );
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    const dead = spawnSync(process.execPath, ['-e', 'process.pid']).pid!;
    const add = (pid: number) =>
      Number(
        studio.db
          .prepare("INSERT INTO exports (run_id, format, parts, status, host_pid) VALUES (?, 'bundle', '[]', 'running', ?)")
          .run(runId, pid).lastInsertRowid,
      );
    const liveExport = add(live.pid!);
    const deadExport = add(dead);
    studio.close();
    try {
      studio = new Studio({ environment: testEnvironment(dir), host: 'cli' });
      const status = (id: number) => (studio.db.prepare('SELECT status FROM exports WHERE id = ?').get(id) as { status: string }).status;
      expect(status(liveExport)).toBe('running');
      expect(status(deadExport)).toBe('interrupted');
      studio.close();
    } finally {
      live.kill();
    }
  });
});
