// Labeling, include/exclude and accepted suggestions, label deletes and webcam captures, recorded so they can
// be undone and redone. A labeling action stores, per image, the value before and the value
// after; undo writes "before" back, redo writes "after". A label delete and a capture keep what
// undo needs to put back (undo-kinds.ts). A new action drops whatever had been undone (the
// redo stack).
import type { Db } from '../db/connection.js';
import type { HistoryState, Selection } from '../../shared/schemas.js';
import { resolveSelection } from './images.js';
import {
  LABEL_DELETE,
  CAPTURE,
  captureAction,
  captureDescription,
  removeLabel,
  type StoredFileCheck,
  type UndoKind,
} from './undo-kinds.js';

const KEEP_ACTIONS = 200;

/** 'accept': suggestions accepted (labels set by the model, confirmed by a person's click). */
// 'split': a person accepted moving near-duplicates into one split (duplicates/handlers.ts).
// 'confirm': a person said a doubted label is right (eval/handlers.ts).
type Kind = 'label' | 'status' | 'accept' | 'split' | 'confirm';
const COLUMN: Record<Kind, string> = {
  label: 'label_id',
  status: 'status',
  accept: 'label_id',
  split: 'split',
  confirm: 'confirmed_label_id',
};
const kinds: Record<string, UndoKind> = { [LABEL_DELETE.kind]: LABEL_DELETE, [CAPTURE.kind]: CAPTURE };
interface Payload {
  ids: number[];
  before: (number | string | null)[];
  after: number | string | null;
}

export function historyState(db: Db, projectId: number): HistoryState {
  const undo = db.prepare('SELECT description FROM history WHERE project_id = ? AND undone = 0 ORDER BY id DESC LIMIT 1').get(projectId) as
    { description: string } | undefined;
  const redo = db.prepare('SELECT description FROM history WHERE project_id = ? AND undone = 1 ORDER BY id ASC LIMIT 1').get(projectId) as
    { description: string } | undefined;
  return { canUndo: !!undo, canRedo: !!redo, undoLabel: undo?.description ?? null, redoLabel: redo?.description ?? null };
}

function labelExists(db: Db, projectId: number, labelId: number): boolean {
  return !!db.prepare('SELECT 1 FROM labels WHERE id = ? AND project_id = ?').get(labelId, projectId);
}

/** Writes one value to many images, grouped so 10,000 images take a handful of statements. */
function write(db: Db, projectId: number, kind: Kind, ids: number[], values: (number | string | null)[]): void {
  const groups = new Map<number | string | null, number[]>();
  const exists = new Map<number, boolean>();
  const present = (labelId: number) => {
    let known = exists.get(labelId);
    if (known === undefined) exists.set(labelId, (known = labelExists(db, projectId, labelId)));
    return known;
  };
  ids.forEach((id, i) => {
    let v = values[i] ?? null;
    // A label deleted since the action was recorded: undo leaves those images unlabeled.
    if (kind !== 'status' && typeof v === 'number' && !present(v)) v = null;
    const g = groups.get(v);
    if (g) g.push(id);
    else groups.set(v, [id]);
  });
  const column = COLUMN[kind];
  const update = db.prepare(`UPDATE images SET ${column} = ? WHERE project_id = ? AND id IN (SELECT value FROM json_each(?))`);
  const annotate = db.prepare(
    `INSERT INTO annotations (image_id, label_id, source) SELECT value, ?, '${kind === 'accept' ? 'model' : 'person'}' FROM json_each(?)`,
  );
  for (const [value, group] of groups) {
    const json = JSON.stringify(group);
    update.run(value, projectId, json);
    if (kind === 'label' || kind === 'accept') annotate.run(value, json);
  }
}

function record(db: Db, projectId: number, kind: string, description: string, payload: unknown): void {
  db.prepare('DELETE FROM history WHERE project_id = ? AND undone = 1').run(projectId);
  db.prepare('INSERT INTO history (project_id, kind, description, payload) VALUES (?, ?, ?, ?)').run(
    projectId,
    kind,
    description,
    JSON.stringify(payload),
  );
  db.prepare(
    'DELETE FROM history WHERE project_id = ? AND id NOT IN (SELECT id FROM history WHERE project_id = ? ORDER BY id DESC LIMIT ?)',
  ).run(projectId, projectId, KEEP_ACTIONS);
}

function apply(db: Db, projectId: number, kind: Kind, selection: Selection, value: number | string | null, description: string): number {
  return db.transaction(() => {
    const column = kind === 'label' ? 'label_id' : 'status';
    const rows = resolveSelection(db, projectId, selection).filter((r) => r[column] !== value);
    if (rows.length === 0) return 0;
    const ids = rows.map((r) => r.id);
    write(
      db,
      projectId,
      kind,
      ids,
      ids.map(() => value),
    );
    record(db, projectId, kind, description, { ids, before: rows.map((r) => r[column] as number | string | null), after: value });
    return ids.length;
  })();
}

export function assignLabel(db: Db, projectId: number, selection: Selection, labelId: number | null, labelName: string | null): number {
  return apply(db, projectId, 'label', selection, labelId, labelName === null ? 'Remove label' : `Label as ${labelName}`);
}

/**
 * Accepts suggestions of one label as one undoable action. Only pictures still unlabeled when it
 * runs are labeled: a suggestion never replaces a label, whether a person, a folder or a CSV set it.
 */
export function acceptSuggestions(
  db: Db,
  projectId: number,
  labelId: number,
  picks: { id: number; confidence: number }[],
  description: string,
): number {
  return db.transaction(() => {
    if (!labelExists(db, projectId, labelId)) return 0;
    const unlabeled = new Set(
      db
        .prepare('SELECT id FROM images WHERE project_id = ? AND label_id IS NULL AND id IN (SELECT value FROM json_each(?))')
        .pluck()
        .all(projectId, JSON.stringify(picks.map((p) => p.id))) as number[],
    );
    const kept = picks.filter((p) => unlabeled.has(p.id));
    if (kept.length === 0) return 0;
    const ids = kept.map((p) => p.id);
    db.prepare('UPDATE images SET label_id = ? WHERE project_id = ? AND id IN (SELECT value FROM json_each(?))').run(
      labelId,
      projectId,
      JSON.stringify(ids),
    );
    const annotate = db.prepare("INSERT INTO annotations (image_id, label_id, source, confidence) VALUES (?, ?, 'model', ?)");
    for (const p of kept) annotate.run(p.id, labelId, p.confidence);
    record(db, projectId, 'accept', description, { ids, before: ids.map(() => null), after: labelId });
    return ids.length;
  })();
}

/** Moves images into one split, as one undoable action. Images not in the project are ignored. */
export function moveToSplit(db: Db, projectId: number, ids: number[], split: 'train' | 'validation' | 'test', description: string): number {
  return db.transaction(() => {
    const rows = (
      db
        .prepare('SELECT id, split FROM images WHERE project_id = ? AND id IN (SELECT value FROM json_each(?)) ORDER BY id')
        .all(projectId, JSON.stringify(ids)) as { id: number; split: string | null }[]
    ).filter((r) => r.split !== split);
    if (rows.length === 0) return 0;
    const moved = rows.map((r) => r.id);
    write(
      db,
      projectId,
      'split',
      moved,
      moved.map(() => split),
    );
    record(db, projectId, 'split', description, { ids: moved, before: rows.map((r) => r.split), after: split });
    return moved.length;
  })();
}

/** "This label is right": marks the image's current label as confirmed, as one undoable action. */
export function confirmLabel(db: Db, projectId: number, imageId: number, labelName: string): number {
  return db.transaction(() => {
    const row = db.prepare('SELECT label_id, confirmed_label_id FROM images WHERE project_id = ? AND id = ?').get(projectId, imageId) as
      { label_id: number | null; confirmed_label_id: number | null } | undefined;
    if (!row || row.label_id === null || row.confirmed_label_id === row.label_id) return 0;
    write(db, projectId, 'confirm', [imageId], [row.label_id]);
    record(db, projectId, 'confirm', `Confirm ${labelName}`, { ids: [imageId], before: [row.confirmed_label_id], after: row.label_id });
    return 1;
  })();
}

export function setStatus(db: Db, projectId: number, selection: Selection, status: 'active' | 'excluded'): number {
  return apply(db, projectId, 'status', selection, status, status === 'excluded' ? 'Exclude from training' : 'Include in training');
}

/** Deletes a label (its images become unlabeled, never deleted), undoably. */
export function deleteLabel(db: Db, projectId: number, labelId: number): void {
  db.transaction(() => {
    const payload = removeLabel(db, projectId, labelId);
    record(db, projectId, LABEL_DELETE.kind, `Delete label ${payload.label.name}`, payload);
  })();
}

/** A webcam picture just stored: pictures of one panel session (`batch`) undo together. */
export function recordCapture(db: Db, projectId: number, imageId: number, batch: string): void {
  db.transaction(() => {
    const action = captureAction(db, projectId, imageId, batch);
    if ('append' in action) {
      const { historyId, payload } = action.append;
      db.prepare('UPDATE history SET payload = ?, description = ? WHERE id = ?').run(
        JSON.stringify(payload),
        captureDescription(payload.ids.length),
        historyId,
      );
    } else record(db, projectId, CAPTURE.kind, captureDescription(1), action.create);
  })();
}

function step(db: Db, projectId: number, direction: 'undo' | 'redo', hasFile: StoredFileCheck): HistoryState {
  const skipped = db.transaction(() => {
    const row = db
      .prepare(
        direction === 'undo'
          ? 'SELECT id, kind, payload, created_at FROM history WHERE project_id = ? AND undone = 0 ORDER BY id DESC LIMIT 1'
          : 'SELECT id, kind, payload, created_at FROM history WHERE project_id = ? AND undone = 1 ORDER BY id ASC LIMIT 1',
      )
      .get(projectId) as { id: number; kind: Kind; payload: string; created_at: string } | undefined;
    if (!row) return 0;
    const other = kinds[row.kind];
    if (other) {
      const { skipped, payload } = other[direction](db, projectId, JSON.parse(row.payload) as never, hasFile);
      db.prepare('UPDATE history SET undone = ?, payload = ? WHERE id = ?').run(
        direction === 'undo' ? 1 : 0,
        JSON.stringify(payload),
        row.id,
      );
      return skipped;
    }
    const p = JSON.parse(row.payload) as Payload;
    // Only the images the action touched that are still here: one removed since is skipped (its
    // annotation would fail the foreign key), and an image created after the action is another
    // image even under the same id (ids are reused until they are AUTOINCREMENT).
    const alive = new Set(
      db
        .prepare('SELECT i.id FROM json_each(?) j JOIN images i ON i.id = j.value WHERE i.project_id = ? AND i.created_at <= ?')
        .pluck()
        .all(JSON.stringify(p.ids), projectId, row.created_at) as number[],
    );
    const keep = p.ids.flatMap((id, i) => (alive.has(id) ? [i] : []));
    write(
      db,
      projectId,
      row.kind,
      keep.map((i) => p.ids[i]!),
      keep.map((i) => (direction === 'undo' ? (p.before[i] ?? null) : p.after)),
    );
    db.prepare('UPDATE history SET undone = ? WHERE id = ?').run(direction === 'undo' ? 1 : 0, row.id);
    return p.ids.length - keep.length;
  })();
  return { ...historyState(db, projectId), ...(skipped > 0 ? { skipped } : {}) };
}

const anyFile: StoredFileCheck = () => true;
/** `hasFile` says whether an image's stored file is still there (a redone capture needs it). */
export const undo = (db: Db, projectId: number, hasFile = anyFile) => step(db, projectId, 'undo', hasFile);
export const redo = (db: Db, projectId: number, hasFile = anyFile) => step(db, projectId, 'redo', hasFile);
