// Import throughput end to end: ~8,100 Open Clip Art PNGs (Debian's openclipart-png) into a
// fresh data folder through Studio.importPaths — scan, hash, decode, thumbnail, store, SQLite.
// Run: node --import tsx test/bench/import.bench.ts
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Studio } from '../../electron/core/studio.js';
import { testEnvironment } from '../fixtures/environment.js';

export interface ImportBenchResult {
  bench: 'import';
  images: number;
  seconds: number;
  imagesPerSecond: number;
}

const PNG_SUBDIR = path.join('usr', 'share', 'openclipart', 'png');

function countPngs(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.toLowerCase().endsWith('.png')).length;
}

/** The PNG folder, fetched with apt and unpacked with dpkg on first use. */
export function ensureOpenClipart(cacheDir = process.env.STUDIO_BENCH_CACHE ?? '/var/cache/studio-bench/openclipart'): string {
  const root = path.join(cacheDir, PNG_SUBDIR);
  if (countPngs(root) > 0) return root;
  fs.mkdirSync(cacheDir, { recursive: true });
  const findDeb = () => fs.readdirSync(cacheDir).find((f) => f.startsWith('openclipart-png') && f.endsWith('.deb'));
  if (!findDeb()) {
    const download = () => execFileSync('apt-get', ['download', 'openclipart-png'], { cwd: cacheDir, stdio: 'inherit' });
    try {
      download();
    } catch {
      // A fresh container has no package lists yet.
      execFileSync('apt-get', ['update'], { stdio: 'inherit' });
      download();
    }
  }
  const deb = findDeb();
  if (!deb) throw new Error(`apt-get download left no openclipart-png .deb in ${cacheDir}`);
  execFileSync('dpkg', ['-x', path.join(cacheDir, deb), cacheDir], { stdio: 'inherit' });
  if (countPngs(root) === 0) throw new Error(`no PNGs under ${root} after unpacking ${deb}`);
  return root;
}

export async function runImportBench(options: { cacheDir?: string; log?: (line: string) => void } = {}): Promise<ImportBenchResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const source = ensureOpenClipart(options.cacheDir);
  const files = countPngs(source);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-import-bench-'));
  const studio = new Studio({ environment: testEnvironment(dataDir), host: 'cli' });
  try {
    const { id: projectId } = await studio.call('projects.create', { name: 'openclipart' });
    const t0 = process.hrtime.bigint();
    const cpu0 = process.cpuUsage();
    const report = await studio.importPaths(projectId, { paths: [source], displayName: 'openclipart' }, true);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    // Every file found counts: duplicates and refusals go through read, hash and checks too.
    const images = report.imported + report.duplicates + report.skipped.length;
    const reasons = new Map<string, number>();
    for (const s of report.skipped) reasons.set(s.reason, (reasons.get(s.reason) ?? 0) + 1);
    log(
      `import: ${files} PNG files → ${report.imported} imported, ${report.duplicates} duplicates, ${report.skipped.length} skipped ` +
        `in ${seconds.toFixed(1)} s = ${(images / seconds).toFixed(0)} images/s end to end (${Object.keys(report.labels).length} labels)`,
    );
    // CPU per image (all threads of this process) tells a slow machine from a busy one.
    log(
      `  cpu ${((cpu.user + cpu.system) / 1000 / images).toFixed(1)} ms/image (user ${(cpu.user / 1e6).toFixed(1)} s, system ${(cpu.system / 1e6).toFixed(1)} s), load average ${os.loadavg()[0]!.toFixed(1)}`,
    );
    for (const [reason, n] of reasons) log(`  skipped ${n}× ${reason}`);
    return { bench: 'import', images, seconds: Math.round(seconds * 100) / 100, imagesPerSecond: Math.round((images / seconds) * 10) / 10 };
  } finally {
    studio.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const result = await runImportBench();
  console.log(JSON.stringify(result));
}
