// The built-in bases: folders produced by `npm run build:bases` (build/models/bases/<id>/).
// Packaged apps point STUDIO_BASES_DIR (or setBasesRoot) at their resources folder.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import type { BaseInfo, InputScaling } from './types.js';
import { loadLayersModelFromDir } from './model-folder.js';

export type { BaseInfo, BaseBlock, InputScaling } from './types.js';
export { loadLayersModelFromDir, readModelArtifacts, saveLayersModelToDir, ModelFolderError } from './model-folder.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
let rootOverride: string | null = null;

export function setBasesRoot(dir: string | null): void {
  rootOverride = dir;
}

export function basesRoot(): string {
  return rootOverride ?? process.env.STUDIO_BASES_DIR ?? path.join(repoRoot, 'build', 'models', 'bases');
}

export class BaseNotFoundError extends Error {
  constructor(id: string) {
    super(`base model "${id}" is not built (run \`npm run build:bases\`; looked in ${basesRoot()})`);
    this.name = 'BaseNotFoundError';
  }
}

export function baseDir(id: string): string {
  if (!/^[a-z0-9_.-]+$/i.test(id)) throw new BaseNotFoundError(id);
  return path.join(basesRoot(), id);
}

export function readBaseInfo(id: string): BaseInfo {
  const file = path.join(baseDir(id), 'metadata.json');
  if (!fs.existsSync(file)) throw new BaseNotFoundError(id);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as BaseInfo;
}

/** Every base with a metadata.json under the bases root, sorted by id. */
export function listBases(): BaseInfo[] {
  const root = basesRoot();
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(root, d.name, 'metadata.json')))
    .map((d) => readBaseInfo(d.name))
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** The base's tfjs model: input [N, size, size, 3] float already scaled (see applyScaling). */
export async function loadBase(id: string): Promise<tf.LayersModel> {
  readBaseInfo(id);
  return loadLayersModelFromDir(baseDir(id));
}

/** The sub-model from the base's input up to (and including) `layerName`. Shares weights. */
export function truncateAt(model: tf.LayersModel, layerName: string): tf.LayersModel {
  let layer: tf.layers.Layer;
  try {
    layer = model.getLayer(layerName);
  } catch {
    throw new Error(`layer "${layerName}" is not in model "${model.name}"`);
  }
  return tf.model({ inputs: model.inputs, outputs: layer.output as tf.SymbolicTensor, name: `${model.name}_to_${layerName}` });
}

/**
 * uint8-range pixels → the base's range, with the same operations (and so the same float
 * rounding) as the scaling node the ONNX converter emits: (x − from0) / ((from1 − from0) / (to1 − to0)) + to0.
 */
export function applyScaling(x: tf.Tensor, scaling: InputScaling): tf.Tensor {
  return tf.tidy(() => {
    const { shift, divisor, offset } = scalingSteps(scaling);
    let y = tf.cast(x, 'float32');
    if (shift !== 0) y = y.sub(shift);
    if (divisor !== 1) y = y.div(divisor);
    if (offset !== 0) y = y.add(offset);
    return y;
  });
}

export function scalingSteps(s: InputScaling): { shift: number; divisor: number; offset: number } {
  const span = s.from[1] - s.from[0];
  const target = s.to[1] - s.to[0];
  if (span === 0 || target === 0) throw new RangeError(`degenerate input scaling ${JSON.stringify(s)}`);
  return { shift: s.from[0], divisor: span / target, offset: s.to[0] };
}
