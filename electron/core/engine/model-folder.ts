// tfjs layers model folders (model.json + weight files) read and written with node:fs, so the
// portable engine needs no tfjs-node for `file://` IO. The one module for model folders: the
// build step, the engine, the model store, prediction and export all use it.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';

export const WEIGHTS_FILE = 'weights.bin';

interface ModelJson {
  modelTopology: object;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  userDefinedMetadata?: tf.io.ModelArtifacts['userDefinedMetadata'];
}

export class ModelFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFolderError';
  }
}

/** A manifest path must name a file inside the folder: no absolute paths, URLs or `..`. */
function insideFolder(dir: string, p: string): string {
  const parts = p.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');
  if (parts.length === 0 || parts.includes('..') || path.isAbsolute(p) || /^[a-z][a-z0-9+.-]*:/i.test(p))
    throw new ModelFolderError(`weight file ${JSON.stringify(p)} in ${dir} is not a file inside the model folder`);
  return path.join(dir, ...parts);
}

/** model.json + its weight files as tfjs ModelArtifacts (graph or layers). */
export function readModelArtifacts(dir: string): tf.io.ModelArtifacts {
  const jsonPath = path.join(dir, 'model.json');
  if (!fs.existsSync(jsonPath)) throw new ModelFolderError(`no model.json in ${dir}`);
  let json: ModelJson;
  try {
    json = JSON.parse(fs.readFileSync(jsonPath, 'utf8')) as ModelJson;
  } catch (err) {
    throw new ModelFolderError(`model.json in ${dir} is not valid JSON (${(err as Error).message})`);
  }
  if (!json.modelTopology || !Array.isArray(json.weightsManifest))
    throw new ModelFolderError(`model.json in ${dir} is not a tfjs model (needs modelTopology and weightsManifest)`);
  const specs: tf.io.WeightsManifestEntry[] = [];
  const chunks: Buffer[] = [];
  for (const group of json.weightsManifest) {
    for (const p of group.paths) {
      const file = insideFolder(dir, p);
      if (!fs.existsSync(file)) throw new ModelFolderError(`weight file ${p} listed in model.json is missing`);
      chunks.push(fs.readFileSync(file));
    }
    specs.push(...group.weights);
  }
  const all = Buffer.concat(chunks);
  const { weightsManifest: _manifest, ...rest } = json;
  return {
    ...rest,
    modelTopology: json.modelTopology,
    weightSpecs: specs,
    weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy ?? undefined,
    userDefinedMetadata: json.userDefinedMetadata,
  } as tf.io.ModelArtifacts;
}

export async function loadModelFolder(dir: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(tf.io.fromMemory(readModelArtifacts(dir)));
}

export async function loadGraphModelFolder(dir: string): Promise<tf.GraphModel> {
  return tf.loadGraphModel(tf.io.fromMemory(readModelArtifacts(dir)));
}

/** A run's saved classifier: a layers model, or a graph model when its base was a graph model (graph-classifier.ts). */
export type ClassifierModel = tf.LayersModel | tf.GraphModel;

/** Whether a folder's model.json is a tfjs graph model (read without loading weights). */
export function isGraphModelFolder(dir: string): boolean {
  try {
    return (JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as { format?: unknown }).format === 'graph-model';
  } catch {
    return false;
  }
}

/** A layers model folder's layer names, input layers aside, read from model.json alone (no weights). */
export function layerNamesOf(dir: string): string[] {
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as {
    modelTopology?: {
      model_config?: { config?: { layers?: { class_name?: string; config?: { name?: string } }[] } };
      config?: { layers?: { class_name?: string; config?: { name?: string } }[] };
    };
  };
  const t = json.modelTopology;
  const layers = t?.model_config?.config?.layers ?? t?.config?.layers ?? [];
  return layers.filter((l) => l.class_name !== 'InputLayer').map((l) => l.config?.name ?? '');
}

/** Loads a run's classifier folder, layers or graph. Both take pixels 0..255 and give probabilities from `predict`. */
export async function loadClassifierFolder(dir: string): Promise<ClassifierModel> {
  return isGraphModelFolder(dir) ? loadGraphModelFolder(dir) : loadModelFolder(dir);
}

/** Writes a tfjs layers folder: model.json and one weights.bin. Weights first: a folder with a model.json is taken as complete. */
export function writeModelArtifacts(dir: string, artifacts: tf.io.ModelArtifacts): { path: string; bytes: number }[] {
  fs.mkdirSync(dir, { recursive: true });
  const data = artifacts.weightData;
  const bytes = data === undefined ? new Uint8Array(0) : new Uint8Array(tf.io.CompositeArrayBuffer.join(data));
  const modelJson: ModelJson = {
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: artifacts.convertedBy ?? 'Transfer Studio',
    modelTopology: artifacts.modelTopology as object,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
  };
  if (artifacts.userDefinedMetadata) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
  const jsonText = JSON.stringify(modelJson);
  // Temporary names first, so an interrupted write never leaves a half model.
  fs.writeFileSync(path.join(dir, `${WEIGHTS_FILE}.tmp`), bytes);
  fs.writeFileSync(path.join(dir, 'model.json.tmp'), jsonText);
  fs.renameSync(path.join(dir, `${WEIGHTS_FILE}.tmp`), path.join(dir, WEIGHTS_FILE));
  fs.renameSync(path.join(dir, 'model.json.tmp'), path.join(dir, 'model.json'));
  return [
    { path: 'model.json', bytes: Buffer.byteLength(jsonText) },
    { path: WEIGHTS_FILE, bytes: bytes.byteLength },
  ];
}

/** Saves a live model to a folder through tfjs's own serialisation. */
export async function saveModelFolder(model: tf.LayersModel, dir: string): Promise<{ path: string; bytes: number }[]> {
  let files: { path: string; bytes: number }[] = [];
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      files = writeModelArtifacts(dir, artifacts);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return files;
}
