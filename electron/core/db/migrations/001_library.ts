// Projects, images, labels and who labeled what: the dataset library.
export const up = `
CREATE TABLE projects (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL,
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);

CREATE TABLE labels (
  id          INTEGER PRIMARY KEY,
  project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  colour      TEXT NOT NULL,
  position    INTEGER NOT NULL DEFAULT 0,
  UNIQUE (project_id, name)
);

CREATE TABLE images (
  id            INTEGER PRIMARY KEY,
  project_id    INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  sha256        TEXT NOT NULL,
  bytes         INTEGER NOT NULL,
  width         INTEGER NOT NULL,
  height        INTEGER NOT NULL,
  format        TEXT NOT NULL,
  original_name TEXT NOT NULL,
  status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','excluded')),
  -- The current label, kept here so grids and counts need no join over annotations;
  -- annotations keep who set it and when.
  label_id      INTEGER REFERENCES labels(id) ON DELETE SET NULL,
  created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  UNIQUE (project_id, sha256)
);
-- Covering indexes for the grid's page query, per filter.
CREATE INDEX images_by_project ON images(project_id, id);
CREATE INDEX images_by_label ON images(project_id, label_id, id);
CREATE INDEX images_by_status ON images(project_id, status, id);

CREATE TABLE annotations (
  id          INTEGER PRIMARY KEY,
  image_id    INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  label_id    INTEGER REFERENCES labels(id) ON DELETE SET NULL,
  source      TEXT NOT NULL CHECK (source IN ('person','model')),
  confidence  REAL,
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE INDEX annotations_by_image ON annotations(image_id, id);

-- Undoable labeling actions. payload is JSON: { imageIds, before, after } or similar per kind.
CREATE TABLE history (
  id          INTEGER PRIMARY KEY,
  project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  kind        TEXT NOT NULL,
  description TEXT NOT NULL,
  payload     TEXT NOT NULL,
  undone      INTEGER NOT NULL DEFAULT 0,
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE INDEX history_by_project ON history(project_id, id);
`;
