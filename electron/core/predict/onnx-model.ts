// A run's classifier as ONNX, converted once and kept as model.onnx in the run's model folder.
// The first conversion is checked against tfjs (the reference) before it is kept; the outcome,
// good or bad, is recorded in model.onnx.json so a model that cannot convert is not retried on
// every start, and the reason stays visible.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { convertToOnnxDetailed, runBatch, UnsupportedLayerError } from '../engine/onnx/index.js';
import { isGraphModelFolder, loadModelFolder, type ClassifierModel } from '../engine/model-folder.js';
import { createOnnxSession, type OnnxSession, type SessionOptions } from '../../../native/onnx-runtime.js';

export const ONNX_FILE = 'model.onnx';
export const ONNX_STATUS_FILE = 'model.onnx.json';
/** Why a run on a graph-model base has no ONNX form: the converter (engine/onnx) reads tfjs layers models only. */
export const GRAPH_NOT_ONNX = 'its base is a TensorFlow graph model, and the ONNX converter reads layers models only';
/** Bump when the converter's output changes, so cached files are redone. */
const CONVERSION_VERSION = 1;

export interface OnnxStatus {
  version: number;
  /** model.json's mtime and size when converted: a re-saved model is converted again. */
  source: { mtimeMs: number; bytes: number };
  ok: boolean;
  /** Why the model runs in tfjs instead (when !ok), in words fit for the UI. */
  reason?: string;
  parity?: { maxDiff: number; tolerance: number; images: number };
}

export type OnnxOutcome =
  { kind: 'onnx'; session: OnnxSession; parity: OnnxStatus['parity'] } | { kind: 'tfjs'; reason: string; model: ClassifierModel | null };

function sourceOf(folder: string): OnnxStatus['source'] {
  const st = fs.statSync(path.join(folder, 'model.json'));
  return { mtimeMs: Math.floor(st.mtimeMs), bytes: st.size };
}

function readStatus(folder: string): OnnxStatus | null {
  try {
    const s = JSON.parse(fs.readFileSync(path.join(folder, ONNX_STATUS_FILE), 'utf8')) as OnnxStatus;
    const src = sourceOf(folder);
    if (s.version !== CONVERSION_VERSION || s.source.mtimeMs !== src.mtimeMs || s.source.bytes !== src.bytes) return null;
    if (s.ok && !fs.existsSync(path.join(folder, ONNX_FILE))) return null;
    return s;
  } catch {
    return null;
  }
}

function writeAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

/** Deterministic test inputs: seeded noise (every pixel differs) and a colour ramp (smooth, like a photo). */
export function parityImages(size: number): Uint8Array[] {
  let s = 0x9e3779b9;
  const noise = new Uint8Array(size * size * 3).map(() => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s >>> 24;
  });
  const ramp = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const o = (y * size + x) * 3;
      ramp[o] = Math.round((255 * x) / (size - 1));
      ramp[o + 1] = Math.round((255 * y) / (size - 1));
      ramp[o + 2] = 128;
    }
  return [noise, ramp];
}

/** tfjs's output for pixels given as uint8 (the model takes float32 0..255 and scales inside). */
export function tfjsPredict(model: ClassifierModel, pixels: Uint8Array[], size: number): Float32Array {
  const per = size * size * 3;
  const buf = new Float32Array(pixels.length * per);
  pixels.forEach((p, i) => buf.set(p, i * per));
  return tf.tidy(() => (model.predict(tf.tensor4d(buf, [pixels.length, size, size, 3])) as tf.Tensor).dataSync() as Float32Array);
}

/** max|a−b| and the tolerance the project uses everywhere: 1e-4 × max(1, max|reference|). */
export function compareOutputs(got: Float32Array, reference: Float32Array): { maxDiff: number; tolerance: number } {
  let maxDiff = got.length === reference.length ? 0 : Infinity;
  let maxRef = 0;
  for (let i = 0; i < reference.length; i++) {
    const d = Math.abs(got[i]! - reference[i]!);
    maxDiff = Math.max(maxDiff, Number.isNaN(d) ? Infinity : d);
    maxRef = Math.max(maxRef, Math.abs(reference[i]!));
  }
  return { maxDiff, tolerance: 1e-4 * Math.max(1, maxRef) };
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}

/**
 * The run's model in ONNX Runtime, or why it has to stay in tfjs. Converts and checks parity on
 * the first call for a model folder; later calls only open model.onnx.
 */
export async function openOnnx(folder: string, inputSize: number, sessionOptions: SessionOptions = {}): Promise<OnnxOutcome> {
  if (isGraphModelFolder(folder)) return { kind: 'tfjs', reason: GRAPH_NOT_ONNX, model: null };
  const file = path.join(folder, ONNX_FILE);
  const status = readStatus(folder);
  if (status && !status.ok) return { kind: 'tfjs', reason: status.reason ?? 'not convertible to ONNX', model: null };
  if (status?.ok) {
    try {
      return { kind: 'onnx', session: await createOnnxSession(file, sessionOptions), parity: status.parity };
    } catch {
      // A damaged cache file: convert again below.
      fs.rmSync(file, { force: true });
    }
  }

  const source = sourceOf(folder);
  const model = await loadModelFolder(folder);
  const record = (s: Omit<OnnxStatus, 'version' | 'source'>) =>
    writeAtomic(path.join(folder, ONNX_STATUS_FILE), JSON.stringify({ version: CONVERSION_VERSION, source, ...s }, null, 2));
  let bytes: Uint8Array;
  try {
    // The saved classifier takes float pixels 0..255 and scales inside (its Rescaling layer), so the ONNX input adds no scaling.
    bytes = convertToOnnxDetailed(model, { inputScaling: { from: [0, 255], to: [0, 255] } }).bytes;
  } catch (err) {
    const reason =
      err instanceof UnsupportedLayerError
        ? `${err.layerName} (${err.className}) not convertible`
        : `ONNX conversion failed: ${firstLine(err)}`;
    record({ ok: false, reason });
    return { kind: 'tfjs', reason, model };
  }
  let session: OnnxSession;
  try {
    session = await createOnnxSession(bytes, sessionOptions);
  } catch (err) {
    // Not recorded: ONNX Runtime itself may be what is broken on this machine, not the model.
    return { kind: 'tfjs', reason: `ONNX Runtime could not load the model: ${firstLine(err)}`, model };
  }
  const images = parityImages(inputSize);
  const reference = tfjsPredict(model, images, inputSize);
  const out = await runBatch(session.session, images, [inputSize, inputSize, 3]);
  const got = out[session.session.outputNames[0]!]!.data;
  const parity = { ...compareOutputs(got, reference), images: images.length };
  if (!(parity.maxDiff <= parity.tolerance)) {
    await session.session.release();
    const reason = `ONNX output differs from tfjs by ${parity.maxDiff.toExponential(2)} (tolerance ${parity.tolerance.toExponential(1)})`;
    record({ ok: false, reason, parity });
    return { kind: 'tfjs', reason, model };
  }
  writeAtomic(file, bytes);
  record({ ok: true, parity });
  model.dispose();
  return { kind: 'onnx', session, parity };
}
