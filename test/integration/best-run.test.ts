// The history's "best run" mark and the run page's comparison agree: both judge runs on the test
// pictures they share by content, not on each run's own test score. Runs written straight into a
// real SQLite file (no engine): what matters here is the judging.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, type Db } from '../../electron/core/db/connection.js';
import { evalHandlers } from '../../electron/core/eval/handlers.js';

let dir: string;
let db: Db;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'best-run-'));
  db = openDatabase(path.join(dir, 'studio.db'));
});
afterAll(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A finished run whose own test score is `accuracy`, tested on `tests` (content hash → right or wrong). */
function run(projectId: number, accuracy: number, tests: Record<string, boolean>, lr = 0.01): number {
  const metrics = {
    testAccuracy: accuracy,
    valAccuracy: null,
    testCount: Object.keys(tests).length,
    labels: ['a', 'b'],
    perClass: [],
    confusion: [],
  };
  const id = Number(
    db
      .prepare("INSERT INTO runs (project_id, base_id, strategy, config, status, metrics) VALUES (?, 'tiny', 'head', ?, 'done', ?)")
      .run(projectId, JSON.stringify({ lr }), JSON.stringify(metrics)).lastInsertRowid,
  );
  const insert = db.prepare(
    "INSERT INTO run_images (run_id, image_id, sha256, original_name, label, split, predicted, confidence, probabilities, kind) VALUES (?, ?, ?, ?, 'a', 'test', ?, 0.9, '[0.9,0.1]', 'held-out')",
  );
  Object.entries(tests).forEach(([sha, right], k) => insert.run(id, k + 1, sha, `${sha}.png`, right ? 'a' : 'b'));
  return id;
}

describe('best run', () => {
  it('is the run that wins on the shared test pictures, even with the lower score on its own test set', () => {
    const projectId = Number(db.prepare("INSERT INTO projects (name) VALUES ('p')").run().lastInsertRowid);
    const h = evalHandlers(db);
    expect(h['eval.best']({ projectId })).toEqual({ runId: null });
    // Run 1 scores 0.9 on its own (easy) test set; run 2 scores 0.6 on a harder, different one.
    // On the two pictures both were tested on, run 2 is right twice and run 1 once.
    const first = run(projectId, 0.9, { s1: true, s2: false, e1: true, e2: true });
    const second = run(projectId, 0.6, { s1: true, s2: true, h1: false, h2: false }, 0.02);
    const c = h['eval.compare']({ runId: second, otherRunId: first });
    expect(c).toMatchObject({ sharedTest: 2, accuracy: [1, 0.5], better: second, changes: ['lr 0.02 → 0.01'] });
    expect(h['eval.best']({ projectId })).toEqual({ runId: second });
    // A later run that only ties keeps the mark where it was.
    run(projectId, 0.95, { s1: true, s2: true });
    expect(h['eval.best']({ projectId })).toEqual({ runId: second });
  });

  it('falls back on the test scores for runs that share no test picture', () => {
    const projectId = Number(db.prepare("INSERT INTO projects (name) VALUES ('q')").run().lastInsertRowid);
    run(projectId, 0.7, { x1: true });
    const better = run(projectId, 0.8, { y1: true });
    run(projectId, 0.75, { z1: true });
    expect(evalHandlers(db)['eval.best']({ projectId })).toEqual({ runId: better });
  });
});
