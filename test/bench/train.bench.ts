// npm run bench:train — clipart-8 with the built-in MobileNetV2 on this machine's engine:
//   strategy 3 from a cold feature cache and again warm (whole runs),
//   strategy 2 with the top block trainable (time per epoch, measured on a fixed number of steps
//   and extrapolated when an epoch would be long — said so in the output),
//   and the wizard's probe (one frozen pass, all probe points).
// The PyTorch side of issue #3's benchmark is test/bench/features_torch.py's job (not here).
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

const DATA = '/work/shared/datasets/clipart-8';
const STEPS = Number(process.env.BENCH_STEPS ?? 4);

const engine = await selectEngine();
console.log(`engine: ${engine.name} (backend ${engine.backend}); cores: ${os.availableParallelism()}`);
for (const t of engine.tried) console.log(`  ${t}`);

const labels = fs.readdirSync(DATA).sort();
const samples: Sample[] = [];
for (const [label, name] of labels.entries()) {
  const files = fs.readdirSync(path.join(DATA, name)).sort();
  files.forEach((f, i) => {
    let px: Promise<Uint8Array> | null = null;
    samples.push({
      key: `${name}/${f}`.padStart(8, '0'),
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

for (const label of ['cold', 'warm']) {
  const r = await time(() => runTraining({ base, samples, labels, config: defaultConfig('head', { featureLayer: 'out_relu' }), cache, engine, outDir: path.join(dir, `s3-${label}`) }));
  const epochMs = r.value.epochs.reduce((a, e) => a + e.ms, 0) / r.value.epochs.length;
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
base.model.dispose();
fs.rmSync(dir, { recursive: true, force: true });
