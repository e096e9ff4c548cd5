// Writes one project into one tar (see format.ts for the layout). The rows are read in one read
// transaction, so they are a consistent snapshot; the files they name are streamed after. Stored
// images are content-addressed and never rewritten, so the snapshot's files are still the ones
// the rows mean (one removed meanwhile makes the backup fail rather than miss it).
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { Db } from '../db/connection.js';
import type { DataPaths } from '../paths.js';
import { StudioError } from '../../shared/contract.js';
import { getProject } from '../library/projects.js';
import { TarWriter } from './tar.js';
import { ownedRowsSql, ownedTables } from './tables.js';
import {
  BACKUP_FORMAT,
  BACKUP_VERSION,
  DATABASE_ENTRY,
  MANIFEST_ENTRY,
  MANIFEST_SUM_ENTRY,
  MARKER_ENTRY,
  type Manifest,
  type TableDump,
} from './format.js';

export interface BackupSummary {
  projectName: string;
  images: number;
  labels: number;
  runs: number;
  entries: number;
  bytes: number;
}

export interface BackupOptions {
  appVersion: string;
  signal?: AbortSignal;
  progress?: (done: number, total: number) => void;
}

/** Walks a model folder: its files as paths relative to it, forward slashes, sorted. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const d of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) walk(r);
      else if (d.isFile()) out.push(r);
    }
  };
  walk('');
  return out;
}

export function snapshotRows(db: Db, projectId: number): { schemaVersion: number; tables: TableDump[] } {
  return db
    .transaction(() => {
      getProject(db, projectId);
      const tables = ownedTables(db);
      const dumps = tables.map((t) => {
        const stmt = db.prepare(ownedRowsSql(tables, t)).raw(true);
        const rows = stmt.all(projectId) as unknown[][];
        for (const row of rows)
          if (row.some((v) => v instanceof Uint8Array || typeof v === 'bigint'))
            throw new Error(`Table ${t.name} holds binary data the backup format does not carry.`);
        return { name: t.name, columns: stmt.columns().map((c) => c.name), rows };
      });
      return { schemaVersion: db.pragma('user_version', { simple: true }) as number, tables: dumps };
    })
    .deferred();
}

/**
 * Writes the backup to `file`, which must not exist: it is created exclusively, and removed again
 * if the backup fails (it is then ours, half-written).
 */
export async function createBackup(db: Db, paths: DataPaths, projectId: number, file: string, o: BackupOptions): Promise<BackupSummary> {
  const { schemaVersion, tables } = snapshotRows(db, projectId);
  const table = (name: string) => tables.find((t) => t.name === name)!;
  const col = (t: TableDump, name: string) => t.columns.indexOf(name);
  const projectRow = table('projects').rows[0]!;
  const projectName = String(projectRow[col(table('projects'), 'name')]);
  const images = table('images');
  const runs = table('runs');
  const imageFiles = images.rows.map((r) => {
    const sha = String(r[col(images, 'sha256')]);
    const ext = String(r[col(images, 'format')]);
    return { name: `images/${sha}.${ext}`, file: paths.stored(projectId, sha, ext) };
  });
  const modelFiles = runs.rows.flatMap((r) => {
    const folder = r[col(runs, 'model_folder')];
    if (typeof folder !== 'string' || !fs.existsSync(folder)) return [];
    const id = Number(r[col(runs, 'id')]);
    return filesUnder(folder).map((rel) => ({ name: `runs/${id}/model/${rel}`, file: path.join(folder, rel) }));
  });

  let fd: number;
  try {
    fd = fs.openSync(file, 'wx');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new StudioError('conflict', `${file} already exists; a backup is never written over a file.`);
    if (code === 'ENOENT') throw new StudioError('not_found', `The folder of ${file} does not exist.`);
    if (code === 'EISDIR') throw new StudioError('conflict', `${file} is a folder; name a new file.`);
    throw err;
  }
  try {
    const tar = new TarWriter(fd);
    await tar.addBuffer(MARKER_ENTRY, Buffer.from(JSON.stringify({ format: BACKUP_FORMAT, version: BACKUP_VERSION })));
    await tar.addBuffer(DATABASE_ENTRY, Buffer.from(JSON.stringify({ schemaVersion, tables })));
    const files = [...imageFiles, ...modelFiles];
    o.progress?.(0, files.length);
    for (const [i, f] of files.entries()) {
      if (o.signal?.aborted) throw new StudioError('cancelled', 'The backup was cancelled.');
      try {
        await tar.addFile(f.name, f.file, o.signal);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT')
          throw new StudioError('not_found', `The stored copy ${path.basename(f.file)} is missing; the project changed during the backup.`);
        throw err;
      }
      o.progress?.(i + 1, files.length);
    }
    const manifest: Manifest = {
      format: BACKUP_FORMAT,
      version: BACKUP_VERSION,
      appVersion: o.appVersion,
      schemaVersion,
      createdAt: new Date().toISOString(),
      project: { name: projectName, images: images.rows.length, labels: table('labels').rows.length, runs: runs.rows.length },
      entries: tar.entries.map((e) => ({ ...e })),
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifest, null, 1));
    await tar.addBuffer(MANIFEST_ENTRY, manifestBytes);
    await tar.addBuffer(MANIFEST_SUM_ENTRY, Buffer.from(`${createHash('sha256').update(manifestBytes).digest('hex')}\n`));
    await tar.end();
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    return {
      projectName,
      images: manifest.project.images,
      labels: manifest.project.labels,
      runs: manifest.project.runs,
      entries: tar.entries.length,
      bytes: tar.bytesWritten,
    };
  } catch (err) {
    try {
      fs.closeSync(fd);
    } catch {
      /* already closed */
    }
    fs.rmSync(file, { force: true });
    throw err;
  }
}
