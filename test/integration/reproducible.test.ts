// Reproducible runs: the same pictures, split, settings and seed give the same wizard choice and
// the same test accuracy, even when two fresh projects received the pictures in different orders
// (row ids, and so any order taken from them, differ) and each computed its own feature cache.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../electron/core/db/connection.js';
import { DataPaths } from '../../electron/core/paths.js';
import { createProject } from '../../electron/core/library/projects.js';
import { ensureLabel } from '../../electron/core/library/labels.js';
import { insertImage } from '../../electron/core/library/images.js';
import { TrainingService } from '../../electron/core/training/service.js';
import { testTrainingOptions } from '../fixtures/environment.js';
import { CLIPART } from '../fixtures/datasets.js';

const LABELS = ['bird', 'fruit', 'vehicle'];
const PER_LABEL = 10;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

type File = { label: string; file: string };
const files: File[] = LABELS.flatMap((label) =>
  fs
    .readdirSync(path.join(CLIPART, label))
    .sort()
    .slice(0, PER_LABEL)
    .map((f) => ({ label, file: path.join(CLIPART, label, f) })),
);

/** A fresh data folder with one project holding `order` of the pictures, labels created in `labelOrder`. */
async function trainFresh(order: File[], labelOrder: string[]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reproducible-'));
  dirs.push(dir);
  const paths = new DataPaths(dir);
  const db = openDatabase(paths.database);
  const projectId = createProject(db, 'same pictures').id;
  const labelIds = new Map(labelOrder.map((l) => [l, ensureLabel(db, projectId, l)]));
  for (const { label, file } of order) {
    const bytes = fs.readFileSync(file);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const stored = paths.stored(projectId, sha256, 'jpg');
    fs.mkdirSync(path.dirname(stored), { recursive: true });
    fs.writeFileSync(stored, bytes);
    insertImage(db, {
      projectId,
      sha256,
      bytes: bytes.length,
      width: 1,
      height: 1,
      format: 'jpg',
      originalName: path.basename(file),
      labelId: labelIds.get(label)!,
    });
  }
  const service = new TrainingService(db, paths, testTrainingOptions(dir));
  try {
    const started = await service.start(projectId, { strategy: 'auto', overrides: { epochs: 5, augmentedVariants: 1, seed: 3 } });
    const run = await started.done;
    expect(run.status, run.error ?? '').toBe('done');
    return { strategy: run.strategy, config: run.config, metrics: run.metrics!, epochs: run.epochs };
  } finally {
    service.close();
    db.close();
  }
}

describe('reproducible runs', () => {
  it('two fresh projects of the same pictures, imported in different orders, choose and score the same', async () => {
    const a = await trainFresh(files, LABELS);
    // Reversed and labels interleaved, labels created in another order (as a concurrent import
    // creates them when their first file finishes): every row id and label position differs.
    const b = await trainFresh(
      [...files].reverse().sort((x, y) => (files.indexOf(x) % PER_LABEL) - (files.indexOf(y) % PER_LABEL)),
      [...LABELS].reverse(),
    );
    console.log(
      `run A: ${a.strategy} at ${a.config.featureLayer}, test ${a.metrics.testAccuracy}; run B: ${b.strategy} at ${b.config.featureLayer}, test ${b.metrics.testAccuracy}`,
    );
    expect(b.strategy).toBe(a.strategy);
    expect(b.config.featureLayer).toBe(a.config.featureLayer);
    expect(b.config.boundary).toBe(a.config.boundary);
    expect(b.epochs.length).toBe(a.epochs.length);
    expect(b.metrics.labels).toEqual(a.metrics.labels);
    expect(b.metrics.confusion).toEqual(a.metrics.confusion);
    expect(b.metrics.testAccuracy!).toBeCloseTo(a.metrics.testAccuracy!, 6);
    expect(b.metrics.valAccuracy!).toBeCloseTo(a.metrics.valAccuracy!, 6);
    for (const [i, e] of a.epochs.entries()) expect(b.epochs[i]!.loss).toBeCloseTo(e.loss, 5);
  }, 480_000);
});
