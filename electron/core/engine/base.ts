// A base model as the engine uses it: the layers model plus its spec. The spec comes from the
// model registry (models/registry.ts), which is the only reader of metadata.json; the engine
// process gets it in its start message with the folder.
import * as tf from '@tensorflow/tfjs';
import { loadGraphModelFolder, loadModelFolder } from './model-folder.js';
import { readBaseSpec, type BaseSpec } from '../models/metadata.js';
import { scalingSteps, type InputScaling } from '../models/scaling.js';

export type { BaseSpec } from '../models/metadata.js';

export interface Base extends BaseSpec {
  model: tf.LayersModel;
}

/**
 * A TensorFlow graph model (e.g. a TF-Hub network converted by tfjs-converter): it can only
 * compute features — tfjs cannot train or cut a graph — so it serves strategy 3 alone. The
 * features are the output of `spec.featureLayer` (a graph node), averaged over H and W when 4-D.
 */
export interface GraphBase extends BaseSpec {
  graph: tf.GraphModel;
  /** The base's folder: the saved classifier is composed from its model.json (engine/graph-classifier.ts). */
  dir: string;
}

export function isGraphBase(base: Base | GraphBase): base is GraphBase {
  return 'graph' in base;
}

/** Where a base is and what it is: what the host sends the engine. */
export interface BaseRef {
  dir: string;
  spec: BaseSpec;
  /** 'graph' for a graph model (strategy 3 only); absent or 'layers' otherwise. */
  format?: 'layers' | 'graph';
}

/** Loads a base as the host described it: a layers model, or a graph model for strategy 3. */
export async function loadBase(ref: BaseRef): Promise<Base | GraphBase> {
  if (ref.format !== 'graph') return loadBaseFolder(ref.dir, ref.spec);
  return { ...ref.spec, graph: await loadGraphModelFolder(ref.dir), dir: ref.dir };
}

export function disposeBase(base: Base | GraphBase): void {
  if (isGraphBase(base)) base.graph.dispose();
  else base.model.dispose();
}

/** Loads a base folder; without a spec, reads the folder's own metadata.json (tests, benchmarks). */
export async function loadBaseFolder(dir: string, spec: BaseSpec = readBaseSpec(dir)): Promise<Base> {
  const model = await loadModelFolder(dir);
  for (const name of [spec.featureLayer, ...spec.blocks, ...spec.probePoints]) model.getLayer(name); // fails early on a bad name
  return { ...spec, model };
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

/** The last block end at or before `layer` in the base's order (the strategy-2 anchor for a probe point). */
export function blockAtOrBelow(spec: Pick<BaseSpec, 'blocks' | 'probePoints'>, layer: string): string {
  const blocks = new Set(spec.blocks);
  let anchor = spec.blocks[0] ?? layer;
  for (const p of spec.probePoints) {
    if (blocks.has(p)) anchor = p;
    if (p === layer) break;
  }
  return anchor;
}
