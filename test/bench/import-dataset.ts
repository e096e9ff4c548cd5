// The benchmarks' quick import: a dataset folder (one subfolder per label) written straight into a
// project's store and database, without the app's decoding and checks, which the benchmarks do not measure.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { Db } from '../../electron/core/db/connection.js';
import type { DataPaths } from '../../electron/core/paths.js';
import { createProject } from '../../electron/core/library/projects.js';
import { ensureLabel } from '../../electron/core/library/labels.js';
import { insertImage } from '../../electron/core/library/images.js';

/** A new project named after `dir`, every picture labelled by its folder; returns the project's id. */
export function importDataset(db: Db, paths: DataPaths, dir: string): number {
  const projectId = createProject(db, path.basename(dir)).id;
  for (const label of fs.readdirSync(dir).sort()) {
    if (!fs.statSync(path.join(dir, label)).isDirectory()) continue;
    const labelId = ensureLabel(db, projectId, label);
    for (const f of fs.readdirSync(path.join(dir, label)).sort()) {
      const bytes = fs.readFileSync(path.join(dir, label, f));
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const stored = paths.stored(projectId, sha256, 'jpg');
      fs.mkdirSync(path.dirname(stored), { recursive: true });
      fs.writeFileSync(stored, bytes);
      insertImage(db, { projectId, sha256, bytes: bytes.length, width: 1, height: 1, format: 'jpg', originalName: f, labelId });
    }
  }
  return projectId;
}
