// What each run used and said: one row per image the run trained, checked or tested on (its
// content hash, label name and split at the time), plus one per unlabeled image it predicted,
// each with the run's prediction. image_id is deliberately not a foreign key: the rows are the
// run's record and must survive the image being relabeled, excluded or removed. They go with the run.
export const up = `
CREATE TABLE run_images (
  run_id        INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  image_id      INTEGER NOT NULL,
  sha256        TEXT NOT NULL,
  original_name TEXT NOT NULL,
  -- The label name the run was given; NULL for an unlabeled image it only predicted.
  label         TEXT,
  split         TEXT CHECK (split IN ('train','validation','test')),
  -- The run's answer; NULL until the run finishes (or when it failed).
  predicted     TEXT,
  confidence    REAL,
  -- JSON array of probabilities in the run's label order (runs.metrics.labels).
  probabilities TEXT,
  -- How the prediction was made: 'held-out' (validation/test: never trained on), 'out-of-fold'
  -- (a training image, predicted by a 5-fold refit that never saw it), 'head-out-of-fold' (the
  -- same, but only the classifier was refitted: the fine-tuned trunk did see it), 'unlabeled'.
  kind          TEXT CHECK (kind IN ('held-out','out-of-fold','head-out-of-fold','unlabeled')),
  PRIMARY KEY (run_id, image_id),
  CHECK ((label IS NULL) = (split IS NULL))
) WITHOUT ROWID;
CREATE INDEX run_images_by_image ON run_images(image_id);
CREATE INDEX run_images_by_hash ON run_images(sha256, run_id);
`;
