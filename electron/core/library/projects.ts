import type { Db } from '../db/connection.js';
import type { Project } from '../../shared/schemas.js';
import { StudioError } from '../../shared/contract.js';

interface ProjectRow {
  id: number;
  name: string;
  created_at: string;
  image_count: number;
  cover_image_id: number | null;
}

const SELECT = `
  SELECT p.id, p.name, p.created_at,
         p.image_count,
         (SELECT MIN(i.id) FROM images i WHERE i.project_id = p.id) AS cover_image_id
  FROM projects p`;

function toProject(r: ProjectRow): Project {
  return { id: r.id, name: r.name, createdAt: r.created_at, imageCount: r.image_count, coverImageId: r.cover_image_id };
}

export function listProjects(db: Db): Project[] {
  return (db.prepare(`${SELECT} ORDER BY p.created_at DESC, p.id DESC`).all() as ProjectRow[]).map(toProject);
}

export function getProject(db: Db, id: number): Project {
  const row = db.prepare(`${SELECT} WHERE p.id = ?`).get(id) as ProjectRow | undefined;
  if (!row) throw new StudioError('not_found', `There is no project with id ${id}.`);
  return toProject(row);
}

export function createProject(db: Db, name: string): Project {
  const info = db.prepare('INSERT INTO projects (name) VALUES (?)').run(name);
  return getProject(db, Number(info.lastInsertRowid));
}

export function renameProject(db: Db, id: number, name: string): Project {
  const info = db.prepare('UPDATE projects SET name = ? WHERE id = ?').run(name, id);
  if (info.changes === 0) throw new StudioError('not_found', `There is no project with id ${id}.`);
  return getProject(db, id);
}

export function deleteProject(db: Db, id: number): void {
  const info = db.prepare('DELETE FROM projects WHERE id = ?').run(id);
  if (info.changes === 0) throw new StudioError('not_found', `There is no project with id ${id}.`);
}
