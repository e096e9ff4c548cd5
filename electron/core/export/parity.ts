// The parity check of an export: the test split's image files go through each exported
// artefact's own loading and preprocessing, and the class probabilities are compared with the
// app's (app-predict.ts). ONNX runs through the bundled Node example's own code (imported from
// the bundle's copy), TF.js is loaded back from the bundle's tfjs/ folder on tfjs-wasm (tfjs-cpu
// only when wasm cannot start: the plain-JS backend takes ~2 s per image, wasm ~0.1 s).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { loadClassifierFolder } from '../engine/model-folder.js';
import { sha256File } from './manifest.js';

export const FLOAT_MAX_ABS_DIFF = 1e-4;

export type Artefact = 'onnx' | 'tfjs';

export interface ArtefactParity {
  artefact: Artefact;
  quantized: boolean;
  images: number;
  maxAbsDiff: number;
  /** Fraction of images whose top-1 label equals the app's. */
  agreement: number;
  /** Test accuracy of this artefact (null without labeled test images). */
  accuracy: number | null;
  passed: boolean;
  /** Why it failed, in words. */
  reason: string | null;
}

export interface ParityReport {
  images: number;
  appAccuracy: number | null;
  artefacts: ArtefactParity[];
  /** Worst over the artefacts. */
  maxAbsDiff: number;
  agreement: number;
  passed: boolean;
}

const argMax = (p: Float32Array) => p.reduce((best, v, i) => (v > p[best]! ? i : best), 0);

export function accuracyOf(probs: Float32Array[], truth: number[]): number | null {
  if (truth.length === 0) return null;
  return probs.filter((p, i) => argMax(p) === truth[i]).length / truth.length;
}

export function compare(app: Float32Array[], other: Float32Array[]): { maxAbsDiff: number; agreement: number } {
  if (app.length !== other.length) throw new Error(`parity: ${other.length} predictions for ${app.length} images`);
  let maxAbsDiff = 0;
  let agree = 0;
  app.forEach((a, i) => {
    const b = other[i]!;
    if (a.length !== b.length) throw new Error(`parity: ${b.length} classes instead of ${a.length}`);
    for (let k = 0; k < a.length; k++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a[k]! - b[k]!));
    if (argMax(a) === argMax(b)) agree++;
  });
  return { maxAbsDiff, agreement: app.length ? agree / app.length : 1 };
}

/**
 * Float artefacts must match the app (all top-1 labels, probabilities within 1e-4); a quantized
 * one must keep the accuracy it showed before saving (`minAccuracy`).
 */
export function judge(
  artefact: Artefact,
  quantized: boolean,
  app: Float32Array[],
  other: Float32Array[],
  truth: number[],
  minAccuracy: number | null,
  /** Largest probability difference a float artefact may show (less when the reference itself is rounded). */
  tolerance = FLOAT_MAX_ABS_DIFF,
): ArtefactParity {
  const { maxAbsDiff, agreement } = compare(app, other);
  const accuracy = accuracyOf(other, truth);
  let reason: string | null = null;
  if (!Number.isFinite(maxAbsDiff)) reason = 'produced non-finite probabilities';
  else if (!quantized) {
    if (agreement < 1)
      reason = `top-1 label differs from the app's on ${Math.round((1 - agreement) * app.length)} of ${app.length} test images`;
    else if (maxAbsDiff > tolerance)
      reason = `probabilities differ from the app's by up to ${maxAbsDiff.toExponential(2)} (allowed ${tolerance.toExponential(2)})`;
  } else if (minAccuracy !== null && accuracy !== null && accuracy < minAccuracy - 1e-9) {
    reason = `test accuracy ${(accuracy * 100).toFixed(1)}% is below the ${(minAccuracy * 100).toFixed(1)}% shown before export`;
  }
  return { artefact, quantized, images: app.length, maxAbsDiff, agreement, accuracy, passed: reason === null, reason };
}

export function summarise(artefacts: ArtefactParity[], appAccuracy: number | null, images: number): ParityReport {
  return {
    images,
    appAccuracy,
    artefacts,
    maxAbsDiff: artefacts.reduce((m, a) => Math.max(m, a.maxAbsDiff), 0),
    agreement: artefacts.reduce((m, a) => Math.min(m, a.agreement), 1),
    passed: artefacts.every((a) => a.passed),
  };
}

// ---- the bundled Node example, imported as shipped ----

export interface NodeExample {
  preprocess(input: string | Uint8Array, size: number): Promise<Uint8Array>;
  loadModel(dir: string): Promise<{ session: { release(): Promise<void> } }>;
  classify(model: unknown, inputs: string[], batchSize?: number): Promise<{ probabilities: Float32Array }[]>;
}

const require = createRequire(import.meta.url);

/** The app's node_modules, where the example's `sharp` and `onnxruntime-node` resolve from. */
export function appNodeModules(): string {
  return path.dirname(path.dirname(require.resolve('sharp/package.json')));
}

/**
 * Imports a Node example (the bundle's examples/node/classify.mjs). The bundle has no node_modules of its own, so
 * the file is imported from a scratch folder that links to the app's; its sha256 is checked
 * against the bundle's copy, so what runs is what ships.
 */
export async function withNodeExample<T>(source: string, use: (example: NodeExample) => Promise<T>): Promise<T> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-parity-'));
  const link = path.join(scratch, 'node_modules');
  try {
    fs.symlinkSync(appNodeModules(), link, 'junction');
    const copy = path.join(scratch, 'classify.mjs');
    fs.copyFileSync(source, copy);
    if (sha256File(copy) !== sha256File(source)) throw new Error('copy of the Node example differs from the bundle');
    // require() of an ES module (Node ≥ 20.19): the CLI's bundle runs under V8's code cache, where
    // a dynamic import() has no loader (bin/studio.mjs), and the example has no top-level await.
    const example = require(copy) as NodeExample;
    return await use(example);
  } finally {
    // Remove the link itself, never what it points to.
    try {
      fs.unlinkSync(link);
    } catch {
      try {
        fs.rmdirSync(link);
      } catch {
        /* never created */
      }
    }
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** The bundle's Node example, whose loading, preprocessing and inference the ONNX check runs (parity-run.ts). */
export function nodeExampleOf(bundleDir: string): string {
  return path.join(bundleDir, 'examples', 'node', 'classify.mjs');
}

/**
 * The backend the TF.js check runs on: wasm (SIMD), else the plain-JS cpu backend. Both run the
 * model in float32 as a browser would, so the thresholds are the same on either. The wasm
 * package is loaded here, on first use, not at import: registering it makes it the default of a
 * process that has not picked a backend yet, and the CLI would load tfjs for every command.
 */
async function parityBackend(prefer: 'wasm' | 'cpu' = 'wasm'): Promise<string> {
  if (prefer === 'wasm') {
    try {
      tf.getBackend(); // the process's own default is settled before wasm is registered
      if (!tf.findBackendFactory('wasm')) require('@tensorflow/tfjs-backend-wasm');
      if (await tf.setBackend('wasm')) {
        await tf.ready();
        return 'wasm';
      }
    } catch {
      /* no wasm binary here: the slow path below still checks */
    }
  }
  await tf.setBackend('cpu');
  await tf.ready();
  return 'cpu';
}

/**
 * Runs `use` with the parity backend in place (wasm, else cpu) and gives the process its own
 * backend back. A model with an op wasm lacks (some graph models) is run again on cpu: slower,
 * never unchecked.
 */
export async function onParityBackend<T>(use: (backend: string) => Promise<T>): Promise<T> {
  const previous = tf.getBackend();
  try {
    const backend = await parityBackend();
    try {
      return await use(backend);
    } catch (err) {
      if (backend === 'cpu' || !/kernel|not (registered|supported|implemented)/i.test(String(err))) throw err;
      return await use(await parityBackend('cpu'));
    }
  } finally {
    if (previous && tf.getBackend() !== previous) await tf.setBackend(previous);
  }
}

/** The bundle's tfjs/ model loaded back and run on tfjs-wasm (or cpu), fed by the Node example's preprocessing. */
export async function tfjsFromBundle(
  bundleDir: string,
  size: number,
  files: string[],
  exampleFile = nodeExampleOf(bundleDir),
  options: { batchSize?: number; onImages?: (done: number) => void } = {},
): Promise<{ probs: Float32Array[]; backend: string }> {
  const batchSize = options.batchSize ?? 8;
  return onParityBackend(async (backend) => {
    const model = await loadClassifierFolder(path.join(bundleDir, 'tfjs'));
    try {
      const probs = await withNodeExample(exampleFile, async (example) => {
        const out: Float32Array[] = [];
        for (let i = 0; i < files.length; i += batchSize) {
          const batch = files.slice(i, i + batchSize);
          const pixels = new Float32Array(batch.length * size * size * 3);
          for (let k = 0; k < batch.length; k++) pixels.set(await example.preprocess(batch[k]!, size), k * size * size * 3);
          const probs = tf.tidy(
            () => (model.predict(tf.tensor4d(pixels, [batch.length, size, size, 3])) as tf.Tensor).dataSync() as Float32Array,
          );
          const k = probs.length / batch.length;
          for (let j = 0; j < batch.length; j++) out.push(probs.slice(j * k, (j + 1) * k));
          options.onImages?.(out.length);
          await new Promise<void>((r) => setImmediate(r));
        }
        return out;
      });
      return { probs, backend };
    } finally {
      model.dispose();
    }
  });
}
