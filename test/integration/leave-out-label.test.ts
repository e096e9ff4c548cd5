// Leaving a label out of one run: a label far smaller than the others can be left out of this
// training with one click; the run trains on the rest, and nothing in the project changes.
// Real engine process, tiny base, real SQLite.
import { it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, type Db } from '../../electron/core/db/connection.js';
import { DataPaths } from '../../electron/core/paths.js';
import { TrainingService } from '../../electron/core/training/service.js';
import { trainingHandlers } from '../../electron/core/training/handlers.js';
import { calls } from '../../electron/shared/contract.js';
import { installTinyBase } from '../fixtures/tiny-base.js';
import { testTrainingOptions } from '../fixtures/environment.js';
import { makeTrainingProject } from '../fixtures/training-project.js';

let dir: string;
let db: Db;
let service: TrainingService;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leave-out-'));
  db = openDatabase(new DataPaths(dir).database);
  await installTinyBase(testTrainingOptions(dir).models, path.join(dir, 'bases'));
  service = new TrainingService(db, new DataPaths(dir), testTrainingOptions(dir));
}, 60_000);
afterAll(() => {
  service.close();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

it('a run without the small label trains on the other labels; the label and its pictures stay', async () => {
  const paths = new DataPaths(dir);
  const projectId = makeTrainingProject(db, paths, { bird: 8, fruit: 8, vehicle: 2 });
  const vehicle = (db.prepare("SELECT id FROM labels WHERE project_id = ? AND name = 'vehicle'").get(projectId) as { id: number }).id;
  const h = trainingHandlers(db, service);
  const args = calls['training.start'].args.parse({
    projectId,
    baseId: 'tiny',
    strategy: 'head',
    overrides: { epochs: 2, augmentedVariants: 0 },
    leaveOut: [vehicle],
  });
  const { runId } = await h['training.start'](args);
  const run = await new Promise<{ status: string; error: string | null }>((resolve) => {
    const poll = setInterval(() => {
      const r = db.prepare('SELECT status, error FROM runs WHERE id = ?').get(runId) as { status: string; error: string | null };
      if (!['queued', 'running'].includes(r.status)) {
        clearInterval(poll);
        resolve(r);
      }
    }, 100);
  });
  expect(run.status, run.error ?? '').toBe('done');
  const used = db.prepare('SELECT DISTINCT label FROM run_images WHERE run_id = ? AND label IS NOT NULL ORDER BY label').pluck().all(runId);
  expect(used).toEqual(['bird', 'fruit']);
  // Nothing deleted, nothing relabeled: the left-out label keeps its two pictures.
  expect(db.prepare('SELECT image_count FROM labels WHERE id = ?').pluck().get(vehicle)).toBe(2);
  expect(db.prepare("SELECT COUNT(*) FROM images WHERE project_id = ? AND status = 'active'").pluck().get(projectId)).toBe(18);

  // Leaving out all but one label leaves nothing to train; a label of another project is refused.
  const fruit = (db.prepare("SELECT id FROM labels WHERE project_id = ? AND name = 'fruit'").get(projectId) as { id: number }).id;
  await expect(h['training.start']({ ...args, leaveOut: [vehicle, fruit] })).rejects.toThrow(
    /at least two labels besides the ones left out/,
  );
  await expect(h['training.start']({ ...args, leaveOut: [999_999] })).rejects.toThrow(/no label with id 999999/);
}, 120_000);
