import type { Db } from '../db/connection.js';
import type { Label, LabelCounts } from '../../shared/schemas.js';
import { StudioError } from '../../shared/contract.js';
import { colourFor } from '../../shared/colours.js';

interface LabelRow {
  id: number;
  name: string;
  colour: string;
  position: number;
  count: number;
}

const toLabel = (r: LabelRow): Label => ({ id: r.id, name: r.name, colour: r.colour, position: r.position, count: r.count });

export function labelCounts(db: Db, projectId: number): LabelCounts {
  const labels = db
    .prepare(
      `SELECT l.id, l.name, l.colour, l.position, l.image_count AS count
       FROM labels l WHERE l.project_id = ? ORDER BY l.position, l.id`,
    )
    .all(projectId) as LabelRow[];
  const totals = db
    .prepare('SELECT image_count AS total, image_count - labeled_count AS unlabeled, excluded_count AS excluded FROM projects WHERE id = ?')
    .get(projectId) as { total: number; unlabeled: number; excluded: number } | undefined;
  return { ...(totals ?? { total: 0, unlabeled: 0, excluded: 0 }), labels: labels.map(toLabel) };
}

export function getLabel(db: Db, projectId: number, labelId: number): Label {
  const row = db
    .prepare(
      `SELECT l.id, l.name, l.colour, l.position, l.image_count AS count
       FROM labels l WHERE l.project_id = ? AND l.id = ?`,
    )
    .get(projectId, labelId) as LabelRow | undefined;
  if (!row) throw new StudioError('not_found', `This project has no label with id ${labelId}.`);
  return toLabel(row);
}

export function findLabelByName(db: Db, projectId: number, name: string): number | null {
  const row = db.prepare('SELECT id FROM labels WHERE project_id = ? AND name = ?').get(projectId, name) as { id: number } | undefined;
  return row?.id ?? null;
}

export function createLabel(db: Db, projectId: number, name: string, colour?: string): Label {
  if (findLabelByName(db, projectId, name) !== null) throw new StudioError('conflict', `A label named "${name}" already exists.`);
  const { n, maxPos } = db
    .prepare('SELECT COUNT(*) AS n, COALESCE(MAX(position), -1) AS maxPos FROM labels WHERE project_id = ?')
    .get(projectId) as { n: number; maxPos: number };
  const info = db
    .prepare('INSERT INTO labels (project_id, name, colour, position) VALUES (?, ?, ?, ?)')
    .run(projectId, name, colour ?? colourFor(n), maxPos + 1);
  return getLabel(db, projectId, Number(info.lastInsertRowid));
}

/** The label with this name, created when missing (imports name labels by folder or CSV). */
export function ensureLabel(db: Db, projectId: number, name: string): number {
  return findLabelByName(db, projectId, name) ?? createLabel(db, projectId, name).id;
}

export function updateLabel(db: Db, projectId: number, labelId: number, changes: { name?: string; colour?: string }): Label {
  getLabel(db, projectId, labelId);
  if (changes.name !== undefined) {
    const clash = findLabelByName(db, projectId, changes.name);
    if (clash !== null && clash !== labelId) throw new StudioError('conflict', `A label named "${changes.name}" already exists.`);
    db.prepare('UPDATE labels SET name = ? WHERE id = ?').run(changes.name, labelId);
  }
  if (changes.colour !== undefined) db.prepare('UPDATE labels SET colour = ? WHERE id = ?').run(changes.colour, labelId);
  return getLabel(db, projectId, labelId);
}

export function mergeLabels(db: Db, projectId: number, sourceIds: number[], targetId: number): void {
  getLabel(db, projectId, targetId);
  const sources = [...new Set(sourceIds)].filter((id) => id !== targetId);
  db.transaction(() => {
    for (const id of sources) {
      getLabel(db, projectId, id);
      const moved = db.prepare('SELECT id FROM images WHERE project_id = ? AND label_id = ?').all(projectId, id) as { id: number }[];
      db.prepare('UPDATE images SET label_id = ? WHERE project_id = ? AND label_id = ?').run(targetId, projectId, id);
      const annotate = db.prepare("INSERT INTO annotations (image_id, label_id, source) VALUES (?, ?, 'person')");
      for (const m of moved) annotate.run(m.id, targetId);
      db.prepare('DELETE FROM labels WHERE id = ?').run(id);
    }
  })();
}
