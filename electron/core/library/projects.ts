import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../db/connection.js';
import type { DataPaths } from '../paths.js';
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

/**
 * Deletes the project's rows (labels, images, runs and their exports cascade) and returns the
 * folders and zips its exports left, which live outside the project folder: the caller removes
 * those that are in the data folder.
 */
export function deleteProject(db: Db, id: number): { exportPaths: string[] } {
  return db.transaction(() => {
    const rows = db.prepare('SELECT e.dir, e.zip_path FROM exports e JOIN runs r ON r.id = e.run_id WHERE r.project_id = ?').all(id) as {
      dir: string | null;
      zip_path: string | null;
    }[];
    const info = db.prepare('DELETE FROM projects WHERE id = ?').run(id);
    if (info.changes === 0) throw new StudioError('not_found', `There is no project with id ${id}.`);
    return { exportPaths: rows.flatMap((r) => [r.dir, r.zip_path]).filter((p): p is string => p !== null) };
  })();
}

/**
 * Removes what a deleted project left: its folder, and its exports' folders and zips — but only
 * those inside the data folder's projects/ and exports/ (an export the user asked for elsewhere
 * is theirs). Best effort: the rows are already gone, so a failure must not turn the delete
 * into an error.
 */
export function removeProjectFiles(paths: DataPaths, projectId: number, exportPaths: string[]): void {
  const roots = [path.join(paths.root, 'projects'), path.join(paths.root, 'exports')];
  for (const target of [paths.project(projectId), ...exportPaths]) {
    const resolved = path.resolve(target);
    if (!roots.some((r) => resolved.startsWith(r + path.sep))) continue;
    try {
      fs.rmSync(resolved, { recursive: true, force: true, maxRetries: 3 });
    } catch (err) {
      console.error(`[studio] could not remove ${path.relative(paths.root, resolved)}:`, err);
    }
  }
}
