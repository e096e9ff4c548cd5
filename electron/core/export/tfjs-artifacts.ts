// The TF.js layers model of an export, taken byte for byte from the run's model folder (no
// reload, no re-save: the float export is the trained model itself), optionally with uint8
// weight quantization the way tfjs-converter writes it: per tensor, q = round((w − min) / scale),
// recorded as a `quantization: {dtype: 'uint8', min, scale}` manifest entry that every tfjs
// loader dequantizes as min + q·scale.
import fs from 'node:fs';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';

export const TFJS_WEIGHTS_FILE = 'group1-shard1of1.bin';

/** Tensors smaller than this stay float: biases and BatchNorm statistics are a rounding error in size but not in accuracy. */
export const MIN_QUANTIZED_ELEMENTS = 1024;

export interface TfjsArtifacts {
  modelTopology: object;
  weightSpecs: tf.io.WeightsManifestEntry[];
  weightData: Buffer;
  quantized: boolean;
  /** 'graph-model' for a run on a graph-model base (engine/graph-classifier.ts); layers otherwise. */
  format?: 'layers-model' | 'graph-model';
}

interface ModelJson {
  format?: string;
  modelTopology?: object;
  weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, uint8: 1, uint16: 2, float16: 2, bool: 1 };

function elements(spec: tf.io.WeightsManifestEntry): number {
  return spec.shape.reduce((a, b) => a * b, 1);
}

function specBytes(spec: tf.io.WeightsManifestEntry): number {
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  const size = BYTES[dtype];
  if (size === undefined || dtype === 'string') throw new Error(`weight ${spec.name} has dtype ${dtype}, which an export cannot carry`);
  return elements(spec) * size;
}

export function readTfjsFolder(dir: string): TfjsArtifacts {
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as ModelJson;
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) throw new Error(`${dir}/model.json is not a tfjs layers model`);
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) buffers.push(fs.readFileSync(path.join(dir, p)));
  }
  const weightData = Buffer.concat(buffers);
  const expected = specs.reduce((s, w) => s + specBytes(w), 0);
  if (expected !== weightData.length)
    throw new Error(`${dir}: weights hold ${weightData.length} bytes, the manifest describes ${expected}`);
  return {
    modelTopology: json.modelTopology,
    weightSpecs: specs,
    weightData,
    quantized: specs.some((s) => s.quantization),
    format: json.format === 'graph-model' ? 'graph-model' : 'layers-model',
  };
}

/** uint8 per-tensor affine quantization of the float32 weights (see MIN_QUANTIZED_ELEMENTS). */
export function quantizeUint8(a: TfjsArtifacts): TfjsArtifacts {
  const specs: tf.io.WeightsManifestEntry[] = [];
  const parts: Buffer[] = [];
  let offset = 0;
  for (const spec of a.weightSpecs) {
    const n = specBytes(spec);
    const raw = a.weightData.subarray(offset, offset + n);
    offset += n;
    if (spec.dtype !== 'float32' || spec.quantization || elements(spec) < MIN_QUANTIZED_ELEMENTS) {
      specs.push(spec);
      parts.push(raw);
      continue;
    }
    const values = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    let min = Infinity;
    let max = -Infinity;
    for (const v of values) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    // Stored as float32 in JSON-readable form: round min and scale to float32 first so the
    // dequantized values a loader computes are exactly the ones measured here.
    min = Math.fround(min);
    const scale = max > min ? Math.fround((max - min) / 255) : 1;
    const q = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) q[i] = Math.max(0, Math.min(255, Math.round((values[i]! - min) / scale)));
    specs.push({ ...spec, quantization: { dtype: 'uint8', min, scale } });
    parts.push(Buffer.from(q.buffer));
  }
  return { modelTopology: a.modelTopology, weightSpecs: specs, weightData: Buffer.concat(parts), quantized: true, format: a.format };
}

export function modelJson(a: TfjsArtifacts, weightsFile = TFJS_WEIGHTS_FILE): object {
  return {
    format: a.format ?? 'layers-model',
    generatedBy: 'Transfer Studio',
    convertedBy: 'Transfer Studio export',
    modelTopology: a.modelTopology,
    weightsManifest: [{ paths: [weightsFile], weights: a.weightSpecs }],
  };
}

/** model.json + one weights file, the layout `tf.loadLayersModel('…/model.json')` (or tf.loadGraphModel for a graph model) reads. */
export function writeTfjsFolder(dir: string, a: TfjsArtifacts): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, TFJS_WEIGHTS_FILE), a.weightData);
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(modelJson(a)));
}

/**
 * A classic script that sets `window.<name>` to `{modelJson, weightsBase64, ...extra}`: the same
 * bytes as `JSON.stringify` of that object would give, written in pieces, because stringifying
 * (and then encoding) a string of tens of MB of base64 cost seconds of an export. Base64 needs
 * no JSON escaping, so it goes between its quotes as it is.
 */
export function writeInlinedModelScript(
  file: string,
  a: TfjsArtifacts,
  name: string,
  comment: string,
  extra: Record<string, unknown>,
): void {
  const rest = Object.entries(extra)
    .map(([k, v]) => `,${JSON.stringify(k)}:${JSON.stringify(v)}`)
    .join('');
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, `${comment}\nwindow.${name} = {"modelJson":${JSON.stringify(modelJson(a))},"weightsBase64":"`);
    fs.writeSync(fd, a.weightData.toString('base64'), null, 'latin1');
    fs.writeSync(fd, `"${rest}};\n`);
  } finally {
    fs.closeSync(fd);
  }
}
