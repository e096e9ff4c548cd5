// Strict checks of a tfjs model folder before anything enters the store: model.json, the
// weights manifest (safe relative paths, files present, byte lengths), that tfjs can build the
// model, and that it takes one [batch, H, W, 3] image. Every refusal names what is wrong.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { BaseBlock, InputScaling } from './metadata.js';
import { ModelStoreError } from './errors.js';
import { readScaling } from './scaling.js';

export type ModelFormat = 'layers' | 'graph';

interface ManifestGroup {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
}

interface RawModelJson {
  format?: unknown;
  modelTopology?: unknown;
  weightsManifest?: unknown;
  [key: string]: unknown;
}

/** What a folder may say about itself in metadata.json (all optional). */
export interface FolderMetadata {
  name?: string;
  source?: string;
  inputSize?: number;
  scaling?: InputScaling;
  featureLayer?: string;
  /** Strategy-2 boundaries by layer name (checked against the model; shapes recomputed). */
  blocks?: { name?: string; layer: string; expandLayer?: string }[];
}

export interface ValidatedFolder {
  format: ModelFormat;
  /** model.json first, then weight files in manifest order (posix relative paths). */
  files: { path: string; bytes: number }[];
  inputSize: number;
  /** Undefined when neither the caller nor the folder said (the caller asks the user). */
  scaling: InputScaling | undefined;
  featureLayer: string;
  featureShape: number[];
  blocks: BaseBlock[];
  metadata: FolderMetadata;
}

/** A model.json beyond this is not a model description we should parse in one go. */
const MAX_MODEL_JSON_BYTES = 200 * 1024 * 1024;

const DTYPE_BYTES: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  complex64: 8,
  float16: 2,
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
};

/**
 * A manifest path as tfjs means it (relative to model.json) → a safe posix relative path,
 * or a refusal: absolute paths, drive letters, URLs and `..` would reach outside the folder.
 */
export function safeRelativePath(p: unknown, what: string): string {
  if (typeof p !== 'string' || p.length === 0 || p.length > 300) throw new ModelStoreError('badManifest', `${what} is not a file name.`);
  const shown = JSON.stringify(p);
  if (p.includes('\0')) throw new ModelStoreError('unsafePath', `${what} ${shown} contains a NUL character.`);
  if (path.posix.isAbsolute(p) || path.win32.isAbsolute(p) || /^[a-z]:/i.test(p))
    throw new ModelStoreError('unsafePath', `${what} ${shown} is an absolute path; only files inside the model folder are allowed.`);
  if (/^[a-z][a-z0-9+.-]*:/i.test(p))
    throw new ModelStoreError('unsafePath', `${what} ${shown} is a URL; only files inside the model folder are allowed.`);
  const parts = p.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');
  if (parts.some((s) => s === '..'))
    throw new ModelStoreError('unsafePath', `${what} ${shown} goes up a folder ("..") ; only files inside the model folder are allowed.`);
  if (parts.length === 0) throw new ModelStoreError('badManifest', `${what} ${shown} is not a file name.`);
  const rel = parts.join('/');
  if (rel === 'model.json' || rel === 'metadata.json')
    throw new ModelStoreError('badManifest', `${what} ${shown} cannot be a weight file.`);
  return rel;
}

function weightBytes(w: tf.io.WeightsManifestEntry, where: string): number {
  if (!w || typeof w !== 'object' || typeof w.name !== 'string')
    throw new ModelStoreError('badManifest', `${where}: a weight entry has no name.`);
  if (!Array.isArray(w.shape) || !w.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ModelStoreError('badManifest', `${where}: weight "${w.name}" has no valid shape.`);
  }
  const stored = w.quantization?.dtype ?? w.dtype;
  const size = DTYPE_BYTES[String(stored)];
  if (size === undefined)
    throw new ModelStoreError(
      'badManifest',
      `${where}: weight "${w.name}" has data type "${String(stored)}", which cannot be checked or loaded here.`,
    );
  return w.shape.reduce((a, d) => a * d, 1) * size;
}

function readJsonFile(file: string, label: string, maxBytes: number): unknown {
  const st = fs.statSync(file);
  if (st.size > maxBytes) throw new ModelStoreError('notJson', `${label} is ${st.size} bytes, too large to be a model description.`);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ModelStoreError('notJson', `${label} is not valid JSON (${(err as Error).message.slice(0, 120)}).`);
  }
}

function detectFormat(json: RawModelJson): ModelFormat {
  const topo = json.modelTopology as Record<string, unknown>;
  const looksGraph = Array.isArray(topo.node);
  const looksLayers = typeof topo.class_name === 'string' || (typeof topo.model_config === 'object' && topo.model_config !== null);
  if (json.format === 'graph-model') {
    if (!looksGraph) throw new ModelStoreError('notTfjs', 'model.json says "graph-model" but its modelTopology has no graph nodes.');
    return 'graph';
  }
  if (json.format === 'layers-model') {
    if (!looksLayers)
      throw new ModelStoreError('notTfjs', 'model.json says "layers-model" but its modelTopology is not a Keras model description.');
    return 'layers';
  }
  if (json.format !== undefined) {
    throw new ModelStoreError(
      'unknownFormat',
      `model.json says its format is ${JSON.stringify(json.format).slice(0, 60)}; only TensorFlow.js "layers-model" and "graph-model" folders can be imported.`,
    );
  }
  // Older converters wrote no format field: go by the topology's shape.
  if (looksLayers) return 'layers';
  if (looksGraph) return 'graph';
  throw new ModelStoreError(
    'unknownFormat',
    'model.json has no format field and its modelTopology is neither a Keras model nor a TensorFlow graph.',
  );
}

function readManifest(raw: unknown): ManifestGroup[] {
  if (!Array.isArray(raw) || raw.length === 0)
    throw new ModelStoreError('badManifest', 'model.json has an empty or invalid weightsManifest.');
  return raw.map((g, i) => {
    const group = g as Partial<ManifestGroup> | null;
    if (!group || !Array.isArray(group.paths) || group.paths.length === 0 || !Array.isArray(group.weights)) {
      throw new ModelStoreError('badManifest', `weightsManifest group ${i + 1} needs "paths" and "weights" lists.`);
    }
    return { paths: group.paths, weights: group.weights };
  });
}

function readFolderMetadata(folder: string): FolderMetadata {
  const file = path.join(folder, 'metadata.json');
  if (!fs.existsSync(file)) return {};
  const raw = readJsonFile(file, 'metadata.json', 10 * 1024 * 1024);
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw new ModelStoreError('badMetadata', 'metadata.json is not a JSON object.');
  const m = raw as Record<string, unknown>;
  const input = (m.input && typeof m.input === 'object' ? m.input : {}) as Record<string, unknown>;
  const out: FolderMetadata = {};
  if (typeof m.name === 'string' && m.name.trim()) out.name = m.name.trim().slice(0, 200);
  if (typeof m.source === 'string' && m.source.trim()) out.source = m.source.trim().slice(0, 500);
  const size = m.inputSize ?? input.size;
  if (size !== undefined) {
    const n = Array.isArray(size) ? size[0] : size;
    if (!Number.isInteger(n) || (n as number) <= 0)
      throw new ModelStoreError('badMetadata', `metadata.json: inputSize ${JSON.stringify(size)} is not a positive whole number.`);
    out.inputSize = n as number;
  }
  try {
    const scaling = readScaling(m.scaling ?? m.inputScaling ?? input.scaling);
    if (scaling) out.scaling = scaling;
  } catch (err) {
    throw new ModelStoreError('badMetadata', `metadata.json: ${(err as Error).message}.`);
  }
  if (typeof m.featureLayer === 'string' && m.featureLayer) out.featureLayer = m.featureLayer;
  if (m.blocks !== undefined) {
    const raw = m.blocks;
    const ok =
      Array.isArray(raw) &&
      raw.every((b) => typeof b === 'string' || (b && typeof b === 'object' && typeof (b as { layer?: unknown }).layer === 'string'));
    if (!ok) throw new ModelStoreError('badMetadata', 'metadata.json: "blocks" must be a list of layer names or {name, layer} objects.');
    out.blocks = (raw as unknown[]).map((b) => {
      if (typeof b === 'string') return { layer: b };
      const o = b as { name?: unknown; layer: string; expandLayer?: unknown };
      return {
        layer: o.layer,
        ...(typeof o.name === 'string' ? { name: o.name } : {}),
        ...(typeof o.expandLayer === 'string' ? { expandLayer: o.expandLayer } : {}),
      };
    });
  }
  return out;
}

/** [batch, H, W, 3] with square H = W (the one input contract); -1 and null both mean "any". */
function inputSizeOf(shape: readonly (number | null)[] | undefined, fromMetadata: number | undefined): number {
  const dims = (shape ?? []).map((d) => (d === null || d === undefined || d < 0 ? null : d));
  const shown = `[${dims.map((d) => (d === null ? 'null' : d)).join(', ')}]`;
  if (dims.length !== 4 || dims[3] !== 3 || dims[0] !== null) {
    throw new ModelStoreError('badInput', `The model's input is ${shown}; a base model must take a batch of RGB images, [null, H, W, 3].`);
  }
  const [h, w] = [dims[1] ?? null, dims[2] ?? null];
  if (h !== null && w !== null && h !== w)
    throw new ModelStoreError('badInput', `The model's input is ${shown}: ${h}×${w} pixels; only square inputs are supported.`);
  const size = h ?? w ?? fromMetadata;
  if (size === undefined || size === null) {
    throw new ModelStoreError(
      'badInput',
      `The model's input is ${shown}, with no fixed size; add "inputSize" to the folder's metadata.json.`,
    );
  }
  if (fromMetadata !== undefined && fromMetadata !== size) {
    throw new ModelStoreError('badMetadata', `metadata.json says the input is ${fromMetadata} px but the model takes ${size} px.`);
  }
  if (size < 8 || size > 2048) throw new ModelStoreError('badInput', `The model's input is ${size} px; expected between 8 and 2048.`);
  return size;
}

const ACTIVATIONS = new Set(['Activation', 'ReLU', 'LeakyReLU', 'ELU', 'PReLU', 'ThresholdedReLU']);
const JOINS = new Set(['Add', 'Concatenate']);

/**
 * Strategy-2 boundaries and probe points for a model whose folder does not name them, from its
 * graph: every Add and Concatenate output (where residual and inception blocks end: everything
 * above depends on them alone) and the last activation at or below the feature layer. A plain
 * chain without joins gets the last layer of each spatial resolution instead.
 */
function deriveBlocks(model: tf.LayersModel, featureLayer: string): BaseBlock[] {
  const shapeOf = (l: tf.layers.Layer): number[] | null => {
    const shape = l.outputShape;
    if (!Array.isArray(shape) || Array.isArray(shape[0]) || shape.length !== 4) return null;
    return (shape as (number | null)[]).slice(1).map((d) => d ?? -1);
  };
  const blocks: BaseBlock[] = [];
  let lastActivation: { layer: string; shape: number[] } | null = null;
  for (const layer of model.layers) {
    const shape = shapeOf(layer);
    if (shape) {
      const cls = layer.getClassName();
      if (JOINS.has(cls)) {
        blocks.push({ name: `${cls.toLowerCase()}_${blocks.length + 1}`, layer: layer.name, outputShape: shape });
        lastActivation = null;
      } else if (ACTIVATIONS.has(cls)) lastActivation = { layer: layer.name, shape };
    }
    if (layer.name === featureLayer) break;
  }
  if (blocks.length === 0) return stageBlocks(model, featureLayer);
  if (lastActivation) blocks.push({ name: 'last_activation', layer: lastActivation.layer, outputShape: lastActivation.shape });
  return blocks;
}

/** The last layer at each spatial resolution (where a network's stages end), input side first. */
function stageBlocks(model: tf.LayersModel, featureLayer: string): BaseBlock[] {
  const blocks: BaseBlock[] = [];
  let last: { layer: string; shape: number[] } | null = null;
  for (const layer of model.layers) {
    // Padding only prepares the next strided layer: a cut there is a cut inside a stage.
    if (layer.getClassName() === 'InputLayer' || layer.getClassName() === 'ZeroPadding2D') continue;
    const shape = layer.outputShape;
    if (!Array.isArray(shape) || Array.isArray(shape[0]) || shape.length !== 4) continue;
    const s = (shape as (number | null)[]).slice(1).map((d) => d ?? -1);
    if (last && last.shape[0] !== s[0]) blocks.push({ name: `stage_${blocks.length + 1}`, layer: last.layer, outputShape: last.shape });
    last = { layer: layer.name, shape: s };
    if (layer.name === featureLayer) break;
  }
  if (last) blocks.push({ name: `stage_${blocks.length + 1}`, layer: last.layer, outputShape: last.shape });
  return blocks;
}

/** Blocks the folder's metadata names, with output shapes taken from the model itself. */
function declaredBlocks(model: tf.LayersModel, declared: NonNullable<FolderMetadata['blocks']>): BaseBlock[] {
  const shapeOf = (name: string): number[] => {
    const layer = model.layers.find((l) => l.name === name);
    if (!layer) throw new ModelStoreError('badMetadata', `metadata.json names block layer "${name}", which is not in the model.`);
    return (layer.outputShape as (number | null)[]).slice(1).map((d) => d ?? -1);
  };
  return declared.map((b) => ({
    name: b.name ?? b.layer,
    layer: b.layer,
    outputShape: shapeOf(b.layer),
    ...(b.expandLayer ? { expandLayer: b.expandLayer, expandOutputShape: shapeOf(b.expandLayer) } : {}),
  }));
}

/** The last convolutional feature map (the classifier on top, if any, is dropped by training). */
function pickFeatureLayer(model: tf.LayersModel, wanted: string | undefined): { name: string; shape: number[] } {
  const shapeOf = (l: tf.layers.Layer) => (l.outputShape as (number | null)[]).slice(1).map((d) => d ?? -1);
  if (wanted) {
    const layer = model.layers.find((l) => l.name === wanted);
    if (!layer) throw new ModelStoreError('badMetadata', `metadata.json names feature layer "${wanted}", which is not in the model.`);
    return { name: layer.name, shape: shapeOf(layer) };
  }
  const maps = model.layers.filter(
    (l) =>
      l.getClassName() !== 'InputLayer' && Array.isArray(l.outputShape) && !Array.isArray(l.outputShape[0]) && l.outputShape.length === 4,
  );
  const layer = maps[maps.length - 1] ?? model.layers[model.layers.length - 1];
  if (!layer || layer.getClassName() === 'InputLayer') throw new ModelStoreError('badInput', 'The model has no layers after its input.');
  return { name: layer.name, shape: shapeOf(layer) };
}

/**
 * Validates `folder` as a tfjs model folder. `overrides` (e.g. a catalogue entry's metadata)
 * win over the folder's own metadata.json. Does not check scaling: callers decide whether a
 * missing scaling is an error (import) or is supplied (catalogue).
 */
export async function validateModelFolder(folder: string, overrides: FolderMetadata = {}): Promise<ValidatedFolder> {
  if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory())
    throw new ModelStoreError('notFolder', `The folder ${path.basename(folder)} does not exist.`);
  const jsonPath = path.join(folder, 'model.json');
  if (!fs.existsSync(jsonPath) || !fs.statSync(jsonPath).isFile()) {
    throw new ModelStoreError(
      'noModelJson',
      `There is no model.json in “${path.basename(folder)}”; pick the folder that holds a TensorFlow.js model.json and its weight files.`,
    );
  }
  const raw = readJsonFile(jsonPath, 'model.json', MAX_MODEL_JSON_BYTES);
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw new ModelStoreError('notTfjs', 'model.json is JSON but not a TensorFlow.js model (not an object).');
  const json = raw as RawModelJson;
  const missing = [json.modelTopology ? null : 'modelTopology', json.weightsManifest ? null : 'weightsManifest'].filter(Boolean);
  if (missing.length > 0 || typeof json.modelTopology !== 'object') {
    throw new ModelStoreError(
      'notTfjs',
      `model.json is not a TensorFlow.js model: it has no ${missing.join(' and ') || 'modelTopology object'}.`,
    );
  }
  const format = detectFormat(json);
  const groups = readManifest(json.weightsManifest);

  const realFolder = fs.realpathSync(folder);
  const files: { path: string; bytes: number }[] = [{ path: 'model.json', bytes: fs.statSync(jsonPath).size }];
  const seen = new Set<string>();
  const buffers: Buffer[] = [];
  const specs: tf.io.WeightsManifestEntry[] = [];
  groups.forEach((group, gi) => {
    const where = `weightsManifest group ${gi + 1}`;
    const expected = group.weights.reduce((sum, w) => sum + weightBytes(w, where), 0);
    let actual = 0;
    const names: string[] = [];
    for (const p of group.paths) {
      const rel = safeRelativePath(p, 'Weight file');
      if (seen.has(rel)) throw new ModelStoreError('badManifest', `Weight file "${rel}" is listed twice in model.json.`);
      seen.add(rel);
      const abs = path.join(folder, ...rel.split('/'));
      if (!fs.existsSync(abs))
        throw new ModelStoreError('missingWeights', `Weight file "${rel}" listed in model.json is missing from the folder.`);
      // A symlink inside the folder may still point outside it.
      const real = fs.realpathSync(abs);
      if (!real.startsWith(realFolder + path.sep))
        throw new ModelStoreError('unsafePath', `Weight file "${rel}" links to a file outside the model folder.`);
      const st = fs.statSync(real);
      if (!st.isFile()) throw new ModelStoreError('missingWeights', `Weight file "${rel}" listed in model.json is not a file.`);
      actual += st.size;
      names.push(rel);
      files.push({ path: rel, bytes: st.size });
      buffers.push(fs.readFileSync(real));
    }
    if (actual !== expected) {
      throw new ModelStoreError(
        'wrongWeightSize',
        `Weight file${names.length > 1 ? 's' : ''} ${names.map((n) => `"${n}"`).join(', ')} hold${names.length > 1 ? '' : 's'} ${actual} bytes but model.json describes ${expected} bytes (${group.weights.length} weights); the files are truncated or belong to another model.`,
      );
    }
    specs.push(...group.weights);
  });

  const metadata = { ...readFolderMetadata(folder), ...definedOnly(overrides) };
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  const artifacts: tf.io.ModelArtifacts = {
    ...(json as object),
    modelTopology: json.modelTopology as object,
    weightSpecs: specs,
    weightData,
  } as tf.io.ModelArtifacts;

  if (format === 'layers') {
    let model: tf.LayersModel;
    try {
      model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    } catch (err) {
      throw new ModelStoreError('unloadable', `TensorFlow.js cannot build this layers model: ${(err as Error).message.slice(0, 300)}`);
    }
    try {
      if (model.inputs.length !== 1)
        throw new ModelStoreError('badInput', `The model has ${model.inputs.length} inputs; a base model takes one image input.`);
      const inputSize = inputSizeOf(model.inputs[0]!.shape, metadata.inputSize);
      const feature = pickFeatureLayer(model, metadata.featureLayer);
      return {
        format,
        files,
        inputSize,
        scaling: metadata.scaling,
        featureLayer: feature.name,
        featureShape: feature.shape,
        blocks: metadata.blocks ? declaredBlocks(model, metadata.blocks) : deriveBlocks(model, feature.name),
        metadata,
      };
    } finally {
      model.dispose();
    }
  }

  let graph: tf.GraphModel;
  try {
    graph = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
  } catch (err) {
    throw new ModelStoreError('unloadable', `TensorFlow.js cannot load this graph model: ${(err as Error).message.slice(0, 300)}`);
  }
  try {
    if (graph.inputs.length !== 1)
      throw new ModelStoreError('badInput', `The model has ${graph.inputs.length} inputs; a base model takes one image input.`);
    const inputSize = inputSizeOf(graph.inputs[0]!.shape, metadata.inputSize);
    const out = graph.outputs[0];
    if (!out) throw new ModelStoreError('badInput', 'The graph model has no outputs.');
    const featureLayer = metadata.featureLayer ?? featureNodeBeforeClassifier(json.modelTopology as { node?: GraphNode[] }, out.name);
    // One forward pass on a blank image: proves tfjs has every op this graph needs (graph
    // models only fail at execution otherwise) and gives the feature shape signatures often omit.
    let featureShape: number[];
    const blank = tf.zeros([1, inputSize, inputSize, 3]);
    try {
      const y = await graph.executeAsync(blank, featureLayer);
      const outs = Array.isArray(y) ? y : [y];
      featureShape = outs[0]!.shape.slice(1);
      tf.dispose(outs);
    } catch (err) {
      throw new ModelStoreError('unloadable', `TensorFlow.js cannot run this graph model: ${(err as Error).message.slice(0, 300)}`);
    } finally {
      blank.dispose();
    }
    return { format, files, inputSize, scaling: metadata.scaling, featureLayer, featureShape, blocks: [], metadata };
  } finally {
    graph.dispose();
  }
}

interface GraphNode {
  name: string;
  op: string;
  input?: string[];
}

/** Ops a classifier ends with, after its features: walked back over to find them. */
const CLASSIFIER_TAIL = new Set(['Softmax', 'Sigmoid', 'Identity', 'BiasAdd', 'Add', 'AddV2', 'Reshape', 'Squeeze']);
const DENSE = new Set(['MatMul', '_FusedMatMul']);

/**
 * A graph model's features when its metadata names none: the input of its classifier's dense
 * layer (the pooled, 2-D features before it), found by walking back from the output over
 * softmax, bias and reshape ops; without a dense layer, the output itself (pooled if 4-D).
 */
function featureNodeBeforeClassifier(topology: { node?: GraphNode[] }, output: string): string {
  const byName = new Map((topology.node ?? []).map((n) => [n.name, n]));
  const strip = (ref: string) => ref.replace(/^\^/, '').replace(/:\d+$/, '');
  let node = byName.get(strip(output));
  for (let steps = 0; node && steps < 16; steps++) {
    if (DENSE.has(node.op)) {
      const x = node.input?.[0];
      return x ? strip(x) : output;
    }
    if (!CLASSIFIER_TAIL.has(node.op) || !node.input?.[0]) break;
    node = byName.get(strip(node.input[0]));
  }
  return output;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
