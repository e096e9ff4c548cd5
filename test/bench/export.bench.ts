// npm run bench:export — how long a bundle export of a default clipart-8 run takes, phase by phase.
// In a fresh data folder: import clipart-8, train with the wizard's default (seed 1, as
// `studio train` does), then export the run as a bundle (every part) and time each phase. Goal
// (issue 18): the whole export within 15 s on this kind of machine, with the parity check as strict.
//   EXPORT_DATA_DIR=DIR EXPORT_RUN=N   export run N of an existing data folder instead (no training;
//                                      the folder is kept). EXPORT_KEEP=1 keeps the fresh one.
//   EXPORT_REPEAT=2                    export that many times (the first pays any one-off work)
// Prints each phase's seconds, the total, the parity numbers and the machine's load, then one JSON line.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Studio } from '../../electron/core/studio.js';
import { exportRun } from '../../electron/core/export/bundle.js';
import { testEnvironment } from '../fixtures/environment.js';
import { CLIPART } from '../fixtures/datasets.js';

const reuse = process.env.EXPORT_DATA_DIR;
const dataDir = reuse ?? fs.mkdtempSync(path.join(os.tmpdir(), 'studio-export-bench-'));
const keep = !!reuse || process.env.EXPORT_KEEP === '1';
const repeat = Math.max(1, Number(process.env.EXPORT_REPEAT ?? 1));
const studio = new Studio({ environment: testEnvironment(dataDir), host: 'cli' });
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

interface Measured {
  totalS: number;
  /** CPU seconds of this process over the export. */
  cpuS: number;
  phases: { phase: string; s: number; cpuS: number }[];
  /** The export's own clock (ExportResult.timings: parts of the check, the record's fallback). */
  clock: { phase: string; s: number }[];
  tfjsBackend: string | null;
  parity: { images: number; maxAbsDiff: number; agreement: number; reference?: string } | null;
  bytes: number | null;
  zipBytes: number | null;
  loadBefore: string;
  loadAfter: string;
}
const results: Measured[] = [];
let trainS: number | null = null;
let runId = Number(process.env.EXPORT_RUN ?? 0);
try {
  if (!reuse) {
    const { id: projectId } = await studio.call('projects.create', { name: 'clipart-8' });
    await studio.importPaths(projectId, { paths: [CLIPART], displayName: 'clipart-8' }, true);
    const t0 = performance.now();
    const finished = new Promise<void>((resolve) => {
      const off = studio.bus.subscribe((name, payload) => {
        if (name === 'training.finished' && (payload as { runId: number }).runId === runId) {
          off();
          resolve();
        }
      });
    });
    ({ runId } = await studio.call('training.start', { projectId, overrides: { seed: 1 } }));
    await finished;
    trainS = (performance.now() - t0) / 1000;
    const run = await studio.call('runs.get', { runId });
    if (run.status !== 'done') throw new Error(`run ${runId} ended ${run.status}: ${run.error}`);
    console.log(`trained run ${runId} (${run.baseId}, ${run.strategy}) in ${trainS.toFixed(1)} s; data folder ${dataDir}`);
  }
  for (let r = 0; r < repeat; r++) {
    const out = path.join(dataDir, `bench-out-${Date.now()}`);
    // Phases as the progress reports them, the parity phase split by what it says it is checking;
    // with this process's CPU time (every thread: TF.js workers, ONNX Runtime's, libuv's), which
    // says what the phase costs on a busy machine better than its wall time does.
    const marks: { phase: string; at: number; cpu: number }[] = [];
    const cpu = () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1e3;
    };
    const mark = (phase: string) => {
      if (marks.at(-1)?.phase !== phase) marks.push({ phase, at: performance.now(), cpu: cpu() });
    };
    const loadBefore = load();
    const t0 = performance.now();
    const result = await exportRun(
      { ...studio.environment, db: studio.db },
      {
        runId,
        outDir: out,
        onProgress: (phase, _done, _total, tick) => {
          const d = tick?.detail ?? '';
          mark(
            phase === 'checking parity' && /for apps/.test(d)
              ? 'checking parity: ONNX'
              : phase === 'checking parity' && /for websites/.test(d)
                ? 'checking parity: TF.js'
                : phase,
          );
        },
      },
    );
    const end = performance.now();
    const totalS = (end - t0) / 1000;
    if (result.row.status !== 'done') throw new Error(`export ${result.row.id} ended ${result.row.status}: ${result.row.error}`);
    const endCpu = cpu();
    const phases = marks
      .map((m, i) => ({ phase: m.phase, ms: (marks[i + 1]?.at ?? end) - m.at, cpuMs: (marks[i + 1]?.cpu ?? endCpu) - m.cpu }))
      .filter((p) => p.phase !== 'done');
    const cpuS = (endCpu - (marks[0]?.cpu ?? endCpu)) / 1000;
    const measured: Measured = {
      totalS,
      phases: phases.map((p) => ({ phase: p.phase, s: Math.round(p.ms) / 1000, cpuS: Math.round(p.cpuMs) / 1000 })),
      cpuS,
      clock: (result.timings ?? []).map((t) => ({ phase: t.phase, s: Math.round(t.ms) / 1000 })),
      tfjsBackend: result.tfjsBackend ?? null,
      parity: result.parity && {
        images: result.parity.images,
        maxAbsDiff: result.parity.maxAbsDiff,
        agreement: result.parity.agreement,
        ...(result.reference ? { reference: result.reference } : {}),
      },
      bytes: result.row.bytes,
      zipBytes: result.row.zipPath ? fs.statSync(result.row.zipPath).size : null,
      loadBefore,
      loadAfter: load(),
    };
    results.push(measured);
    console.log(`export ${r + 1} of ${repeat} (run ${runId}):`);
    for (const p of measured.phases)
      console.log(`  ${p.phase.padEnd(36)} ${p.s.toFixed(1).padStart(6)} s   cpu ${p.cpuS.toFixed(1).padStart(6)} s`);
    console.log(`  ${'total'.padEnd(36)} ${totalS.toFixed(1).padStart(6)} s   cpu ${cpuS.toFixed(1).padStart(6)} s`);
    for (const c of measured.clock) console.log(`    (export's clock) ${c.phase.padEnd(48)} ${c.s.toFixed(1).padStart(6)} s`);
    if (measured.tfjsBackend) console.log(`  TF.js check on ${measured.tfjsBackend}`);
    console.log(
      `  parity: ${measured.parity?.images} pictures, agreement ${measured.parity?.agreement}, max |Δp| ${measured.parity?.maxAbsDiff.toExponential(2)}` +
        `${measured.parity?.reference ? `, against ${measured.parity.reference}` : ''}; folder ${((measured.bytes ?? 0) / 1e6).toFixed(0)} MB, zip ${((measured.zipBytes ?? 0) / 1e6).toFixed(0)} MB`,
    );
    console.log(`  load average before ${loadBefore}, after ${measured.loadAfter} (${os.cpus().length} cores)`);
    fs.rmSync(out, { recursive: true, force: true });
    if (result.row.zipPath) fs.rmSync(result.row.zipPath, { force: true });
  }
} finally {
  studio.close();
  if (!keep) fs.rmSync(dataDir, { recursive: true, force: true });
}
console.log(JSON.stringify({ bench: 'export', runId, trainS, cores: os.cpus().length, exports: results }));
