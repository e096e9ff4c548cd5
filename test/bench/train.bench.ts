// npm run bench:train — clipart-8 with the built-in MobileNetV2 on this machine's engine:
//   the wizard's probe (one frozen pass, all probe points),
//   strategy 3 from a cold feature cache and again warm (whole runs),
//   and the fine-tuning table: time per epoch of strategy 2 (top block trainable) and
//   strategy 1 at 160 and 224 px, on stock tfjs-cpu, on tfjs-wasm with our kernels, and in
//   PyTorch — each engine row in its own process (test/bench/train-epoch.ts); a row whose epoch
//   would take over 5 minutes is timed on a short step and extrapolated, as its line says.
// PyTorch CPU (test/bench/train_torch.py, Debian's python3-torch, 2 threads) does the same work
// on the same training images. Every row reports the cores it kept busy (CPU time / wall time).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { selectEngine } from '../../electron/core/engine/backend.js';
import { gradientMatMulRuntime } from '../../electron/core/engine/kernels/wasm-grads.js';
import { loadBaseFolder } from '../../electron/core/engine/base.js';
import { baseDir } from '../fixtures/environment.js';
import { defaultConfig } from '../../electron/core/engine/config.js';
import { FeatureCache } from '../../electron/core/engine/feature-cache.js';
import { runTraining, type Sample } from '../../electron/core/engine/run.js';
import { findTransitionPoint } from '../../electron/core/engine/transition.js';
import { decodeForModel } from '../../electron/core/import/preprocess.js';
import { CLIPART } from '../fixtures/datasets.js';

const DATA = CLIPART;

const engine = await selectEngine();
console.log(`engine: ${engine.name} (backend ${engine.backend}); cores: ${os.availableParallelism()}`);
for (const t of engine.tried) console.log(`  ${t}`);

const labels = fs.readdirSync(DATA).sort();
const samples: Sample[] = [];
const fileOf = new Map<string, string>();
for (const [label, name] of labels.entries()) {
  const files = fs.readdirSync(path.join(DATA, name)).sort();
  files.forEach((f, i) => {
    let px: Promise<Uint8Array> | null = null;
    const key = `${name}/${f}`.padStart(8, '0');
    fileOf.set(key, path.join(DATA, name, f));
    samples.push({
      key,
      label,
      split: i % 7 === 5 ? 'validation' : i % 7 === 6 ? 'test' : 'train',
      pixels: () => (px ??= decodeForModel(fs.readFileSync(path.join(DATA, name, f)), 224).then((d) => d.data)),
    });
  });
}
const train = samples.filter((s) => s.split === 'train').length;
console.log(`clipart-8: ${samples.length} images, ${train} train`);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-train-'));
const cache = new FeatureCache(path.join(dir, 'cache'));
const base = await loadBaseFolder(baseDir('mobilenet_v2'));
const time = async <T>(f: () => Promise<T>) => {
  const t = performance.now();
  const value = await f();
  return { value, ms: performance.now() - t };
};

// BENCH_FINETUNE_ONLY=1: the fine-tuning table alone (no probe, no strategy 3 on our side), for
// comparing the step's engine with PyTorch when the machine is busy and a whole run takes long.
const ours: Record<string, number> = { headEpochs: 1 };
if (process.env.BENCH_FINETUNE_ONLY !== '1') {
  const probe = await time(() => findTransitionPoint(base, samples, cache, { seed: 1 }));
  console.log(
    `wizard probe (cold): ${(probe.ms / 1000).toFixed(1)} s, frozen pass ${probe.value.forwardMsPerImage.toFixed(1)} ms/image on ${probe.value.runtime}, best ${probe.value.best}`,
  );

  for (const label of ['cold', 'warm']) {
    const r = await time(() =>
      runTraining({
        base,
        samples,
        labels,
        config: defaultConfig('head', { featureLayer: probe.value.best }),
        cache,
        engine,
        outDir: path.join(dir, `s3-${label}`),
      }),
    );
    const epochMs = r.value.epochs.reduce((a, e) => a + e.ms, 0) / r.value.epochs.length;
    ours[`strategy3${label === 'cold' ? 'Cold' : 'Warm'}Ms`] = r.ms;
    ours.headEpochs = r.value.epochs.length;
    console.log(
      `strategy 3 (${label} cache, 2 augmented variants): ${(r.ms / 1000).toFixed(1)} s total, ${r.value.epochs.length} epochs, ${epochMs.toFixed(0)} ms/epoch, test accuracy ${r.value.metrics.testAccuracy?.toFixed(3)}, frozen ${r.value.backends.frozen}`,
    );
  }
}

base.model.dispose();
fs.rmSync(dir, { recursive: true, force: true });

// Fine-tuning: one process per row, so the stock tfjs-cpu row has none of our kernels.
interface EpochRow {
  engine: string;
  workload: string;
  size: number;
  epochMs: number;
  msPerStep: number;
  microBatch: number;
  cores: number;
  rssMB: { afterStep3: number; afterLastStep: number; peak: number };
  timed: string;
  extrapolated: boolean;
}
const rows: EpochRow[] = [];
const only = process.env.BENCH_ROWS?.split(',');
// BENCH_COMPARE_WITH=DIR: each row also from another checkout of this repository (its own
// train-epoch.ts, e.g. the commit before a change), right after ours, under the same load.
const other = process.env.BENCH_COMPARE_WITH;
const compared: (EpochRow & { checkout: string })[] = [];
const epochRow = (root: string, which: string, workload: string, size: number): EpochRow => {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'test', 'bench', 'train-epoch.ts'), which, workload, String(size)],
    { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'ignore'], cwd: root },
  );
  return JSON.parse(out.trim().split('\n').pop()!) as EpochRow;
};
const words = (row: EpochRow) =>
  `${(row.epochMs / 1000).toFixed(1)} s per epoch (${(row.msPerStep / 1000).toFixed(2)} s/step, micro-batch ${row.microBatch}, ${row.cores.toFixed(2)} cores busy, resident memory ${row.rssMB.afterStep3 ? `${row.rssMB.afterStep3} MB after step 3, ` : ''}${row.rssMB.afterLastStep} MB after the last step, ${row.rssMB.peak} MB peak; timed ${row.timed})`;
for (const [workload, size] of [
  ['partial', 224],
  ['full', 160],
  ['full', 224],
] as const) {
  for (const which of ['cpu-stock', 'wasm', 'native'] as const) {
    const name = `${which}/${workload}/${size}`;
    if (only && !only.includes(name)) continue;
    try {
      const row = epochRow(path.join(import.meta.dirname, '..', '..'), which, workload, size);
      rows.push(row);
      console.log(`${name}: ${words(row)}`);
    } catch (err) {
      console.log(`${name}: failed (${(err as Error).message.split('\n')[0]})`);
    }
    if (!other) continue;
    try {
      const row = epochRow(other, which, workload, size);
      compared.push({ ...row, checkout: other });
      console.log(`${name} in ${other}: ${words(row)}`);
    } catch (err) {
      console.log(`${name} in ${other}: failed (${(err as Error).message.split('\n')[0]})`);
    }
  }
}

// PyTorch CPU, same images (the training split), same architecture, same head epochs.
const batch = 16;
const python = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const items = samples.map((s) => `${fileOf.get(s.key)!}:${s.label}:${s.split}`);
const variants = defaultConfig('head', {}).augmentedVariants;
interface Torch {
  torch: string;
  threads: number;
  images: number;
  trainImages: number;
  forwardPasses: number;
  strategy3ColdMs: number;
  strategy3WarmMs: number;
  headEpochs: number;
  strategy2EpochMs: number;
  strategy2Cores: number;
  strategy2Steps: number;
  strategy1: Record<string, { epochMs: number; cores: number }>;
}
let torch: Torch | null = null;
try {
  const out = execFileSync(
    python,
    [
      path.join(import.meta.dirname, 'train_torch.py'),
      '2',
      String(ours.headEpochs),
      String(batch),
      String(labels.length),
      String(variants),
      // Strategy 1 only at the sizes of the rows asked for (PyTorch's epoch at 224 px is its longest part).
      [160, 224].filter((size) => !only || only.some((r) => r.endsWith(`/full/${size}`))).join(',') || '160',
      ...items,
    ],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
      cwd: import.meta.dirname,
      env: { OMP_WAIT_POLICY: 'PASSIVE', ...process.env, OMP_NUM_THREADS: '2', PYTHONPATH: import.meta.dirname },
    },
  );
  torch = JSON.parse(out.trim().split('\n').pop()!) as Torch;
} catch (err) {
  console.log(`PyTorch side skipped (install Debian's python3-torch and python3-torchvision): ${(err as Error).message.split('\n')[0]}`);
}
if (torch) {
  const ratio = (a: number, b: number) => (a / b).toFixed(2);
  console.log(
    `PyTorch ${torch.torch} CPU, ${torch.threads} threads, ${torch.images} images (${torch.forwardPasses} frozen forward passes for strategy 3, like ours), ${torch.trainImages} to train:`,
  );
  console.log(
    `  strategy 3 cold ${(torch.strategy3ColdMs / 1000).toFixed(1)} s, warm ${(torch.strategy3WarmMs / 1000).toFixed(1)} s (${torch.headEpochs} head epochs)`,
  );
  if (ours.strategy3ColdMs)
    console.log(
      `  strategy 3 ratios (ours / PyTorch time; below 1 = we are faster): cold ${ratio(ours.strategy3ColdMs, torch.strategy3ColdMs)}, warm ${ratio(ours.strategy3WarmMs!, torch.strategy3WarmMs)}`,
    );
}
// The fine-tuning table: seconds per epoch, peak resident memory of the row's own process, and each row's time over PyTorch's.
const torchRow = (workload: string, size: number) =>
  !torch
    ? null
    : workload === 'partial'
      ? { epochMs: torch.strategy2EpochMs, cores: torch.strategy2Cores }
      : (torch.strategy1[String(size)] ?? null);
console.log(
  `\nfine-tuning, one epoch of ${samples.filter((s) => s.split === 'train').length} images, batch ${batch} (goals: strategy 2 ≤ 1.0× PyTorch and peak ≤ 1 GB, strategy 1 ≤ 1.5× and at 224 px peak ≤ 1.5 GB; times move with the machine's load, so compare ratios within one run):`,
);
// The CPU-time ratio (seconds × cores busy) moves less than the wall-time ratio when other work shares the cores.
console.log(
  '| work | stock tfjs-cpu | tfjs-wasm + our kernels | ours: step in ONNX Runtime | PyTorch CPU | ours / PyTorch | same, CPU time |',
);
console.log('|---|---|---|---|---|---|---|');
for (const [workload, size, label] of [
  ['partial', 224, 'strategy 2, top block'],
  ['full', 160, 'strategy 1, 160 px'],
  ['full', 224, 'strategy 1, 224 px'],
] as const) {
  const cell = (r: EpochRow | undefined) =>
    r
      ? `${(r.epochMs / 1000).toFixed(1)} s${r.extrapolated ? ' (extrapolated)' : ''}, ${r.cores.toFixed(1)} cores, peak ${r.rssMB.peak} MB`
      : '—';
  const cpu = rows.find((r) => r.engine === 'cpu-stock' && r.workload === workload && r.size === size);
  const wasm = rows.find((r) => r.engine === 'wasm' && r.workload === workload && r.size === size);
  const native = rows.find((r) => r.engine === 'native' && r.workload === workload && r.size === size);
  const t = torchRow(workload, size);
  console.log(
    `| ${label} | ${cell(cpu)} | ${cell(wasm)} | ${cell(native)} | ${t ? `${(t.epochMs / 1000).toFixed(1)} s, ${t.cores.toFixed(1)} cores` : '—'} | ${native && t ? ratio2(native.epochMs, t.epochMs) : '—'} | ${native && t ? ratio2(native.epochMs * native.cores, t.epochMs * t.cores) : '—'} |`,
  );
}
console.log(
  `cores: ${os.availableParallelism()} on this machine. Ours: the frozen pass runs in ONNX Runtime on ${os.availableParallelism()} threads (the wizard's probe, strategy 3's features, strategy 2's cached activations), and so does the whole fine-tuning step — forward, head, loss and every gradient as one ONNX graph (ort-train/) — while tfjs keeps the weights; their Adam update runs on plain arrays (ort-train/array-adam.ts). The tfjs-wasm column is the fallback for a network ONNX Runtime does not cover: one thread in Node, big matrix products handed to ${gradientMatMulRuntime()}. PyTorch: ${torch?.threads ?? 2} threads throughout.`,
);
for (const r of compared) {
  const t = torchRow(r.workload, r.size);
  console.log(
    `compared, ${r.engine}/${r.workload}/${r.size} in ${r.checkout}: ${(r.epochMs / 1000).toFixed(1)} s, ${r.cores.toFixed(1)} cores, peak ${r.rssMB.peak} MB${t ? `; over PyTorch ${ratio2(r.epochMs, t.epochMs)}, CPU time ${ratio2(r.epochMs * r.cores, t.epochMs * t.cores)}` : ''}`,
  );
}
console.log(JSON.stringify({ bench: 'train', engine: engine.name, ours, fineTuning: rows, torch, ...(other ? { compared } : {}) }));

function ratio2(a: number, b: number): string {
  return `${(a / b).toFixed(2)}×`;
}
