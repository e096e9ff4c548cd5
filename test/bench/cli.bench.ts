// npm run bench:cli — the `studio` command as a user starts it (`node <package.json bin.studio>`),
// whole-process wall time:
//   start-up: `studio --data-dir EMPTY project list --json`, the second of two runs (the first
//     warms the OS file cache), goal ≤ 300 ms;
//   predict: `studio predict RUN` with 700 image paths on its command line (350 from each clip-art
//     dataset) on a run this bench trains (import both datasets, strategy head, a few epochs),
//     goal ≥ 100 images/s.
// Prints a table and one JSON line. Runs the bundle; builds it first when it is missing.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLIPART } from '../fixtures/datasets.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { bin: { studio: string } };
const BIN = path.join(ROOT, pkg.bin.studio);
const CLIPART_B = path.join(path.dirname(CLIPART), 'clipart-b');
const EPOCHS = process.env.BENCH_EPOCHS ?? '5';

if (!fs.existsSync(path.join(ROOT, 'dist/electron/host/cli.cjs'))) {
  console.log('building the CLI bundle (scripts/build-node.mjs)…');
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/build-node.mjs')], { cwd: ROOT, stdio: 'inherit' });
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cli-'));
const empty = path.join(tmp, 'empty');
const data = path.join(tmp, 'data');

// GNU time reports the CPU the whole process tree used: on a busy machine, wall time says more
// about the neighbours than about us, CPU time does not.
const GNU_TIME = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

/** Runs the CLI to its end; whole-process wall time (and CPU time where GNU time exists) in ms. Throws on a non-zero exit. */
function studio(args: string[]): { ms: number; cpuMs: number | null; stdout: string } {
  const cpuFile = path.join(tmp, 'cpu.txt');
  const [cmd, argv] = GNU_TIME
    ? [GNU_TIME, ['-f', '%U %S', '-o', cpuFile, process.execPath, BIN, ...args]]
    : [process.execPath, [BIN, ...args]];
  const t = performance.now();
  const r = spawnSync(cmd, argv, { cwd: tmp, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`studio ${args.slice(0, 4).join(' ')} … exited ${r.status ?? r.signal}: ${r.stderr}`);
  const cpu = GNU_TIME ? fs.readFileSync(cpuFile, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number) : null;
  return { ms, cpuMs: cpu ? Math.round((cpu[0]! + cpu[1]!) * 1000) : null, stdout: r.stdout };
}
const cpu = (r: { cpuMs: number | null }) => (r.cpuMs === null ? '' : `CPU ${r.cpuMs} ms`);

const lastJson = <T>(stdout: string) => JSON.parse(stdout.trimEnd().split('\n').at(-1)!) as T;

function imagesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.(jpe?g|png)$/i.test(e.name))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

try {
  // ---- start-up ----
  const list = ['--data-dir', empty, 'project', 'list', '--json'];
  const first = studio(list).ms;
  const secondRun = studio(list);
  const second = secondRun.ms;
  const more = Array.from({ length: 5 }, () => studio(list).ms).sort((a, b) => a - b);
  const median = more[2]!;

  // ---- a trained run, made through the CLI ----
  studio(['--data-dir', data, 'project', 'create', 'Bench']);
  const imported = lastJson<{ imported: number }>(studio(['--data-dir', data, '--json', 'import', 'Bench', CLIPART, CLIPART_B]).stdout);
  const trained = studio(['--data-dir', data, '--json', 'train', 'Bench', '--strategy', 'head', '--epochs', EPOCHS, '--seed', '1']);
  const run = lastJson<{ runId: number; metrics: { testAccuracy: number | null } }>(trained.stdout);

  // ---- predict, 700 paths on the command line ----
  // The first prediction of a run converts its model to ONNX once (checked against tfjs) and keeps
  // model.onnx beside it; timed on its own, so the 700-path figure is what every later call costs.
  const firstUse = studio(['--data-dir', data, 'predict', String(run.runId), imagesUnder(CLIPART)[0]!]).ms;
  const files = [...imagesUnder(CLIPART).slice(0, 350), ...imagesUnder(CLIPART_B).slice(0, 350)];
  const argvBytes = Buffer.byteLength(files.join(' '));
  const predicted = studio(['--data-dir', data, '--json', 'predict', String(run.runId), ...files]);
  const out = lastJson<{ predictions: { label?: string }[]; runtime: string }>(predicted.stdout);
  const labelled = out.predictions.filter((p) => p.label).length;
  const perSecond = files.length / (predicted.ms / 1000);

  const rows: [string, string, string][] = [
    ['project list, 1st run (cold)', `${first.toFixed(0)} ms`, ''],
    ['project list, 2nd run', `${second.toFixed(0)} ms`, `goal ≤ 300 ms: ${second <= 300 ? 'met' : 'MISSED'}; ${cpu(secondRun)}`],
    ['project list, median of 5 more', `${median.toFixed(0)} ms`, ''],
    [`import both datasets (${imported.imported} images)`, '', ''],
    [
      `train head, ${EPOCHS} epochs`,
      `${(trained.ms / 1000).toFixed(1)} s`,
      `test accuracy ${((run.metrics.testAccuracy ?? 0) * 100).toFixed(1)}%`,
    ],
    ['first predict of the run (1 image; converts to ONNX once)', `${(firstUse / 1000).toFixed(2)} s`, ''],
    [
      `predict ${files.length} paths (${(argvBytes / 1024).toFixed(0)} KB argv)`,
      `${(predicted.ms / 1000).toFixed(2)} s`,
      `${perSecond.toFixed(0)} images/s, goal ≥ 100: ${perSecond >= 100 ? 'met' : 'MISSED'} (${labelled} labelled, ${out.runtime}); ${cpu(predicted)}`,
    ],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  console.log(`node ${process.version}, ${os.availableParallelism()} cores, load average ${os.loadavg()[0]!.toFixed(2)}`);
  for (const [a, b, c] of rows) console.log(`${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`);
  console.log(
    JSON.stringify({
      bench: 'cli',
      startupMs: { first: Math.round(first), second: Math.round(second), median: Math.round(median), secondCpu: secondRun.cpuMs },
      predict: {
        images: files.length,
        labelled,
        ms: Math.round(predicted.ms),
        imagesPerSecond: Math.round(perSecond),
        runtime: out.runtime,
        cpuMs: predicted.cpuMs,
        firstUseMs: Math.round(firstUse),
      },
      loadAverage: os.loadavg()[0],
    }),
  );
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
