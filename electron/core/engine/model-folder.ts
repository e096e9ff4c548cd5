// tfjs layers model folders (model.json + one weights file) read and written with node:fs, so
// the portable engine needs no tfjs-node for `file://` IO.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';

export const WEIGHTS_FILE = 'weights.bin';

export async function saveModelFolder(model: tf.LayersModel, dir: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = artifacts.weightData ? tf.io.CompositeArrayBuffer.join(artifacts.weightData) : new ArrayBuffer(0);
      const json = {
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
        convertedBy: 'Transfer Studio',
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
      };
      // Write weights first: a folder with a model.json is taken as complete.
      fs.writeFileSync(path.join(dir, WEIGHTS_FILE), Buffer.from(data));
      fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: data.byteLength } };
    }),
  );
}

interface ModelJson {
  modelTopology?: unknown;
  weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

export async function loadModelFolder(dir: string): Promise<tf.LayersModel> {
  const file = path.join(dir, 'model.json');
  if (!fs.existsSync(file)) throw new Error(`No model.json in ${dir}.`);
  const json = JSON.parse(fs.readFileSync(file, 'utf8')) as ModelJson;
  if (!json.modelTopology || !Array.isArray(json.weightsManifest))
    throw new Error(`${file} is not a tfjs layers model (no modelTopology or weightsManifest).`);
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: ArrayBuffer[] = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) {
      const b = fs.readFileSync(path.join(dir, p));
      buffers.push(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
    }
  }
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology as object,
      weightSpecs: specs,
      weightData: tf.io.CompositeArrayBuffer.join(buffers),
    }),
  );
}
