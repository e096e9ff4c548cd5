// Training: per-image splits, the base models the studio knows, runs with their per-epoch
// metrics. (The feature cache is files only: the engine process owns it and never writes SQL.)
export const up = `
-- NULL until the project's first split assignment; then stable (new images get one, old keep theirs).
ALTER TABLE images ADD COLUMN split TEXT CHECK (split IN ('train','validation','test'));
CREATE INDEX images_by_split ON images(project_id, split, label_id);

-- The seed and fractions a project's splits were drawn with; changing them redraws.
CREATE TABLE split_settings (
  project_id  INTEGER PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
  seed        INTEGER NOT NULL,
  train       REAL NOT NULL,
  validation  REAL NOT NULL,
  test        REAL NOT NULL
);

CREATE TABLE base_models (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  source      TEXT NOT NULL CHECK (source IN ('builtin','imported','downloaded')),
  format      TEXT NOT NULL CHECK (format IN ('layers','graph')),
  folder      TEXT NOT NULL,
  input_size  INTEGER NOT NULL,
  metadata    TEXT NOT NULL,
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);

CREATE TABLE runs (
  id           INTEGER PRIMARY KEY,
  project_id   INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  base_id      TEXT NOT NULL,
  strategy     TEXT NOT NULL CHECK (strategy IN ('head','partial','full')),
  config       TEXT NOT NULL,
  engine       TEXT,
  status       TEXT NOT NULL DEFAULT 'queued'
               CHECK (status IN ('queued','running','done','failed','cancelled','interrupted')),
  created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  started_at   TEXT,
  finished_at  TEXT,
  duration_ms  INTEGER,
  error        TEXT,
  model_folder TEXT,
  -- JSON: where each part ran, e.g. { frozen: 'onnxruntime (cpu)', head: 'wasm' }, including any slow fallback.
  backends     TEXT,
  -- The process that hosts the run: a run left 'running' by a process that is gone was interrupted.
  host_pid     INTEGER,
  -- JSON: { testAccuracy, valAccuracy, perClass: [{label, precision, recall}], confusion: number[][], labels }
  metrics      TEXT
);
CREATE INDEX runs_by_project ON runs(project_id, id);
CREATE INDEX runs_by_status ON runs(status);

CREATE TABLE run_epochs (
  run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  epoch     INTEGER NOT NULL,
  phase     TEXT NOT NULL CHECK (phase IN ('head','finetune')),
  loss      REAL NOT NULL,
  acc       REAL NOT NULL,
  val_loss  REAL,
  val_acc   REAL,
  ms        INTEGER NOT NULL,
  PRIMARY KEY (run_id, phase, epoch)
);
`;
