// The undoable actions that are not "write one value to many images": deleting a label and
// taking webcam pictures. Each kind knows how to undo and redo itself from its stored payload,
// and returns the payload to store next (undo keeps what redo will need, and the reverse).
import type { Db } from '../db/connection.js';
import { StudioError } from '../../shared/contract.js';

/** Whether an image's stored original is still on disk (a redone capture needs its file). */
export type StoredFileCheck = (projectId: number, sha256: string, format: string) => boolean;

export interface UndoKind {
  kind: string;
  undo(db: Db, projectId: number, payload: never, hasFile: StoredFileCheck): { skipped: number; payload: unknown };
  redo(db: Db, projectId: number, payload: never, hasFile: StoredFileCheck): { skipped: number; payload: unknown };
}

const json = (ids: number[]) => JSON.stringify(ids);

// ---- Deleting a label -------------------------------------------------------------------------

interface LabelDeleted {
  label: { id: number; name: string; colour: string; position: number };
  /** Images that had the label, and the annotations that named it (ON DELETE SET NULL cleared both). */
  imageIds: number[];
  annotationIds: number[];
}

/** Deletes the label (its images become unlabeled, never deleted) and says what undo puts back. */
export function removeLabel(db: Db, projectId: number, labelId: number): LabelDeleted {
  const label = db.prepare('SELECT id, name, colour, position FROM labels WHERE id = ? AND project_id = ?').get(labelId, projectId) as
    LabelDeleted['label'] | undefined;
  if (!label) throw new StudioError('not_found', `This project has no label with id ${labelId}.`);
  const imageIds = db.prepare('SELECT id FROM images WHERE project_id = ? AND label_id = ?').pluck().all(projectId, labelId) as number[];
  const annotationIds = db.prepare('SELECT id FROM annotations WHERE label_id = ?').pluck().all(labelId) as number[];
  db.prepare('DELETE FROM labels WHERE id = ? AND project_id = ?').run(labelId, projectId);
  return { label, imageIds, annotationIds };
}

/** A label created under the same name since the delete keeps its name; the restored one gets another. */
function freeName(db: Db, projectId: number, name: string): string {
  const taken = db.prepare('SELECT 1 FROM labels WHERE project_id = ? AND name = ?').pluck();
  if (!taken.get(projectId, name)) return name;
  for (let n = 2; ; n++) {
    const candidate = `${name} (${n})`;
    if (!taken.get(projectId, candidate)) return candidate;
  }
}

export const LABEL_DELETE: UndoKind = {
  kind: 'label-delete',
  undo(db, projectId, p: LabelDeleted) {
    // Label ids are AUTOINCREMENT, never handed out twice: the old id is free and every
    // remembered reference to it (earlier history) meets the same label. A project restored from
    // a backup got new ids, so there the old one may belong to another label: then a new id.
    const name = freeName(db, projectId, p.label.name);
    const idFree = !db.prepare('SELECT 1 FROM labels WHERE id = ?').get(p.label.id);
    const labelId = idFree
      ? (db
          .prepare('INSERT INTO labels (id, project_id, name, colour, position) VALUES (?, ?, ?, ?, ?)')
          .run(p.label.id, projectId, name, p.label.colour, p.label.position),
        p.label.id)
      : Number(
          db
            .prepare('INSERT INTO labels (project_id, name, colour, position) VALUES (?, ?, ?, ?)')
            .run(projectId, name, p.label.colour, p.label.position).lastInsertRowid,
        );
    // Only images still unlabeled: one removed since, or labeled otherwise, is left as it is.
    const restored = db
      .prepare('UPDATE images SET label_id = ? WHERE project_id = ? AND label_id IS NULL AND id IN (SELECT value FROM json_each(?))')
      .run(labelId, projectId, json(p.imageIds)).changes;
    db.prepare(
      `UPDATE annotations SET label_id = ? WHERE label_id IS NULL AND id IN (SELECT value FROM json_each(?))
       AND image_id IN (SELECT id FROM images WHERE project_id = ?)`,
    ).run(labelId, json(p.annotationIds), projectId);
    db.prepare(
      'UPDATE predictions SET label_id = ? WHERE label_id IS NULL AND label = ? AND run_id IN (SELECT id FROM runs WHERE project_id = ?)',
    ).run(labelId, p.label.name, projectId);
    return { skipped: p.imageIds.length - restored, payload: { ...p, label: { ...p.label, id: labelId } } };
  },
  redo(db, projectId, p: LabelDeleted) {
    const exists = db.prepare('SELECT 1 FROM labels WHERE id = ? AND project_id = ?').get(p.label.id, projectId);
    if (!exists) return { skipped: 0, payload: p };
    return { skipped: 0, payload: removeLabel(db, projectId, p.label.id) };
  },
};

// ---- Webcam captures --------------------------------------------------------------------------

interface CapturedRow {
  id: number;
  sha256: string;
  bytes: number;
  width: number;
  height: number;
  format: string;
  original_name: string;
  label_id: number | null;
  status: string;
  created_at: string;
}

interface Captured {
  /** The panel session the pictures were taken in: one undo takes back one burst. */
  batch: string;
  ids: number[];
  /** After an undo: the rows, so redo can put them back under the same ids. */
  rows?: CapturedRow[];
}

export function captureDescription(n: number): string {
  return n === 1 ? 'Capture 1 picture' : `Capture ${n} pictures`;
}

export const CAPTURE: UndoKind = {
  kind: 'capture',
  undo(db, projectId, p: Captured) {
    const rows = db
      .prepare(
        `SELECT id, sha256, bytes, width, height, format, original_name, label_id, status, created_at
         FROM images WHERE project_id = ? AND id IN (SELECT value FROM json_each(?)) ORDER BY id`,
      )
      .all(projectId, json(p.ids)) as CapturedRow[];
    // The stored files stay: redo needs them. If redo never comes, the start-up sweep removes
    // them as orphans once no row names them.
    db.prepare('DELETE FROM images WHERE project_id = ? AND id IN (SELECT value FROM json_each(?))').run(projectId, json(p.ids));
    return { skipped: p.ids.length - rows.length, payload: { batch: p.batch, ids: p.ids, rows } };
  },
  redo(db, projectId, p: Captured, hasFile) {
    const labelAlive = db.prepare('SELECT 1 FROM labels WHERE id = ? AND project_id = ?').pluck();
    const sameContent = db.prepare('SELECT 1 FROM images WHERE project_id = ? AND sha256 = ?').pluck();
    // The same id when it is free (always, but in a project restored from a backup, whose ids are new).
    const idTaken = db.prepare('SELECT 1 FROM images WHERE id = ?').pluck();
    const insert = db.prepare(
      `INSERT INTO images (id, project_id, sha256, bytes, width, height, format, original_name, label_id, status, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const annotate = db.prepare("INSERT INTO annotations (image_id, label_id, source) VALUES (?, ?, 'person')");
    const back: number[] = [];
    for (const r of p.rows ?? []) {
      // Same content imported again meanwhile, or the file swept away: that picture stays out.
      if (sameContent.get(projectId, r.sha256) || !hasFile(projectId, r.sha256, r.format)) continue;
      const labelId = r.label_id !== null && labelAlive.get(r.label_id, projectId) ? r.label_id : null;
      const id = idTaken.get(r.id) ? null : r.id;
      const info = insert.run(
        id,
        projectId,
        r.sha256,
        r.bytes,
        r.width,
        r.height,
        r.format,
        r.original_name,
        labelId,
        r.status,
        r.created_at,
      );
      const newId = Number(info.lastInsertRowid);
      if (labelId !== null) annotate.run(newId, labelId);
      back.push(newId);
    }
    return { skipped: (p.rows?.length ?? 0) - back.length, payload: { batch: p.batch, ids: back } };
  },
};

/** Adds a new picture to the latest capture action when it is the same panel session, else starts one. */
export function captureAction(
  db: Db,
  projectId: number,
  imageId: number,
  batch: string,
): { append: { historyId: number; payload: Captured } } | { create: Captured } {
  const top = db.prepare('SELECT id, kind, payload, undone FROM history WHERE project_id = ? ORDER BY id DESC LIMIT 1').get(projectId) as
    { id: number; kind: string; payload: string; undone: number } | undefined;
  if (top && top.kind === CAPTURE.kind && top.undone === 0) {
    const p = JSON.parse(top.payload) as Captured;
    if (p.batch === batch) return { append: { historyId: top.id, payload: { batch, ids: [...p.ids, imageId] } } };
  }
  return { create: { batch, ids: [imageId] } };
}
