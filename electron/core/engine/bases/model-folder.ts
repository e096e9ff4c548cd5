// Reads and writes tfjs layers model folders (model.json + weight files) in plain Node,
// without tfjs-node: tf.io.fromMemory on bytes we read ourselves.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';

interface ModelJson {
  modelTopology: object;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  userDefinedMetadata?: { [key: string]: {} };
}

export class ModelFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFolderError';
  }
}

/** model.json + its weight files as tfjs ModelArtifacts. */
export function readModelArtifacts(dir: string): tf.io.ModelArtifacts {
  const jsonPath = path.join(dir, 'model.json');
  if (!fs.existsSync(jsonPath)) throw new ModelFolderError(`no model.json in ${dir}`);
  let json: ModelJson;
  try {
    json = JSON.parse(fs.readFileSync(jsonPath, 'utf8')) as ModelJson;
  } catch (err) {
    throw new ModelFolderError(`model.json in ${dir} is not valid JSON (${(err as Error).message})`);
  }
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new ModelFolderError(`model.json in ${dir} is not a tfjs layers model (needs modelTopology and weightsManifest)`);
  }
  const specs: tf.io.WeightsManifestEntry[] = [];
  const chunks: Buffer[] = [];
  for (const group of json.weightsManifest) {
    for (const p of group.paths) {
      const file = path.join(dir, p);
      if (!fs.existsSync(file)) throw new ModelFolderError(`weight file ${p} listed in model.json is missing`);
      chunks.push(fs.readFileSync(file));
    }
    specs.push(...group.weights);
  }
  const all = Buffer.concat(chunks);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  return {
    modelTopology: json.modelTopology,
    weightSpecs: specs,
    weightData,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy ?? undefined,
    userDefinedMetadata: json.userDefinedMetadata,
  };
}

export async function loadLayersModelFromDir(dir: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(tf.io.fromMemory(readModelArtifacts(dir)));
}

/** Writes a tfjs layers folder: model.json and one weights.bin (float32 as tfjs encodes it). */
export function writeModelArtifacts(dir: string, artifacts: tf.io.ModelArtifacts): { path: string; bytes: number }[] {
  fs.mkdirSync(dir, { recursive: true });
  const data = artifacts.weightData;
  const bytes = data === undefined ? new Uint8Array(0) : new Uint8Array(tf.io.concatenateArrayBuffers(Array.isArray(data) ? data : [data]));
  const modelJson: ModelJson = {
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
    modelTopology: artifacts.modelTopology as object,
    weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
  };
  if (artifacts.userDefinedMetadata) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
  const jsonText = JSON.stringify(modelJson);
  // Write to temporary names first so an interrupted build never leaves a half model.
  fs.writeFileSync(path.join(dir, 'weights.bin.tmp'), bytes);
  fs.writeFileSync(path.join(dir, 'model.json.tmp'), jsonText);
  fs.renameSync(path.join(dir, 'weights.bin.tmp'), path.join(dir, 'weights.bin'));
  fs.renameSync(path.join(dir, 'model.json.tmp'), path.join(dir, 'model.json'));
  return [
    { path: 'model.json', bytes: Buffer.byteLength(jsonText) },
    { path: 'weights.bin', bytes: bytes.byteLength },
  ];
}

/** Saves a live model to a folder through tfjs's own serialisation. */
export async function saveLayersModelToDir(model: tf.LayersModel, dir: string): Promise<{ path: string; bytes: number }[]> {
  let files: { path: string; bytes: number }[] = [];
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      files = writeModelArtifacts(dir, artifacts);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return files;
}
