// The compute plan: settings parsed once with clear errors, every ONNX Runtime execution provider
// listed with why it was not used, and one decision for where a fine-tuning step runs — the same
// for the wizard's timing and the run, including when ONNX Runtime refuses the step graph.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { selectEngine, type EngineInfo } from '../../electron/core/engine/backend.js';
import { loadBaseFolder } from '../../electron/core/engine/base.js';
import { defaultConfig } from '../../electron/core/engine/config.js';
import { FeatureCache } from '../../electron/core/engine/feature-cache.js';
import { runTraining, type Sample } from '../../electron/core/engine/run.js';
import { measureSteps } from '../../electron/core/engine/step-timing.js';
import {
  COMPUTE_VARIABLES,
  ComputePlan,
  DEFAULT_COMPUTE_SETTINGS,
  readComputeSettings,
  stepWords,
  type ComputeSettings,
  type StepOpener,
} from '../../electron/core/engine/compute-plan.js';
import { providerTrials } from '../../native/onnx-runtime.js';
import { writeTinyBase, TINY_SIZE } from '../fixtures/tiny-base.js';

describe('readComputeSettings', () => {
  it('gives the defaults for an empty environment and reads each variable', () => {
    expect(readComputeSettings({})).toEqual(DEFAULT_COMPUTE_SETTINGS);
    expect(
      readComputeSettings({ STUDIO_ENGINE: 'portable-cpu', STUDIO_NATIVE_STEPS: '0', STUDIO_NATIVE_GEMM: '0', STUDIO_FROZEN: 'tfjs' }),
    ).toEqual({ engine: 'portable-cpu', nativeSteps: false, nativeGemm: false, frozen: 'tfjs' });
  });

  it('documents each variable it reads, and reads nothing else', () => {
    const seen: string[] = [];
    const env = new Proxy({} as Record<string, string | undefined>, { get: (_, k) => (seen.push(String(k)), undefined) });
    readComputeSettings(env);
    expect([...new Set(seen)].sort()).toEqual(Object.keys(COMPUTE_VARIABLES).sort());
  });

  it('refuses a value it does not understand, naming the choices', () => {
    expect(() => readComputeSettings({ STUDIO_ENGINE: 'gpu' })).toThrow(/STUDIO_ENGINE=gpu .*portable-wasm/);
    expect(() => readComputeSettings({ STUDIO_NATIVE_STEPS: 'no' })).toThrow(/STUDIO_NATIVE_STEPS=no .*0 or 1/);
    expect(() => readComputeSettings({ STUDIO_FROZEN: 'onnx' })).toThrow(/STUDIO_FROZEN=onnx .*tfjs or auto/);
  });
});

describe('execution providers', () => {
  it('lists CUDA, DirectML and CoreML as tried, each with why it cannot load, and CPU last', () => {
    const linux = providerTrials('linux');
    expect(linux.map((t) => t.provider)).toEqual(['cuda', 'dml', 'coreml', 'cpu']);
    expect(linux.at(-1)).toEqual({ provider: 'cpu', available: true, reason: null });
    expect(linux.find((t) => t.provider === 'dml')!.reason).toMatch(/not this OS.*Windows/);
    expect(linux.find((t) => t.provider === 'coreml')!.reason).toMatch(/not this OS.*macOS/);
    expect(providerTrials('darwin').find((t) => t.provider === 'cuda')!.reason).toMatch(/not this OS/);
    // onnxruntime-node's install script (which fetches the CUDA libraries) does not run here.
    if (process.platform === 'linux') expect(linux.find((t) => t.provider === 'cuda')!.reason).toBe('provider library not present');
  });
});

const DATA = '/work/shared/datasets/clipart-8';
let dir: string;
let baseDir: string;
let engine: EngineInfo;
const samples: Sample[] = [];
const labels = ['bird', 'vehicle'];

describe('one decision for the timing and the run', () => {
  beforeAll(async () => {
    engine = await selectEngine();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compute-plan-'));
    baseDir = await writeTinyBase(path.join(dir, 'base'));
    const { decodeForModel } = await import('../../electron/core/import/preprocess.js');
    for (const [label, name] of labels.entries()) {
      const files = fs.readdirSync(path.join(DATA, name)).sort().slice(0, 6);
      for (const [i, f] of files.entries()) {
        const { data } = await decodeForModel(fs.readFileSync(path.join(DATA, name, f)), TINY_SIZE);
        samples.push({
          key: `${name}-${f}`.padEnd(8, '0'),
          pixels: async () => data,
          label,
          split: i < 4 ? 'train' : i < 5 ? 'validation' : 'test',
        });
      }
    }
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Times the wizard's steps and trains strategy 2 at the same cut, each with its own plan of these settings. */
  async function timeAndRun(settings: ComputeSettings, openStep?: StepOpener) {
    const base = await loadBaseFolder(baseDir);
    try {
      const timing = await measureSteps(base, 'b2_out', 'b3_out', new ComputePlan(settings, engine, openStep));
      const out = await runTraining({
        base,
        samples,
        labels,
        config: defaultConfig('partial', { boundary: 'b2_out', featureLayer: 'b3_out', epochs: 1, warmupEpochs: 1, batchSize: 4 }),
        cache: new FeatureCache(path.join(dir, 'cache')),
        engine,
        plan: new ComputePlan(settings, engine, openStep),
        outDir: path.join(dir, `model-${Math.random().toString(36).slice(2)}`),
      });
      return { timing, backends: out.backends };
    } finally {
      base.model.dispose();
    }
  }

  /** The run record's fine-tuning words, as stepWords gives them for the timing. */
  const runWords = (b: Record<string, string>) =>
    stepWords({ words: b.finetune!, fallback: b.nativeSteps ? b.nativeSteps.replace(/^not used: /, '') : null });

  it('both run the step in ONNX Runtime when it opens, and the record lists every provider tried', async () => {
    const { timing, backends } = await timeAndRun(DEFAULT_COMPUTE_SETTINGS);
    expect(timing.where.partial).toMatch(/^ONNX Runtime: the whole training step natively/);
    expect(runWords(backends)).toBe(timing.where.partial);
    expect(backends.nativeSteps).toBeUndefined();
    expect(backends.onnxProviders).toMatch(/cpu used/);
    for (const p of ['cuda', 'dml', 'coreml']) expect(backends.onnxProviders).toMatch(new RegExp(`${p} not used: \\S`));
    // The step's own session went through the same order: each provider tried, and why not.
    expect(backends.stepProviders).toMatch(/cpu used$/);
    for (const p of ['cuda', 'dml', 'coreml']) expect(backends.stepProviders).toMatch(new RegExp(`${p} not used: \\S`));
  });

  it('a step graph ONNX Runtime refuses makes both fall back to tfjs, for the same reason', async () => {
    const refuse: StepOpener = async () => {
      throw new Error('ORT refused the graph: Type Error: type (tensor(double)) of output arg (y) does not match');
    };
    const { timing, backends } = await timeAndRun(DEFAULT_COMPUTE_SETTINGS, refuse);
    expect(timing.where.partial).toMatch(
      /^wasm, big matrix products in .* \(not in ONNX Runtime: ONNX Runtime could not open .*ORT refused/,
    );
    expect(timing.where.full).toBe(timing.where.partial);
    expect(timing.partial).toBeGreaterThan(0);
    expect(backends.nativeSteps).toMatch(/^not used: ONNX Runtime could not open the training step \(ORT refused/);
    expect(backends.stepProviders).toMatch(/cpu not used: ONNX Runtime could not open the training step \(ORT refused/);
    expect(runWords(backends)).toBe(timing.where.partial);
  });

  it('STUDIO_NATIVE_STEPS=0 keeps both in tfjs and says so', async () => {
    const { timing, backends } = await timeAndRun({ ...DEFAULT_COMPUTE_SETTINGS, nativeSteps: false });
    expect(backends.nativeSteps).toBe('not used: turned off (STUDIO_NATIVE_STEPS=0)');
    expect(runWords(backends)).toBe(timing.where.partial);
  });
});
