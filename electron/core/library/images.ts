import type { Db } from '../db/connection.js';
import type { ImageDetail, ImageFilter, ImageRow, Selection } from '../../shared/schemas.js';
import { StudioError } from '../../shared/contract.js';

interface Row {
  id: number;
  label_id: number | null;
  status: 'active' | 'excluded';
  width: number;
  height: number;
}

const toRow = (r: Row): ImageRow => ({ id: r.id, labelId: r.label_id, status: r.status, width: r.width, height: r.height });

/** WHERE clause for a filter; uses only columns of the covering indexes. */
function where(filter: ImageFilter): { sql: string; params: unknown[] } {
  const parts = ['project_id = ?'];
  const params: unknown[] = [];
  if (filter.label === null) parts.push('label_id IS NULL');
  else if (filter.label !== undefined) {
    parts.push('label_id = ?');
    params.push(filter.label);
  }
  if (filter.status && filter.status !== 'all') {
    parts.push('status = ?');
    params.push(filter.status);
  }
  return { sql: parts.join(' AND '), params };
}

export function countImages(db: Db, projectId: number, filter: ImageFilter): number {
  // The common filters read the trigger-kept counters instead of counting 100,000 rows.
  if (!filter.status || filter.status === 'all') {
    if (filter.label === undefined)
      return (db.prepare('SELECT image_count AS n FROM projects WHERE id = ?').get(projectId) as { n: number } | undefined)?.n ?? 0;
    if (filter.label === null)
      return (
        (db.prepare('SELECT image_count - labeled_count AS n FROM projects WHERE id = ?').get(projectId) as { n: number } | undefined)?.n ??
        0
      );
    return (
      (
        db.prepare('SELECT image_count AS n FROM labels WHERE id = ? AND project_id = ?').get(filter.label, projectId) as
          { n: number } | undefined
      )?.n ?? 0
    );
  }
  const w = where(filter);
  return (db.prepare(`SELECT COUNT(*) AS n FROM images WHERE ${w.sql}`).get(projectId, ...w.params) as { n: number }).n;
}

export function pageImages(
  db: Db,
  projectId: number,
  filter: ImageFilter,
  offset: number,
  limit: number,
): { total: number; offset: number; rows: ImageRow[] } {
  const w = where(filter);
  const rows = db
    .prepare(`SELECT id, label_id, status, width, height FROM images WHERE ${w.sql} ORDER BY id LIMIT ? OFFSET ?`)
    .all(projectId, ...w.params, limit, offset) as Row[];
  return { total: countImages(db, projectId, filter), offset, rows: rows.map(toRow) };
}

export interface StoredImage {
  id: number;
  projectId: number;
  sha256: string;
  format: string;
}

export function storedImage(db: Db, imageId: number): StoredImage | null {
  const r = db.prepare('SELECT id, project_id, sha256, format FROM images WHERE id = ?').get(imageId) as
    { id: number; project_id: number; sha256: string; format: string } | undefined;
  return r ? { id: r.id, projectId: r.project_id, sha256: r.sha256, format: r.format } : null;
}

export function getImage(db: Db, projectId: number, imageId: number): ImageDetail {
  const r = db
    .prepare(
      `SELECT i.*, a.source AS label_source, a.confidence AS label_confidence
       FROM images i
       LEFT JOIN annotations a ON a.id = (SELECT MAX(id) FROM annotations WHERE image_id = i.id)
       WHERE i.id = ? AND i.project_id = ?`,
    )
    .get(imageId, projectId) as
    | (Row & {
        original_name: string;
        format: string;
        bytes: number;
        sha256: string;
        created_at: string;
        label_source: ImageDetail['labelSource'];
        label_confidence: number | null;
      })
    | undefined;
  if (!r) throw new StudioError('not_found', `This project has no image with id ${imageId}.`);
  return {
    ...toRow(r),
    originalName: r.original_name,
    format: r.format,
    bytes: r.bytes,
    sha256: r.sha256,
    createdAt: r.created_at,
    labelSource: r.label_id === null ? null : r.label_source,
    labelConfidence: r.label_id === null ? null : r.label_confidence,
  };
}

/** Ids and current labels of the selected images that belong to the project. */
export function resolveSelection(
  db: Db,
  projectId: number,
  selection: Selection,
): { id: number; label_id: number | null; status: string }[] {
  if (selection.kind === 'filter') {
    const w = where(selection.filter);
    const rows = db.prepare(`SELECT id, label_id, status FROM images WHERE ${w.sql} ORDER BY id`).all(projectId, ...w.params) as {
      id: number;
      label_id: number | null;
      status: string;
    }[];
    if (selection.exceptIds.length === 0) return rows;
    const except = new Set(selection.exceptIds);
    return rows.filter((r) => !except.has(r.id));
  }
  // json_each keeps this one statement however many ids there are (no 999-parameter limit).
  return db
    .prepare(`SELECT id, label_id, status FROM images WHERE project_id = ? AND id IN (SELECT value FROM json_each(?)) ORDER BY id`)
    .all(projectId, JSON.stringify(selection.ids)) as { id: number; label_id: number | null; status: string }[];
}

export interface NewImage {
  projectId: number;
  sha256: string;
  bytes: number;
  width: number;
  height: number;
  format: string;
  originalName: string;
  labelId: number | null;
  /** Who named the label: a person (the default), or the folder or CSV file it was imported from. */
  labelSource?: 'person' | 'folder' | 'csv';
  /** Perceptual hash (duplicates/phash.ts); when absent, the near-duplicate finder computes it on first use. */
  phash?: string | null;
}

/** Inserts an image, or returns the existing one with the same content (duplicates collapse by hash). */
export function insertImage(db: Db, img: NewImage): { id: number; duplicate: boolean } {
  const existing = db.prepare('SELECT id FROM images WHERE project_id = ? AND sha256 = ?').get(img.projectId, img.sha256) as
    { id: number } | undefined;
  if (existing) return { id: existing.id, duplicate: true };
  const info = db
    .prepare(
      'INSERT INTO images (project_id, sha256, bytes, width, height, format, original_name, label_id, phash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    )
    .run(img.projectId, img.sha256, img.bytes, img.width, img.height, img.format, img.originalName, img.labelId, img.phash ?? null);
  const id = Number(info.lastInsertRowid);
  if (img.labelId !== null)
    db.prepare('INSERT INTO annotations (image_id, label_id, source) VALUES (?, ?, ?)').run(id, img.labelId, img.labelSource ?? 'person');
  return { id, duplicate: false };
}

/** Deletes rows; returns the hashes no longer referenced so the caller can delete their files. */
export function removeImages(db: Db, projectId: number, ids: number[]): string[] {
  return db.transaction(() => {
    const rows = db
      .prepare('SELECT sha256 FROM images WHERE project_id = ? AND id IN (SELECT value FROM json_each(?))')
      .all(projectId, JSON.stringify(ids)) as { sha256: string }[];
    db.prepare('DELETE FROM images WHERE project_id = ? AND id IN (SELECT value FROM json_each(?))').run(projectId, JSON.stringify(ids));
    return rows.map((r) => r.sha256);
  })();
}
