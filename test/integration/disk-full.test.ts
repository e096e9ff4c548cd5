// A full disk: every write path removes its partial files, keeps what was saved before, and says
// "The disk is full: free N MB…". The fs-level faults are injected into our own write helpers; the
// import runs for real on a small tmpfs when this machine lets the test mount one (root), and is
// skipped with the reason otherwise.
import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import sharp from 'sharp';
import { Studio } from '../../electron/core/studio.js';
import { testEnvironment } from '../fixtures/environment.js';
import { writeAtomic } from '../../electron/core/import/store.js';
import { FeatureCache } from '../../electron/core/engine/feature-cache.js';
import { ensureReserve, RESERVE_NAME } from '../../electron/core/storage/reserve.js';
import { StudioError } from '../../electron/shared/contract.js';
import { DISK_FULL_REASON } from '../../electron/shared/contract-storage.js';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-diskfull-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

function filesUnder(dir: string): string[] {
  return fs.existsSync(dir)
    ? (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile())
    : [];
}

describe('write helpers on a full disk', () => {
  it('writeAtomic removes its partial temporary file and leaves no file under the final name', async () => {
    const dir = path.join(tmp, 'atomic');
    const real = fs.promises.writeFile;
    const spy = vi.spyOn(fs.promises, 'writeFile').mockImplementation(async (file, data) => {
      await real(file as string, (data as Uint8Array).subarray(0, 10)); // half-written, then the disk fills
      throw enospc();
    });
    try {
      await expect(writeAtomic(path.join(dir, 'a.png'), new Uint8Array(1000))).rejects.toMatchObject({ code: 'ENOSPC' });
    } finally {
      spy.mockRestore();
    }
    expect(filesUnder(dir)).toEqual([]);
  });

  it('the feature cache removes its partial file', () => {
    const cache = new FeatureCache(path.join(tmp, 'cache'));
    const real = fs.writeFileSync;
    const spy = vi.spyOn(fs, 'writeFileSync').mockImplementation((file, data) => {
      real(file, (data as Uint8Array).subarray(0, 4));
      throw enospc();
    });
    try {
      expect(() => cache.put(FeatureCache.key('x'), new Float32Array(64), true)).toThrow(/ENOSPC/);
    } finally {
      spy.mockRestore();
    }
    expect(filesUnder(cache.root)).toEqual([]);
  });
});

describe('contract calls on a full disk', () => {
  it('a refused write says the disk is full; a delete gets the reserve and commits', async () => {
    const data = path.join(tmp, 'calls');
    const studio = new Studio({ environment: testEnvironment(data), host: 'cli' });
    try {
      expect(ensureReserve(data, 1024 * 1024, 0)).toBe(true);
      const p = await studio.call('projects.create', { name: 'P' });
      const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      const handlers = studio.handlers as unknown as Record<string, (a: unknown) => unknown>;
      const create = handlers['labels.create']!;
      handlers['labels.create'] = () => {
        throw full;
      };
      const err = (await studio.call('labels.create', { projectId: p.id, name: 'cat' }).catch((e: unknown) => e)) as StudioError;
      expect(err).toBeInstanceOf(StudioError);
      expect(err.code).toBe('disk_full');
      expect(err.message).toMatch(/^The disk is full: free \d+ MB .*Nothing saved before was lost\.$/);
      expect(fs.existsSync(path.join(data, RESERVE_NAME))).toBe(false); // given back at the first full-disk error
      handlers['labels.create'] = create;

      // The first try of a delete fails as SQLite would on a full disk; with the reserve given back it commits.
      expect(ensureReserve(data, 1024 * 1024, 0)).toBe(true);
      const remove = handlers['projects.delete']!;
      let tries = 0;
      handlers['projects.delete'] = (a) => (++tries === 1 ? Promise.reject(full) : remove(a));
      await expect(studio.call('projects.delete', { projectId: p.id })).resolves.toEqual({ ok: true });
      expect(tries).toBe(2);
      expect(await studio.call('projects.list', {})).toEqual([]);
    } finally {
      studio.close();
    }
  });
});

/** Mounts a tmpfs of `mb` megabytes at `dir`, or says why it cannot. */
function mountTmpfs(dir: string, mb: number): string | null {
  fs.mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${mb}m`, 'tmpfs', dir], { encoding: 'utf8' });
  return r.status === 0 ? null : (r.stderr || r.error?.message || `mount exited ${r.status}`).trim();
}

const mountPoint = path.join(os.tmpdir(), `studio-tmpfs-${process.pid}`);
const cannotMount = process.platform === 'linux' ? mountTmpfs(mountPoint, 24) : 'not Linux';

describe.skipIf(cannotMount !== null)(`a real full disk (24 MB tmpfs)${cannotMount ? ` — skipped: ${cannotMount}` : ''}`, () => {
  afterAll(() => {
    spawnSync('umount', [mountPoint]);
    fs.rmSync(mountPoint, { recursive: true, force: true });
  });

  it('an import stops at the full disk, reports every file that did not go in, and keeps the rest intact', async () => {
    // 40 images of noise (~0.8 MB each, incompressible) into a 24 MB disk.
    const src = path.join(tmp, 'noise');
    fs.mkdirSync(path.join(src, 'noise'), { recursive: true });
    for (let i = 0; i < 40; i++) {
      const raw = Buffer.alloc(512 * 512 * 3);
      for (let j = 0; j < raw.length; j++) raw[j] = (Math.imul(j + 1, 2654435761 + i * 97) >>> 13) & 255;
      await sharp(raw, { raw: { width: 512, height: 512, channels: 3 } })
        .png({ compressionLevel: 0 })
        .toFile(path.join(src, 'noise', `${String(i).padStart(2, '0')}.png`));
    }
    const data = path.join(mountPoint, 'data');
    const studio = new Studio({ environment: testEnvironment(data), host: 'cli' });
    try {
      expect(ensureReserve(data, 2 * 1024 * 1024)).toBe(true);
      const p = await studio.call('projects.create', { name: 'Full' });
      const report = await studio.importPaths(p.id, { paths: [src], displayName: 'noise' });
      const notIn = report.skipped.filter((s) => s.reason === DISK_FULL_REASON);
      expect(report.imported).toBeGreaterThan(0);
      expect(notIn.length).toBeGreaterThan(0);
      expect(report.imported + notIn.length).toBe(40); // every file is either in or listed
      // What is on record is whole on disk; nothing half-written is left behind.
      const rows = studio.db.prepare('SELECT sha256, format, bytes FROM images WHERE project_id = ?').all(p.id) as {
        sha256: string;
        format: string;
        bytes: number;
      }[];
      expect(rows.length).toBe(report.imported);
      for (const r of rows) expect(fs.statSync(studio.paths.stored(p.id, r.sha256, r.format)).size).toBe(r.bytes);
      expect(filesUnder(data).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      expect(studio.db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(fs.existsSync(path.join(data, RESERVE_NAME))).toBe(false);
      // The user frees space from inside the app: deleting the project commits on the full disk.
      const before = fs.statfsSync(data).bavail;
      await studio.call('projects.delete', { projectId: p.id });
      expect(fs.statfsSync(data).bavail).toBeGreaterThan(before);
      console.log(`full disk: ${report.imported} imported, ${notIn.length} listed as not imported`);
    } finally {
      studio.close();
    }
  });
});
