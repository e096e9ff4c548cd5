// Times migration 5 (the AUTOINCREMENT rebuild) on a 100,000-image database at version 4:
// `npm run bench:migration` (MIGRATION_IMAGES to change the size).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from '../../electron/core/db/connection.js';
import { migrations } from '../../electron/core/db/migrations/index.js';

const n = Number(process.env.MIGRATION_IMAGES ?? 100_000);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-migration-'));
try {
  const file = path.join(dir, 'studio.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  migrate(
    db,
    migrations.filter((m) => m.version <= 4),
  );
  db.transaction(() => {
    db.prepare("INSERT INTO projects (name) VALUES ('big')").run();
    for (let l = 1; l <= 10; l++) db.prepare("INSERT INTO labels (project_id, name, colour) VALUES (1, ?, '#000000')").run(`label ${l}`);
    const img = db.prepare(
      "INSERT INTO images (project_id, sha256, bytes, width, height, format, original_name, label_id, split) VALUES (1, ?, 1000, 224, 224, 'jpeg', ?, ?, 'train')",
    );
    const ann = db.prepare("INSERT INTO annotations (image_id, label_id, source) VALUES (?, ?, 'person')");
    for (let i = 1; i <= n; i++) {
      const label = (i % 10) + 1;
      const id = Number(img.run(i.toString(16).padStart(64, '0'), `${i}.jpg`, label).lastInsertRowid);
      ann.run(id, label);
    }
  })();
  const bytes = fs.statSync(file).size;
  const started = performance.now();
  migrate(db, migrations);
  const ms = performance.now() - started;
  console.log(
    JSON.stringify({
      images: n,
      databaseMB: Math.round(bytes / 1e5) / 10,
      migrationMs: Math.round(ms),
      backup: fs.existsSync(`${file}.v4.bak`),
      integrity: db.pragma('integrity_check', { simple: true }),
    }),
  );
  db.close();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
