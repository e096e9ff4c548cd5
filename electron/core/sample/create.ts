// "Open the sample project": a new project made from the pictures the app ships (drawn by
// scripts/make-sample.mjs, CC0), imported like any folder of label sub-folders so it is an
// ordinary project the user can change, train and delete. Each call makes a fresh copy: an earlier
// one may have been relabeled on purpose.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Db } from '../db/connection.js';
import type { ImportSource } from '../sources.js';
import type { Project } from '../../shared/schemas.js';
import { StudioError } from '../../shared/contract.js';
import { createProject, deleteProject, getProject, removeProjectFiles } from '../library/projects.js';
import type { DataPaths } from '../paths.js';

const SampleJson = z.object({ name: z.string().min(1).max(120), images: z.string().regex(/^[A-Za-z0-9_-]+$/) });

export interface SampleCtx {
  db: Db;
  paths: DataPaths;
  /** resources/sample, located by the environment. */
  sampleDir: string;
  importPaths: (
    projectId: number,
    source: ImportSource,
  ) => Promise<{ imported: number; skipped: unknown[]; labels: Record<string, number> }>;
}

function readSample(dir: string): z.infer<typeof SampleJson> {
  try {
    return SampleJson.parse(JSON.parse(fs.readFileSync(path.join(dir, 'sample.json'), 'utf8')));
  } catch {
    throw new StudioError('not_found', 'The sample pictures are missing from this installation; reinstall the app to get them back.');
  }
}

function freeName(db: Db, name: string): string {
  const taken = new Set(db.prepare('SELECT name FROM projects').pluck().all() as string[]);
  if (!taken.has(name)) return name;
  for (let i = 2; ; i++) if (!taken.has(`${name} (${i})`)) return `${name} (${i})`;
}

export async function createSampleProject(ctx: SampleCtx): Promise<{ project: Project; images: number; labels: number }> {
  const sample = readSample(ctx.sampleDir);
  const images = path.join(ctx.sampleDir, sample.images);
  const project = createProject(ctx.db, freeName(ctx.db, sample.name));
  try {
    const report = await ctx.importPaths(project.id, { paths: [images], displayName: 'sample pictures' });
    if (report.imported === 0) throw new StudioError('not_found', 'The sample pictures are missing from this installation.');
    return { project: getProject(ctx.db, project.id), images: report.imported, labels: Object.keys(report.labels).length };
  } catch (err) {
    // No half-made sample is left behind.
    const { exportPaths } = deleteProject(ctx.db, project.id);
    removeProjectFiles(ctx.paths, project.id, exportPaths);
    throw err;
  }
}
