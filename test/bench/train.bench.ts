// npm run bench:train — clipart-8 with the built-in MobileNetV2 on this machine's engine:
//   strategy 3 from a cold feature cache and again warm (whole runs),
//   strategy 2 with the top block trainable (time per epoch, measured on a fixed number of steps
//   and extrapolated when an epoch would be long — said so in the output),
//   and the wizard's probe (one frozen pass, all probe points).
// Then the same work in PyTorch CPU (test/bench/train_torch.py, Debian's python3-torch, 2 threads)
// on the same training images, and the ratios.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { selectEngine } from '../../electron/core/engine/backend.js';
import { loadBaseFolder } from '../../electron/core/engine/base.js';
import { baseDir } from '../../electron/core/engine/bases/index.js';
import { defaultConfig } from '../../electron/core/engine/config.js';
import { FeatureCache } from '../../electron/core/engine/feature-cache.js';
import { runTraining, type Sample } from '../../electron/core/engine/run.js';
import { findTransitionPoint } from '../../electron/core/engine/transition.js';
import { decodeForModel } from '../../electron/core/import/preprocess.js';
import { CLIPART } from '../fixtures/datasets.js';

const DATA = CLIPART;
const STEPS = Number(process.env.BENCH_STEPS ?? 4);

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

const probe = await time(() => findTransitionPoint(base, samples, cache, { seed: 1 }));
console.log(`wizard probe (cold): ${(probe.ms / 1000).toFixed(1)} s, frozen pass ${probe.value.forwardMsPerImage.toFixed(1)} ms/image on ${probe.value.runtime}, best ${probe.value.best}`);

const ours: Record<string, number> = {};
for (const label of ['cold', 'warm']) {
  const r = await time(() => runTraining({ base, samples, labels, config: defaultConfig('head', { featureLayer: probe.value.best }), cache, engine, outDir: path.join(dir, `s3-${label}`) }));
  const epochMs = r.value.epochs.reduce((a, e) => a + e.ms, 0) / r.value.epochs.length;
  ours[`strategy3${label === 'cold' ? 'Cold' : 'Warm'}Ms`] = r.ms;
  ours.headEpochs = r.value.epochs.length;
  console.log(`strategy 3 (${label} cache, 2 augmented variants): ${(r.ms / 1000).toFixed(1)} s total, ${r.value.epochs.length} epochs, ${epochMs.toFixed(0)} ms/epoch, test accuracy ${r.value.metrics.testAccuracy?.toFixed(3)}, frozen ${r.value.backends.frozen}`);
}

// Strategy 2 with the top block trainable: cache the boundary activations, then time STEPS steps.
const batch = 16;
const stepsPerEpoch = Math.ceil(train / batch);
// Round-robin over labels, so every label has training images.
const byLabel = labels.map((_, c) => samples.filter((s) => s.split === 'train' && s.label === c));
const few: Sample[] = [];
for (let i = 0; few.length < batch * STEPS; i++) for (const list of byLabel) if (list[i] && few.length < batch * STEPS) few.push(list[i]!);
few.push(...labels.map((_, c) => samples.find((s) => s.split === 'validation' && s.label === c)!));
const r2 = await time(() =>
  runTraining({
    base,
    samples: few,
    labels,
    config: defaultConfig('partial', { boundary: 'block_15_add', epochs: 1, warmupEpochs: 0, batchSize: batch, augmentedVariants: 0 }),
    cache,
    engine,
    outDir: path.join(dir, 's2'),
  }),
);
const ft = r2.value.epochs.find((e) => e.phase === 'finetune')!;
const perStep = ft.ms / STEPS;
console.log(
  `strategy 2, block_16 + head trainable (boundary block_15_add), batch ${batch}: ${(perStep / 1000).toFixed(2)} s/step (${STEPS} steps timed incl. validation) → about ${((perStep * stepsPerEpoch) / 1000).toFixed(0)} s per epoch of ${train} images (extrapolated); backends ${JSON.stringify(r2.value.backends)}`,
);
ours.strategy2EpochMs = perStep * stepsPerEpoch;
base.model.dispose();
fs.rmSync(dir, { recursive: true, force: true });

// PyTorch CPU, same images (the training split), same architecture, same head epochs.
const python = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const items = samples.map((s) => `${fileOf.get(s.key)!}:${s.label}:${s.split}`);
const variants = defaultConfig('head', {}).augmentedVariants;
let torch: Record<string, number> | null = null;
try {
  const out = execFileSync(python, [path.join(import.meta.dirname, 'train_torch.py'), '2', String(ours.headEpochs), String(batch), String(labels.length), String(variants), ...items], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    cwd: import.meta.dirname,
    env: { OMP_WAIT_POLICY: 'PASSIVE', ...process.env, OMP_NUM_THREADS: '2', PYTHONPATH: import.meta.dirname },
  });
  torch = JSON.parse(out.trim().split('\n').pop()!) as Record<string, number>;
} catch (err) {
  console.log(`PyTorch side skipped (install Debian's python3-torch and python3-torchvision): ${(err as Error).message.split('\n')[0]}`);
}
if (torch) {
  const ratio = (a: number, b: number) => (a / b).toFixed(2);
  console.log(`PyTorch ${torch.torch} CPU, ${torch.threads} threads, ${torch.images} images (${torch.forwardPasses} frozen forward passes for strategy 3, like ours), ${torch.trainImages} to train:`);
  console.log(`  strategy 3 cold ${(torch.strategy3ColdMs! / 1000).toFixed(1)} s, warm ${(torch.strategy3WarmMs! / 1000).toFixed(1)} s (${torch.headEpochs} head epochs); strategy 2 epoch ${(torch.strategy2EpochMs! / 1000).toFixed(1)} s (${torch.strategy2Steps} steps, timed in full)`);
  console.log(`ratios (ours / PyTorch time; below 1 = we are faster):`);
  console.log(`  strategy 3 cold ${ratio(ours.strategy3ColdMs!, torch.strategy3ColdMs!)}, warm ${ratio(ours.strategy3WarmMs!, torch.strategy3WarmMs!)}, strategy 2 epoch ${ratio(ours.strategy2EpochMs!, torch.strategy2EpochMs!)}`);
  console.log(`cores: ours = frozen pass in ONNX Runtime on ${os.availableParallelism()} threads, training on ${engine.backend} (1 thread in Node); PyTorch = ${torch.threads} threads throughout`);
}
console.log(JSON.stringify({ bench: 'train', engine: engine.name, ours, torch }));
