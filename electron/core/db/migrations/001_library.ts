// Projects, images, labels and who labeled what: the dataset library.
export const up = `
CREATE TABLE projects (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL,
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  -- Counters kept by the triggers below, so a 100,000-image grid and sidebar never COUNT(*).
  image_count    INTEGER NOT NULL DEFAULT 0,
  excluded_count INTEGER NOT NULL DEFAULT 0,
  labeled_count  INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE labels (
  id          INTEGER PRIMARY KEY,
  project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  colour      TEXT NOT NULL,
  position    INTEGER NOT NULL DEFAULT 0,
  image_count INTEGER NOT NULL DEFAULT 0,
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

CREATE TRIGGER images_counted_in AFTER INSERT ON images BEGIN
  UPDATE projects SET image_count = image_count + 1,
                      excluded_count = excluded_count + (NEW.status = 'excluded'),
                      labeled_count = labeled_count + (NEW.label_id IS NOT NULL)
   WHERE id = NEW.project_id;
  UPDATE labels SET image_count = image_count + 1 WHERE id = NEW.label_id;
END;
CREATE TRIGGER images_counted_out AFTER DELETE ON images BEGIN
  UPDATE projects SET image_count = image_count - 1,
                      excluded_count = excluded_count - (OLD.status = 'excluded'),
                      labeled_count = labeled_count - (OLD.label_id IS NOT NULL)
   WHERE id = OLD.project_id;
  UPDATE labels SET image_count = image_count - 1 WHERE id = OLD.label_id;
END;
-- Also fires for ON DELETE SET NULL when a label is deleted.
CREATE TRIGGER images_relabeled AFTER UPDATE OF label_id ON images
WHEN OLD.label_id IS NOT NEW.label_id BEGIN
  UPDATE labels SET image_count = image_count - 1 WHERE id = OLD.label_id;
  UPDATE labels SET image_count = image_count + 1 WHERE id = NEW.label_id;
  UPDATE projects SET labeled_count = labeled_count + (NEW.label_id IS NOT NULL) - (OLD.label_id IS NOT NULL)
   WHERE id = NEW.project_id;
END;
CREATE TRIGGER images_restatused AFTER UPDATE OF status ON images
WHEN OLD.status IS NOT NEW.status BEGIN
  UPDATE projects SET excluded_count = excluded_count + (NEW.status = 'excluded') - (OLD.status = 'excluded')
   WHERE id = NEW.project_id;
END;

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
