// Exports of finished runs: what was exported where, its checksum, and the parity check that
// decides whether it shipped (a failed one stays on record, marked failed).
export const up = `
CREATE TABLE exports (
  id              INTEGER PRIMARY KEY,
  run_id          INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  format          TEXT NOT NULL CHECK (format IN ('bundle','tfjs','onnx')),
  -- JSON array of the parts written: tfjs, onnx, web-demo, examples
  parts           TEXT NOT NULL,
  quantized       INTEGER NOT NULL DEFAULT 0 CHECK (quantized IN (0,1)),
  status          TEXT NOT NULL DEFAULT 'running'
                  CHECK (status IN ('running','done','failed','cancelled','interrupted')),
  dir             TEXT,
  zip_path        TEXT,
  -- sha256 of manifest.json, which holds the sha256 of every other file
  manifest_sha256 TEXT,
  bytes           INTEGER,
  -- parity with the app on the test split: worst over the artefacts
  max_abs_diff    REAL,
  agreement       REAL,
  images_checked  INTEGER,
  -- quantized exports: the test-accuracy change shown before saving
  accuracy_delta  REAL,
  -- JSON: the full parity report, per artefact
  parity          TEXT,
  error           TEXT,
  -- The process running the export: a 'running' export is stale only when it is gone.
  host_pid        INTEGER,
  created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  finished_at     TEXT
);
CREATE INDEX exports_by_run ON exports(run_id, id);
`;
