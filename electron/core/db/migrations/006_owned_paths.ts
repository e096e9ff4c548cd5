// The ledger of paths the app creates outside its data folder (an export's destination folder,
// the entries moved into it, its .zip). A path goes on record before it is created, so the
// start-up sweep can tell our leftovers (a killed export) from a user's files and remove only
// ours. `state` is 'pending' until the path exists: a pending path that exists may be someone
// else's (we may have died before creating it), so the sweep never removes a pending file.
export const up = `
CREATE TABLE owned_paths (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  path       TEXT NOT NULL,
  -- file: one file; dir: a folder we made (removed only when empty); tree: a folder whose whole content is ours
  kind       TEXT NOT NULL CHECK (kind IN ('file','dir','tree')),
  owner      TEXT NOT NULL CHECK (owner IN ('export')),
  owner_id   INTEGER NOT NULL,
  state      TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','created')),
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE INDEX owned_paths_by_owner ON owned_paths(owner, owner_id);
`;
