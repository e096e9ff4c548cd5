// run_images (migration 006): what a run used, written when it starts, and what it said about
// every image, written when it finishes. Host side only (the engine never writes SQL).
import type { Db } from '../db/connection.js';
import type { PredictionKind, RunEvaluation } from './run-evaluation.js';

export interface UsedImage {
  imageId: number;
  label: string;
  split: 'train' | 'validation' | 'test';
}

export interface RunImageRow {
  imageId: number;
  sha256: string;
  originalName: string;
  label: string | null;
  split: 'train' | 'validation' | 'test' | null;
  predicted: string | null;
  confidence: number | null;
  probabilities: number[] | null;
  kind: PredictionKind | null;
}

/** The project's active unlabeled images, which a run predicts without training on them. */
export function unlabeledImages(db: Db, projectId: number): { id: number; sha256: string; format: string }[] {
  return db
    .prepare("SELECT id, sha256, format FROM images WHERE project_id = ? AND status = 'active' AND label_id IS NULL ORDER BY id")
    .all(projectId) as { id: number; sha256: string; format: string }[];
}

/** At the start of a run: the images it trains, checks and tests on, and the unlabeled ones it will predict. */
export function recordRunImages(db: Db, runId: number, used: UsedImage[], unlabeledIds: number[]): void {
  const insert = db.prepare(
    `INSERT OR REPLACE INTO run_images (run_id, image_id, sha256, original_name, label, split)
     SELECT ?, id, sha256, original_name, ?, ? FROM images WHERE id = ?`,
  );
  db.transaction(() => {
    for (const u of used) insert.run(runId, u.label, u.split, u.imageId);
    for (const id of unlabeledIds) insert.run(runId, null, null, id);
  })();
}

/** At the end of a run: its answer for each image, in the order the images were sent to the engine. */
export function saveRunEvaluation(
  db: Db,
  runId: number,
  labels: string[],
  evaluation: RunEvaluation,
  sampleIds: number[],
  unlabeledIds: number[],
): void {
  const update = db.prepare(
    'UPDATE run_images SET predicted = ?, confidence = ?, probabilities = ?, kind = ? WHERE run_id = ? AND image_id = ?',
  );
  const write = (imageId: number, probs: number[] | undefined, kind: PredictionKind | undefined) => {
    if (!probs || !kind) return;
    let best = 0;
    for (let c = 1; c < probs.length; c++) if (probs[c]! > probs[best]!) best = c;
    update.run(labels[best] ?? null, probs[best] ?? null, JSON.stringify(probs), kind, runId, imageId);
  };
  db.transaction(() => {
    sampleIds.forEach((id, i) => write(id, evaluation.probs[i], evaluation.kinds[i]));
    unlabeledIds.forEach((id, i) => write(id, evaluation.unlabeled[i], 'unlabeled'));
  })();
}

export function runImages(db: Db, runId: number): RunImageRow[] {
  return (
    db.prepare('SELECT * FROM run_images WHERE run_id = ? ORDER BY image_id').all(runId) as {
      image_id: number;
      sha256: string;
      original_name: string;
      label: string | null;
      split: RunImageRow['split'];
      predicted: string | null;
      confidence: number | null;
      probabilities: string | null;
      kind: PredictionKind | null;
    }[]
  ).map((r) => ({
    imageId: r.image_id,
    sha256: r.sha256,
    originalName: r.original_name,
    label: r.label,
    split: r.split,
    predicted: r.predicted,
    confidence: r.confidence,
    probabilities: r.probabilities ? (JSON.parse(r.probabilities) as number[]) : null,
    kind: r.kind,
  }));
}
