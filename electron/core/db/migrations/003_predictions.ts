// Predictions of a trained run over a project's images: one row per (run, image), replaced when
// the run predicts again. The run's label name is kept beside the project's label id, so a
// renamed or deleted label does not make an old prediction unreadable.
export const up = `
CREATE TABLE predictions (
  run_id        INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  image_id      INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  -- NULL when the image could not be read (see error) or the project has no label of that name.
  label_id      INTEGER REFERENCES labels(id) ON DELETE SET NULL,
  label         TEXT,
  confidence    REAL,
  -- JSON object {label name: probability}, in the run's label order.
  probabilities TEXT,
  error         TEXT,
  -- What computed it, e.g. 'onnx-cpu' or 'tfjs (fallback: …)'.
  runtime       TEXT NOT NULL,
  created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  PRIMARY KEY (run_id, image_id),
  CHECK ((error IS NULL) = (confidence IS NOT NULL))
) WITHOUT ROWID;
CREATE INDEX predictions_by_image ON predictions(image_id);
CREATE INDEX predictions_by_label ON predictions(run_id, label_id, confidence);
`;
