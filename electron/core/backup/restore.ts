// Brings a backup into this data folder as a new project. Two stages, so a bad archive changes
// nothing: first the whole archive is read and every entry checked (tar structure, sha256 against
// the manifest, the manifest against its own sum, the rows against this app's schema) while files
// are staged under staging/; only then are the rows inserted with new ids in one transaction and
// the staged files moved into the new project's folder. Other projects are never touched.
import fs from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../db/connection.js';
import type { DataPaths } from '../paths.js';
import type { Project } from '../../shared/schemas.js';
import { StudioError } from '../../shared/contract.js';
import { deleteProject, getProject, removeProjectFiles } from '../library/projects.js';
import { readTar, TarFormatError } from './tar.js';
import { ownedTables, type OwnedTable } from './tables.js';
import {
  BACKUP_VERSION,
  classifyEntry,
  DatabaseSchema,
  Manifest,
  ManifestSchema,
  Marker,
  type EntryKind,
  type TableDump,
} from './format.js';

export interface RestoreSummary {
  project: Project;
  images: number;
  labels: number;
  runs: number;
  bytes: number;
}

/** JSON entries are read into memory: far above any real project's rows, far below trouble. */
const MAX_JSON_ENTRY = 512 * 1024 * 1024;
const SMALL_FILE = 256 * 1024;

const damaged = (why: string) => new StudioError('invalid', `The backup is damaged: ${why}. Nothing was restored.`);
const foreign = (why: string) => new StudioError('invalid', `This file is not a Transfer Studio backup (${why}). Nothing was restored.`);

interface Staged {
  name: string;
  kind: EntryKind;
  bytes: number;
  sha256: string;
  staged: string | null;
}

/** Reads and checks the whole archive, staging its files in `stage`. Throws a clear StudioError for anything wrong. */
async function readArchive(file: string, stage: string, signal?: AbortSignal) {
  const entries: Staged[] = [];
  const json = new Map<string, Buffer>();
  let sawMarker = false;
  let current: { hash: ReturnType<typeof createHash>; out: fs.promises.FileHandle | null; parts: Buffer[]; kind: EntryKind } | null = null;
  try {
    await readTar(
      file,
      async (entry) => {
        const kind = classifyEntry(entry.name);
        if (!sawMarker && kind?.kind !== 'marker') throw foreign('it does not start with a backup marker');
        if (!kind) throw damaged(`it holds an unexpected entry "${entry.name.slice(0, 80)}"`);
        if (entries.some((e) => e.name === entry.name)) throw damaged(`"${entry.name}" appears twice`);
        const inMemory = kind.kind === 'marker' || kind.kind === 'database' || kind.kind === 'manifest' || kind.kind === 'manifest-sum';
        if (inMemory && entry.size > MAX_JSON_ENTRY) throw damaged(`${entry.name} is implausibly large`);
        // Large files stream to their staged copy; small ones (most images) are written at once when complete.
        let out: fs.promises.FileHandle | null = null;
        if (!inMemory && entry.size > SMALL_FILE) out = await fs.promises.open(path.join(stage, String(entries.length)), 'wx');
        current = { hash: createHash('sha256'), out, parts: [], kind };
        return async (chunk: Buffer) => {
          current!.hash.update(chunk);
          if (current!.out) await current!.out.write(chunk);
          else current!.parts.push(Buffer.from(chunk));
        };
      },
      async (entry) => {
        const c = current!;
        current = null;
        const inMemory =
          c.kind.kind === 'marker' || c.kind.kind === 'database' || c.kind.kind === 'manifest' || c.kind.kind === 'manifest-sum';
        const staged = inMemory ? null : path.join(stage, String(entries.length));
        if (c.out) await c.out.close();
        else if (staged) fs.writeFileSync(staged, Buffer.concat(c.parts), { flag: 'wx' });
        entries.push({ name: entry.name, kind: c.kind, bytes: entry.size, sha256: c.hash.digest('hex'), staged });
        if (!staged) json.set(entry.name, Buffer.concat(c.parts));
        if (c.kind.kind === 'marker') {
          const marker = Marker.safeParse(parseJson(json.get(entry.name)!));
          if (!marker.success) throw foreign('its marker is not one this app writes');
          if (marker.data.version > BACKUP_VERSION)
            throw new StudioError(
              'invalid',
              'This backup was made by a newer Transfer Studio; update the app to restore it. Nothing was restored.',
            );
          sawMarker = true;
        }
      },
      signal,
    );
  } catch (err) {
    const c = current as { out: fs.promises.FileHandle | null } | null;
    if (c?.out) await c.out.close().catch(() => {});
    if (err instanceof TarFormatError) throw sawMarker ? damaged(err.message) : foreign(err.message);
    throw err;
  }
  if (!sawMarker) throw foreign('it is empty');
  return { entries, json };
}

function parseJson(buf: Buffer): unknown {
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The manifest, checked against its own sum and against every entry read. */
function verify(entries: Staged[], json: Map<string, Buffer>): Manifest {
  const manifestBytes = json.get('manifest.json');
  const sum = json.get('manifest.sha256');
  if (!manifestBytes || !sum) throw damaged('its manifest is missing (the file may be cut short)');
  if (sum.toString('utf8').trim() !== createHash('sha256').update(manifestBytes).digest('hex'))
    throw damaged('the manifest does not match its checksum');
  const parsed = ManifestSchema.safeParse(parseJson(manifestBytes));
  if (!parsed.success) throw damaged('the manifest cannot be read');
  const manifest = parsed.data;
  const listed = new Map(manifest.entries.map((e) => [e.name, e]));
  const content = entries.filter((e) => e.kind.kind !== 'manifest' && e.kind.kind !== 'manifest-sum');
  for (const e of content) {
    const m = listed.get(e.name);
    if (!m) throw damaged(`${e.name} is not in its manifest`);
    if (m.bytes !== e.bytes || m.sha256 !== e.sha256) throw damaged(`${e.name} does not match its checksum`);
  }
  if (listed.size !== content.length) throw damaged(`${listed.size - content.length} file(s) listed in its manifest are missing`);
  return manifest;
}

type Row = Record<string, unknown>;

interface Plan {
  tables: { table: OwnedTable; rows: Row[] }[];
  imageFiles: Map<string, string>;
  modelFiles: Map<number, { rel: string; staged: string }[]>;
}

/** Checks the rows against this app's schema and pairs them with the staged files. */
function plan(db: Db, entries: Staged[], json: Map<string, Buffer>): Plan {
  const parsed = DatabaseSchema.safeParse(parseJson(json.get('database.json') ?? Buffer.alloc(0)));
  if (!parsed.success) throw damaged('its rows cannot be read');
  const ours = db.pragma('user_version', { simple: true }) as number;
  if (parsed.data.schemaVersion > ours)
    throw new StudioError(
      'invalid',
      'This backup was made by a newer Transfer Studio; update the app to restore it. Nothing was restored.',
    );
  const owned = ownedTables(db);
  const dumps = new Map<string, TableDump>(parsed.data.tables.map((t) => [t.name, t]));
  for (const d of dumps.values()) {
    const t = owned.find((o) => o.name === d.name);
    if (!t) throw damaged(`it holds a table this app does not know (${d.name.slice(0, 40)})`);
    const unknown = d.columns.find((c) => !t.columns.includes(c));
    if (unknown) throw damaged(`table ${d.name} has a column this app does not know (${unknown.slice(0, 40)})`);
    if (d.rows.some((r) => r.length !== d.columns.length)) throw damaged(`a row of ${d.name} is malformed`);
  }
  const rowsOf = (name: string): Row[] => {
    const d = dumps.get(name);
    return d ? d.rows.map((r) => Object.fromEntries(d.columns.map((c, i) => [c, r[i]]))) : [];
  };
  if (rowsOf('projects').length !== 1) throw damaged('it does not hold exactly one project');

  const imageFiles = new Map<string, string>();
  const modelFiles = new Map<number, { rel: string; staged: string }[]>();
  for (const e of entries) {
    if (e.kind.kind === 'image') imageFiles.set(`${e.kind.sha256}.${e.kind.ext}`, e.staged!);
    if (e.kind.kind === 'model') {
      const list = modelFiles.get(e.kind.runId) ?? [];
      list.push({ rel: e.kind.rel, staged: e.staged! });
      modelFiles.set(e.kind.runId, list);
    }
  }
  for (const img of rowsOf('images')) {
    if (typeof img.sha256 !== 'string' || !/^[a-f0-9]{64}$/.test(img.sha256) || typeof img.format !== 'string')
      throw damaged('an image row is malformed');
    if (!imageFiles.has(`${img.sha256}.${img.format}`)) throw damaged(`the image ${String(img.original_name)} has no stored file`);
  }
  // History names images and labels inside its JSON: it goes after every table, when all their new ids are known.
  const order = [...owned.filter((t) => t.name !== 'history'), ...owned.filter((t) => t.name === 'history')];
  return { tables: order.filter((t) => dumps.has(t.name)).map((t) => ({ table: t, rows: rowsOf(t.name) })), imageFiles, modelFiles };
}

function uniqueName(db: Db, name: string): string {
  const taken = new Set(db.prepare('SELECT name FROM projects').pluck().all() as string[]);
  if (!taken.has(name)) return name;
  for (let i = 1; ; i++) {
    const candidate = `${name} (restored${i > 1 ? ` ${i}` : ''})`;
    if (!taken.has(candidate)) return candidate;
  }
}

/** Inserts every row under new ids; returns the new project id and the old→new run ids. */
function insertRows(db: Db, paths: DataPaths, p: Plan): { projectId: number; runIds: Map<number, number> } {
  return db.transaction(() => {
    const maps = new Map<string, Map<number, number>>();
    const statements = new Map<string, ReturnType<Db['prepare']>>();
    let projectId = 0;
    for (const { table, rows } of p.tables) {
      const map = new Map<number, number>();
      maps.set(table.name, map);
      for (const original of rows) {
        const row: Row = { ...original };
        let skip = false;
        for (const fk of table.foreignKeys) {
          const parent = maps.get(fk.table);
          if (row[fk.column] === null || row[fk.column] === undefined || !parent) continue;
          const mapped = parent.get(Number(row[fk.column]));
          if (mapped !== undefined) row[fk.column] = mapped;
          else if (fk.notNull) skip = true;
          else row[fk.column] = null;
        }
        if (skip) continue;
        adjust(table.name, row, maps);
        // A second restore of the same backup is told apart by its name.
        if (table.name === 'projects') row.name = uniqueName(db, String(row.name));
        const oldId = Number(row.id);
        if (table.hasId) delete row.id;
        const columns = Object.keys(row).filter((c) => table.columns.includes(c));
        const sql = `INSERT INTO "${table.name}" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
        let insert = statements.get(sql);
        if (!insert) statements.set(sql, (insert = db.prepare(sql)));
        const info = insert.run(columns.map((c) => row[c] as string | number | null));
        if (table.hasId) map.set(oldId, Number(info.lastInsertRowid));
        if (table.name === 'projects') projectId = Number(info.lastInsertRowid);
      }
    }
    if (projectId === 0) throw damaged('it does not hold a project');
    const runIds = maps.get('runs') ?? new Map<number, number>();
    const setFolder = db.prepare('UPDATE runs SET model_folder = ? WHERE id = ?');
    for (const [oldId, newId] of runIds)
      setFolder.run(p.modelFiles.has(oldId) ? path.join(paths.project(projectId), 'runs', String(newId), 'model') : null, newId);
    return { projectId, runIds };
  })();
}

/** Per-table rules the schema cannot express: counters the triggers rebuild, paths of another machine, ids inside JSON. */
function adjust(table: string, row: Row, maps: Map<string, Map<number, number>>): void {
  if (table === 'projects') {
    // The triggers count images in as they are inserted.
    for (const c of ['image_count', 'excluded_count', 'labeled_count']) delete row[c];
  } else if (table === 'labels') {
    delete row.image_count;
  } else if (table === 'runs') {
    // Set once the run's id is known; null when the backup has no model for it.
    row.model_folder = null;
    row.host_pid = null;
    if (row.status === 'queued' || row.status === 'running') {
      row.status = 'interrupted';
      row.error = 'The backup was made while this run was training.';
    }
  } else if (table === 'exports') {
    // Export files are not in a backup, and a path kept here could name another project's files
    // (deleting this project would then remove them): the record stays, the paths go.
    row.dir = null;
    row.zip_path = null;
    row.host_pid = null;
    if (row.status === 'running') row.status = 'interrupted';
  } else if (table === 'history' && typeof row.payload === 'string') {
    row.payload = remapHistory(row.kind, row.payload, maps);
  }
}

function remapHistory(kind: unknown, payload: string, maps: Map<string, Map<number, number>>): string {
  const images = maps.get('images')!;
  const labels = maps.get('labels') ?? new Map<number, number>();
  try {
    // A label delete and a capture (library/undo-kinds.ts) name images and annotations in their own fields.
    if (kind === 'label-delete') {
      const p = JSON.parse(payload) as { imageIds: number[]; annotationIds: number[] };
      const annotations = maps.get('annotations') ?? new Map<number, number>();
      return JSON.stringify({
        ...p,
        imageIds: p.imageIds.map((id) => images.get(id) ?? -1),
        annotationIds: p.annotationIds.map((id) => annotations.get(id) ?? -1),
      });
    }
    if (kind === 'capture') {
      const p = JSON.parse(payload) as { ids: number[] };
      return JSON.stringify({ ...p, ids: p.ids.map((id) => images.get(id) ?? -1) });
    }
    const p = JSON.parse(payload) as { ids: number[]; before: unknown[]; after: unknown };
    // An image or label the action named that is gone maps to -1 (no row): undo skips it, as it does now.
    const label = (v: unknown) => (kind === 'label' && typeof v === 'number' ? (labels.get(v) ?? null) : v);
    return JSON.stringify({ ...p, ids: p.ids.map((id) => images.get(id) ?? -1), before: p.before.map(label), after: label(p.after) });
  } catch {
    return payload;
  }
}

/** Moves the staged files into the new project's folder (same file system: renames). */
function placeFiles(paths: DataPaths, projectId: number, p: Plan, runIds: Map<number, number>): void {
  for (const [name, staged] of p.imageFiles) {
    const [sha, ext] = name.split('.') as [string, string];
    const target = paths.stored(projectId, sha, ext);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.renameSync(staged, target);
  }
  for (const [oldRun, files] of p.modelFiles) {
    const newRun = runIds.get(oldRun);
    if (newRun === undefined) continue;
    const dir = path.join(paths.project(projectId), 'runs', String(newRun), 'model');
    for (const f of files) {
      const target = path.join(dir, ...f.rel.split('/'));
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.renameSync(f.staged, target);
    }
  }
}

export async function restoreBackup(db: Db, paths: DataPaths, file: string, signal?: AbortSignal): Promise<RestoreSummary> {
  let size: number;
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) throw new StudioError('invalid', 'Choose a backup file, not a folder.');
    size = st.size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new StudioError('not_found', `There is no file ${file}.`);
    throw err;
  }
  const stage = path.join(paths.staging(), `restore-${randomBytes(6).toString('hex')}`);
  fs.mkdirSync(stage, { recursive: true });
  try {
    const { entries, json } = await readArchive(file, stage, signal);
    verify(entries, json);
    const p = plan(db, entries, json);
    const { projectId, runIds } = insertRows(db, paths, p);
    try {
      placeFiles(paths, projectId, p, runIds);
    } catch (err) {
      const { exportPaths } = deleteProject(db, projectId);
      removeProjectFiles(paths, projectId, exportPaths);
      throw err;
    }
    return {
      project: getProject(db, projectId),
      images: p.imageFiles.size,
      labels: p.tables.find((t) => t.table.name === 'labels')?.rows.length ?? 0,
      runs: runIds.size,
      bytes: size,
    };
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}
