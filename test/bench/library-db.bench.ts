// Grid page query and bulk labeling on a generated 100,000-image project, through the
// contract (validation included), on a real SQLite file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Studio } from '../../electron/core/studio.js';
import { testEnvironment } from '../fixtures/environment.js';

export function p95(samples: number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * 0.95) - 1)]!;
}

/** A project of `n` image rows (no pixel files: the queries never read them). */
export function generateProject(studio: Studio, n: number, labelNames: string[]): { projectId: number; labelIds: number[] } {
  const project = studio.db.prepare('INSERT INTO projects (name) VALUES (?)').run(`bench ${n}`);
  const projectId = Number(project.lastInsertRowid);
  const labelIds = labelNames.map((name, i) =>
    Number(
      studio.db.prepare('INSERT INTO labels (project_id, name, colour, position) VALUES (?, ?, ?, ?)').run(projectId, name, '#336699', i)
        .lastInsertRowid,
    ),
  );
  const insert = studio.db.prepare(
    "INSERT INTO images (project_id, sha256, bytes, width, height, format, original_name, label_id) VALUES (?, ?, 1000, 256, 256, 'jpg', ?, ?)",
  );
  studio.db.transaction(() => {
    for (let i = 0; i < n; i++) {
      // A third unlabeled, the rest spread over the labels.
      const label = i % 3 === 0 ? null : labelIds[i % labelIds.length]!;
      insert.run(projectId, i.toString(16).padStart(64, '0'), `img${i}.jpg`, label);
    }
  })();
  return { projectId, labelIds };
}

export async function runDbBench(n = 100_000) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-bench-db-'));
  const studio = new Studio({ environment: testEnvironment(dir), host: 'cli' });
  try {
    const { projectId, labelIds } = generateProject(studio, n, ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
    const pageMs: number[] = [];
    const filters = [{ status: 'all' as const }, { label: null, status: 'all' as const }, { label: labelIds[2]!, status: 'all' as const }];
    for (let i = 0; i < 300; i++) {
      const filter = filters[i % filters.length]!;
      const offset = Math.floor(Math.random() * (n / 2));
      const t = performance.now();
      await studio.call('images.page', { projectId, filter, offset, limit: 120 });
      pageMs.push(performance.now() - t);
    }
    const labelMs: number[] = [];
    for (let i = 0; i < 10; i++) {
      const start = 1 + Math.floor(Math.random() * (n - 10_000));
      const ids = Array.from({ length: 10_000 }, (_, k) => start + k);
      const t = performance.now();
      const r = await studio.call('images.assignLabel', {
        projectId,
        selection: { kind: 'ids', ids },
        labelId: labelIds[i % labelIds.length]!,
      });
      labelMs.push(performance.now() - t);
      if (r.changed === 0) throw new Error('bench labeled nothing');
    }
    return { images: n, pageQueryP95Ms: round(p95(pageMs)), label10kP95Ms: round(p95(labelMs)) };
  } finally {
    studio.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const round = (x: number) => Math.round(x * 100) / 100;

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = await runDbBench();
  console.log(`page query p95: ${r.pageQueryP95Ms} ms (target ≤ 5), label 10,000 p95: ${r.label10kP95Ms} ms (target ≤ 300)`);
  console.log(JSON.stringify({ bench: 'library-db', ...r }));
}
