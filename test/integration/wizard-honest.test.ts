// The wizard chooses from training + validation images only: relabelling every test image
// (here, all into one label) leaves its measurement, choice, reason and estimate unchanged.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Studio } from '../../electron/core/studio.js';
import { installTinyBase } from '../fixtures/tiny-base.js';
import { testEnvironment } from '../fixtures/environment.js';
import { makeTrainingProject } from '../fixtures/training-project.js';

let dir: string;
let studio: Studio;
let projectId: number;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wizard-honest-'));
  studio = new Studio({ environment: testEnvironment(dir), host: 'cli' });
  await installTinyBase(studio.environment.models, path.join(dir, 'bases'));
  projectId = makeTrainingProject(studio.db, studio.paths, { bird: 14, vehicle: 14, mammal: 14 }, 'honest');
});
afterAll(() => {
  studio.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the wizard never reads the test split', () => {
  it('changing only test labels leaves its choice and estimate unchanged', async () => {
    const measure = async () => {
      const w = await studio.call('training.wizard', { projectId, baseId: 'tiny' });
      const { estimatedMs: _timed, ...choice } = w.recommendation; // a timing, not a choice
      return { scores: w.probe.scores, best: w.probe.best, choice, estimate: w.estimate };
    };
    const before = await measure();
    const labels = studio.db.prepare('SELECT id FROM labels WHERE project_id = ? ORDER BY name').all(projectId) as { id: number }[];
    const moved = studio.db
      .prepare("UPDATE images SET label_id = ? WHERE project_id = ? AND split = 'test'")
      .run(labels[0]!.id, projectId).changes;
    expect(moved).toBeGreaterThan(3);
    const after = await measure();
    expect(after).toEqual(before);
    expect(before.estimate.low).toBeLessThanOrEqual(before.estimate.high);
  }, 120_000);
});
