// The Train tab's instant first plan: from picture counts alone (no engine process), naming the
// smallest label; the wizard's full answer replaces it once measured, and only while the pictures
// and their labels stay the same.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, type Db } from '../../electron/core/db/connection.js';
import { DataPaths } from '../../electron/core/paths.js';
import { TrainingService } from '../../electron/core/training/service.js';
import { trainingHandlers } from '../../electron/core/training/handlers.js';
import { quickPlan, WizardMemo } from '../../electron/core/training/quick-plan.js';
import { QuickPlan } from '../../electron/shared/contract-plan.js';
import { installTinyBase } from '../fixtures/tiny-base.js';
import { testTrainingOptions } from '../fixtures/environment.js';
import { makeTrainingProject } from '../fixtures/training-project.js';
import { ensureLabel } from '../../electron/core/library/labels.js';

let dir: string;
let db: Db;
let paths: DataPaths;
let service: TrainingService;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quick-plan-'));
  paths = new DataPaths(dir);
  db = openDatabase(paths.database);
  await installTinyBase(testTrainingOptions(dir).models, path.join(dir, 'bases'));
  service = new TrainingService(db, paths, testTrainingOptions(dir));
});
afterAll(() => {
  service.close();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('training.quickPlan', () => {
  it('names the label that is small, and plans a new classifier on the base’s own feature layer', () => {
    const projectId = makeTrainingProject(db, paths, { bird: 2, vehicle: 25 }, 'small bird');
    const plan = QuickPlan.parse(quickPlan(service, new WizardMemo(service), projectId, 'tiny'));
    expect(plan.cached).toBeNull();
    expect(plan.recommendation).toMatchObject({ strategy: 'head', boundary: null, smallest: { label: 'bird', count: 2 } });
    expect(plan.recommendation.featureLayer).toBe(service.base('tiny').spec.featureLayer);
    expect(plan.recommendation.reason).toMatch(/“bird” has only 2 pictures/);
    expect(plan.recommendation.reason).not.toMatch(/2 (images|pictures) per label/);
    expect(plan.perLabel).toEqual({ bird: 2, vehicle: 25 });
  });

  it('with enough pictures in every label, says it is a first choice from the counts', () => {
    const projectId = makeTrainingProject(db, paths, { bird: 20, vehicle: 22 }, 'enough');
    const plan = quickPlan(service, new WizardMemo(service), projectId, 'tiny');
    // Below the wizard's fine-tuning threshold (100 per label), the smallest label is named.
    expect(plan.recommendation.reason).toMatch(/“bird” has only 20 pictures \(fewer than 100\)/);
    const even = makeTrainingProject(db, paths, { bird: 3, vehicle: 3 }, 'even');
    expect(quickPlan(service, new WizardMemo(service), even, 'tiny').recommendation.reason).toMatch(
      /^With 3 pictures per label \(fewer than 100\)/,
    );
  });

  it('gives the wizard’s measured answer back while the labeled pictures are unchanged', async () => {
    const projectId = makeTrainingProject(db, paths, { bird: 6, vehicle: 6 }, 'kept');
    const memo = new WizardMemo(service);
    const handlers = trainingHandlers(db, service, memo);
    const report = await handlers['training.wizard']({ projectId, baseId: 'tiny' });
    expect(quickPlan(service, memo, projectId, 'tiny').cached).toEqual(report);
    // Another base is another answer.
    expect(quickPlan(service, memo, projectId, 'mobilenet_v2').cached).toBeNull();
    // A picture moved to another label: the measurement no longer holds.
    const fruit = ensureLabel(db, projectId, 'fruit');
    db.prepare('UPDATE images SET label_id = ? WHERE id = (SELECT MIN(id) FROM images WHERE project_id = ?)').run(fruit, projectId);
    expect(quickPlan(service, memo, projectId, 'tiny').cached).toBeNull();
  }, 60_000);
});
