// npm run bench:backup — backup and restore of a 10,000-image project: MB/s and peak memory.
// The project (small noise JPEGs, labeled, in the store) is made here; the backup and the restore
// each run in a process of their own, so process.resourceUsage().maxRSS is theirs alone and shows
// that the archive is streamed (a project held in memory would peak at its size).
//   node --import tsx test/bench/backup.bench.ts [IMAGES]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { DataPaths } from '../../electron/core/paths.js';
import { openDatabase } from '../../electron/core/db/connection.js';

const self = fileURLToPath(import.meta.url);
const [phase, dataDir, file] = process.argv.slice(2);

if (phase === 'backup' || phase === 'restore') {
  const { createBackup } = await import('../../electron/core/backup/create.js');
  const { restoreBackup } = await import('../../electron/core/backup/restore.js');
  const paths = new DataPaths(dataDir!);
  const db = openDatabase(paths.database);
  const t0 = performance.now();
  const r =
    phase === 'backup'
      ? await createBackup(db, paths, 1, file!, { appVersion: 'bench' })
      : { ...(await restoreBackup(db, paths, file!)), project: undefined };
  const seconds = (performance.now() - t0) / 1000;
  db.close();
  process.stdout.write(
    `${JSON.stringify({ seconds, bytes: fs.statSync(file!).size, maxRssMb: process.resourceUsage().maxRSS / 1024, r })}\n`,
  );
  process.exit(0);
}

const count = Number(phase ?? 10_000);
const sharp = (await import('sharp')).default;
const { createProject } = await import('../../electron/core/library/projects.js');
const { ensureLabel } = await import('../../electron/core/library/labels.js');
const { insertImage } = await import('../../electron/core/library/images.js');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-backup-'));
try {
  const from = new DataPaths(path.join(tmp, 'from'));
  fs.mkdirSync(from.root, { recursive: true });
  const db = openDatabase(from.database);
  const projectId = createProject(db, 'bench').id;
  const labels = ['a', 'b', 'c', 'd'].map((l) => ensureLabel(db, projectId, l));
  const t0 = performance.now();
  let total = 0;
  const insert = db.transaction((rows: Parameters<typeof insertImage>[1][]) => rows.forEach((r) => insertImage(db, r)));
  const batch: Parameters<typeof insertImage>[1][] = [];
  for (let i = 0; i < count; i++) {
    const noise = Buffer.alloc(128 * 128 * 3);
    for (let j = 0; j < noise.length; j++) noise[j] = (i * 7919 + j * 104729 + ((j * i) % 251)) & 0xff;
    const bytes = await sharp(noise, { raw: { width: 128, height: 128, channels: 3 } })
      .jpeg({ quality: 80 })
      .toBuffer();
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const stored = from.stored(projectId, sha256, 'jpg');
    fs.mkdirSync(path.dirname(stored), { recursive: true });
    fs.writeFileSync(stored, bytes);
    total += bytes.length;
    batch.push({
      projectId,
      sha256,
      bytes: bytes.length,
      width: 128,
      height: 128,
      format: 'jpg',
      originalName: `img-${i}.jpg`,
      labelId: labels[i % 4]!,
    });
    if (batch.length === 1000) insert(batch.splice(0));
  }
  insert(batch.splice(0));
  db.close();
  console.error(`made ${count} images (${(total / 1e6).toFixed(1)} MB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const archive = path.join(tmp, 'bench.studio-backup.tar');
  const run = (args: string[]) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', self, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
    if (r.status !== 0) throw new Error(`${args[0]} failed: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { seconds: number; bytes: number; maxRssMb: number };
  };
  const backup = run(['backup', from.root, archive]);
  const to = path.join(tmp, 'to');
  fs.mkdirSync(to, { recursive: true });
  const restore = run(['restore', to, archive]);
  const mbps = (r: { seconds: number; bytes: number }) => r.bytes / 1e6 / r.seconds;
  console.log(
    `backup: ${count} images, ${(backup.bytes / 1e6).toFixed(1)} MB in ${backup.seconds.toFixed(1)} s = ${mbps(backup).toFixed(1)} MB/s, peak RSS ${backup.maxRssMb.toFixed(0)} MB`,
  );
  console.log(
    `restore: ${(restore.bytes / 1e6).toFixed(1)} MB in ${restore.seconds.toFixed(1)} s = ${mbps(restore).toFixed(1)} MB/s, peak RSS ${restore.maxRssMb.toFixed(0)} MB`,
  );
  console.log(
    JSON.stringify({
      bench: 'backup',
      images: count,
      archiveBytes: backup.bytes,
      backup: { seconds: backup.seconds, mbPerSecond: mbps(backup), peakRssMb: backup.maxRssMb },
      restore: { seconds: restore.seconds, mbPerSecond: mbps(restore), peakRssMb: restore.maxRssMb },
    }),
  );
} finally {
  if (!process.env.BENCH_KEEP) fs.rmSync(tmp, { recursive: true, force: true });
}
