// The predictions table (migration 003): written in batches by predictProject, read by the UI.
import type { Db } from '../db/connection.js';
import type { PredictionRow } from '../../shared/contract-predict.js';

export interface PredictionInsert {
  imageId: number;
  label: string | null;
  labelId: number | null;
  confidence: number | null;
  probabilities: Record<string, number> | null;
  error: string | null;
}

export function savePredictions(db: Db, runId: number, runtime: string, rows: PredictionInsert[]): void {
  const insert = db.prepare(
    `INSERT OR REPLACE INTO predictions (run_id, image_id, label_id, label, confidence, probabilities, error, runtime)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  db.transaction(() => {
    for (const r of rows)
      insert.run(
        runId,
        r.imageId,
        r.labelId,
        r.label,
        r.confidence,
        r.probabilities ? JSON.stringify(r.probabilities) : null,
        r.error,
        runtime,
      );
  })();
}

export function pagePredictions(
  db: Db,
  runId: number,
  offset: number,
  limit: number,
): { total: number; runtime: string | null; rows: PredictionRow[] } {
  const head = db.prepare('SELECT COUNT(*) AS n, MAX(runtime) AS runtime FROM predictions WHERE run_id = ?').get(runId) as {
    n: number;
    runtime: string | null;
  };
  const rows = (
    db
      .prepare('SELECT image_id, label, label_id, confidence, error FROM predictions WHERE run_id = ? ORDER BY image_id LIMIT ? OFFSET ?')
      .all(runId, limit, offset) as {
      image_id: number;
      label: string | null;
      label_id: number | null;
      confidence: number | null;
      error: string | null;
    }[]
  ).map((r) => ({ imageId: r.image_id, label: r.label, labelId: r.label_id, confidence: r.confidence, error: r.error }));
  return { total: head.n, runtime: head.runtime, rows };
}
