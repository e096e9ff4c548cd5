// The start-up sweep: removes debris the app itself left in its data folder (temporary files of
// a killed write, stored images and caches whose row is gone, run folders of deleted runs, export
// staging and half-made exports) and, outside it, only paths on the ledger (ledger.ts). It never
// touches a name the app does not make: every rule below matches one of our own naming schemes,
// and a job that may still be running in another process on the same data folder is left alone.
// Bounded in time: a huge data folder is swept in part, and the rest at a later start.
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../db/connection.js';
import type { DataPaths } from '../paths.js';
import { hostAlive } from '../host-process.js';
import { sweepLedger } from './ledger.js';

export interface SweepOptions {
  /** Stop after this long (ms); what is left waits for the next start. */
  budgetMs?: number;
  /** Orphans younger than this are left: another process may be about to write their row. */
  orphanAgeMs?: number;
  /** Leftovers of unfinished work (uploads, dataset exports) younger than this are left. */
  staleAgeMs?: number;
  now?: number;
}

export interface SweepReport {
  /** Paths removed: relative to the data folder when inside it, else absolute. */
  removed: { kind: DebrisKind; path: string }[];
  kept: { path: string; reason: string }[];
  /** True when the time budget ran out before every rule ran. */
  truncated: boolean;
  ms: number;
}

export type DebrisKind =
  | 'temporary file'
  | 'orphan file'
  | 'deleted project'
  | 'deleted run'
  | 'export staging'
  | 'export leftover'
  | 'upload staging'
  | 'dataset export';

const HOUR = 60 * 60 * 1000;

/** `writeAtomic`'s `.<pid>-<hex>-<n>.tmp`, and the feature cache's `<name>.<pid>.tmp`. */
function tmpOwner(name: string): number | null | undefined {
  if (!name.endsWith('.tmp')) return undefined;
  const m = /^\.(\d+)-[0-9a-f]+-\d+\.tmp$/.exec(name) ?? /\.(\d+)\.tmp$/.exec(name);
  return m ? Number(m[1]) : null;
}

function list(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

function mtime(file: string): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return Infinity; // gone meanwhile: nothing to do
  }
}

export function sweepDebris(db: Db, paths: DataPaths, options: SweepOptions = {}): SweepReport {
  const started = Date.now();
  const now = options.now ?? started;
  const deadline = started + (options.budgetMs ?? 3000);
  const orphanAge = options.orphanAgeMs ?? HOUR;
  const staleAge = options.staleAgeMs ?? 24 * HOUR;
  const report: SweepReport = { removed: [], kept: [], truncated: false, ms: 0 };
  const rel = (p: string) => (p.startsWith(paths.root + path.sep) ? path.relative(paths.root, p) : p);
  const remove = (kind: DebrisKind, p: string) => {
    try {
      fs.rmSync(p, { recursive: true, force: true, maxRetries: 2 });
      report.removed.push({ kind, path: rel(p) });
    } catch (err) {
      report.kept.push({ path: rel(p), reason: (err as NodeJS.ErrnoException).code ?? 'could not remove' });
    }
  };
  const outOfTime = () => {
    if (Date.now() > deadline) report.truncated = true;
    return report.truncated;
  };
  /** A temporary file is stale when the process that writes it is gone, or it is a day old. */
  const staleTmp = (dir: string, name: string) => {
    const pid = tmpOwner(name);
    // Not one of our names (undefined), or a .tmp we do not name this way (null): not ours to judge.
    if (pid === undefined || pid === null || pid === process.pid) return false;
    return !hostAlive(pid) || now - mtime(path.join(dir, name)) > staleAge;
  };

  // Outside the data folder: only what the ledger says we made, of exports no longer running.
  const exportRunning = db.prepare("SELECT 1 FROM exports WHERE id = ? AND status = 'running'").pluck();
  const ledger = sweepLedger(db, (_owner, id) => exportRunning.get(id) !== undefined, deadline);
  for (const p of ledger.removed) report.removed.push({ kind: 'export leftover', path: p });
  report.kept.push(...ledger.kept);

  // Projects: folders of deleted projects (ids are never reused), then per project its store and
  // caches, and its run folders.
  const projectIds = new Set(db.prepare('SELECT id FROM projects').pluck().all() as number[]);
  const runIds = new Set(db.prepare('SELECT id FROM runs').pluck().all() as number[]);
  const projectsRoot = path.join(paths.root, 'projects');
  for (const p of list(projectsRoot)) {
    if (outOfTime()) break;
    if (!p.isDirectory() || !/^\d+$/.test(p.name)) continue;
    const projectId = Number(p.name);
    const dir = path.join(projectsRoot, p.name);
    if (!projectIds.has(projectId)) {
      // Project ids are never reused, and a project's row exists before its folder does.
      remove('deleted project', dir);
      continue;
    }
    const hashes = new Set(db.prepare('SELECT sha256 FROM images WHERE project_id = ?').pluck().all(projectId) as string[]);
    for (const cache of ['store', 'thumbs', 'previews']) {
      for (const shard of list(path.join(dir, cache))) {
        if (outOfTime()) break;
        if (!shard.isDirectory() || !/^[0-9a-f]{2}$/.test(shard.name)) continue;
        const shardDir = path.join(dir, cache, shard.name);
        for (const f of list(shardDir)) {
          if (!f.isFile()) continue;
          const file = path.join(shardDir, f.name);
          if (staleTmp(shardDir, f.name)) remove('temporary file', file);
          else {
            // Only our own names: <sha256>.<ext>, in the shard of its first two digits.
            const m = /^([0-9a-f]{64})\.[a-z0-9]{2,5}$/.exec(f.name);
            if (m && m[1]!.startsWith(shard.name) && !hashes.has(m[1]!) && now - mtime(file) > orphanAge) remove('orphan file', file);
          }
        }
      }
    }
    for (const r of list(path.join(dir, 'runs'))) {
      if (r.isDirectory() && /^\d+$/.test(r.name) && !runIds.has(Number(r.name))) remove('deleted run', path.join(dir, 'runs', r.name));
    }
  }

  // The shared feature cache: temporary files of a killed engine.
  const cacheRoot = path.join(paths.root, 'cache', 'features');
  for (const shard of outOfTime() ? [] : list(cacheRoot)) {
    if (!shard.isDirectory()) continue;
    const shardDir = path.join(cacheRoot, shard.name);
    for (const f of list(shardDir)) if (f.isFile() && staleTmp(shardDir, f.name)) remove('temporary file', path.join(shardDir, f.name));
  }

  // Exports made in the data folder: staging of exports not running, and folders or zips of
  // export rows that are gone (their run or project was deleted by a process that died first).
  const exportsRoot = path.join(paths.root, 'exports');
  const exportExists = db.prepare('SELECT status FROM exports WHERE id = ?').pluck();
  for (const e of outOfTime() ? [] : list(exportsRoot)) {
    const full = path.join(exportsRoot, e.name);
    const staging = /^\.partial-(\d+)$/.exec(e.name);
    if (staging) {
      if (exportExists.get(Number(staging[1])) !== 'running') remove('export staging', full);
      continue;
    }
    const made = /^run-\d+-export-(\d+)(?:\.failed)?(?:(?: \(\d+\))?\.zip)?$/.exec(e.name);
    if (made && exportExists.get(Number(made[1])) === undefined) remove('export leftover', full);
  }

  // Unfinished work without a row: upload sessions and data-folder dataset exports (named by a
  // random key) that a host left a day ago; a finished dataset export has its .zip.
  for (const s of outOfTime() ? [] : list(paths.staging())) {
    const full = path.join(paths.staging(), s.name);
    if (s.isDirectory() && now - mtime(full) > staleAge) remove('upload staging', full);
  }
  const datasetRoot = path.join(paths.root, 'dataset-exports');
  for (const d of outOfTime() ? [] : list(datasetRoot)) {
    const full = path.join(datasetRoot, d.name);
    if (!d.isDirectory() || !/^[a-f0-9]{16}$/.test(d.name)) continue;
    const finished = list(full).some((f) => f.isFile() && f.name.endsWith('.zip'));
    if (!finished && now - mtime(full) > staleAge) remove('dataset export', full);
  }

  report.ms = Date.now() - started;
  return report;
}

/** One line per removal (the first 20) and a summary, for the host's log. */
export function sweepLog(report: SweepReport): string[] {
  if (report.removed.length === 0 && report.kept.length === 0 && !report.truncated) return [];
  const lines = report.removed.slice(0, 20).map((r) => `removed ${r.kind}: ${r.path}`);
  if (report.removed.length > 20) lines.push(`... and ${report.removed.length - 20} more`);
  for (const k of report.kept.slice(0, 5)) lines.push(`kept ${k.path}: ${k.reason}`);
  lines.push(
    `start-up sweep: ${report.removed.length} removed, ${report.kept.length} kept, ${report.ms} ms${report.truncated ? ' (time budget reached; the rest at the next start)' : ''}`,
  );
  return lines;
}
