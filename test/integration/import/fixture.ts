// What the import tests share: one real Studio with its SQLite file, in a temporary folder, and
// helpers to import paths and to check what an import left on disk.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { Studio } from '../../../electron/core/studio.js';
import type { ImportReport } from '../../../electron/shared/schemas.js';
import { testEnvironment } from '../../fixtures/environment.js';

export const CLIPART_COUNTS = { beverage: 51, bird: 47, bug: 49, fruit: 88, hardware: 54, mammal: 115, music: 72, vehicle: 52 };

/** The temporary folder (set before the first test). */
export let tmp: string;
/** The Studio (set before the first test). */
export let studio: Studio;

/** Call once at the top of a test file: opens its Studio before the first test and removes it all after the last. */
export function useImportStudio(): void {
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'import-it-'));
    studio = new Studio({ environment: testEnvironment(path.join(tmp, 'data')), host: 'cli' });
  });
  afterAll(() => {
    studio.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });
}

export async function newProject(name: string): Promise<number> {
  return (await studio.call('projects.create', { name })).id;
}

export function importPaths(projectId: number, paths: string[], folderLabels = true, csv?: string): Promise<ImportReport> {
  return studio.importPaths(projectId, { paths, displayName: 'x', ...(csv ? { csv } : {}) }, folderLabels);
}

/** Every image row of the project has its stored original and its thumbnail on disk. */
export function rowsWithoutFiles(projectId: number): number[] {
  const rows = studio.db.prepare('SELECT id, sha256, format FROM images WHERE project_id = ?').all(projectId) as {
    id: number;
    sha256: string;
    format: string;
  }[];
  return rows
    .filter(
      (r) =>
        !fs.existsSync(studio.paths.stored(projectId, r.sha256, r.format)) || !fs.existsSync(studio.paths.thumbnail(projectId, r.sha256)),
    )
    .map((r) => r.id);
}

export function tmpFilesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.tmp'));
}

export function imageByName(projectId: number, name: string) {
  const r = studio.db.prepare('SELECT id FROM images WHERE project_id = ? AND original_name = ?').get(projectId, name) as
    { id: number } | undefined;
  if (!r) throw new Error(`no image named ${name}`);
  return studio.call('images.get', { projectId, imageId: r.id });
}
