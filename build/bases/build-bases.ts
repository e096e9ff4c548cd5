// `npm run build:bases`: turns the Keras layers models inside the nsfwjs npm package into plain
// tfjs layers model folders under build/models/bases/<id>/ (model.json, weights.bin,
// metadata.json). nsfwjs embeds model.json and base64 uint8-quantized weight shards in UMD .js
// files (dist/models/<name>/*.min.js, loaded by dist/esm/core.js's JSONHandler); we read the
// same objects, dequantize to float32 (tf.io.decodeWeights: q·scale + min), keep only the
// layers that feed the feature layer (dropping nsfwjs's classifier: pooling, flatten, dense,
// dropout) and mark every layer trainable (the engine decides what to freeze).
// Idempotent: a folder whose metadata.sourceHash matches is left alone.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { BASE_DEFINITIONS, type BaseDefinition } from './definitions.js';
import type { BaseBlock, BaseInfo } from '../../electron/core/models/metadata.js';
import { writeModelArtifacts, loadModelFolder } from '../../electron/core/engine/model-folder.js';

/** Bump when the output of this step changes for the same inputs. */
const BUILD_VERSION = 1;

const require = createRequire(import.meta.url);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface KerasLayer {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: [string, number, number, Record<string, unknown>?][][];
}
interface KerasTopology {
  keras_version?: string;
  backend?: string;
  model_config: { class_name: string; config: { name: string; layers: KerasLayer[]; input_layers: unknown[]; output_layers: unknown[] } };
  training_config?: unknown;
}
interface NsfwjsModelJson {
  modelTopology: KerasTopology;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

function nsfwjsRoot(): string {
  // nsfwjs's "exports" hides package.json; walk up from its entry point instead.
  let dir = path.dirname(require.resolve('nsfwjs'));
  while (!fs.existsSync(path.join(dir, 'package.json')) || !fs.existsSync(path.join(dir, 'dist', 'models'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('nsfwjs is not installed (npm install)');
    dir = up;
  }
  return dir;
}

function nsfwjsVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(nsfwjsRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

function sourceFiles(def: BaseDefinition): string[] {
  const dir = path.join(nsfwjsRoot(), 'dist', 'models', def.nsfwjsFolder);
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.js'))
    .sort()
    .map((f) => path.join(dir, f));
}

function sourceHash(def: BaseDefinition): string {
  const h = crypto.createHash('sha256');
  h.update(JSON.stringify({ BUILD_VERSION, def, nsfwjs: nsfwjsVersion() }));
  for (const f of sourceFiles(def)) {
    h.update(path.basename(f));
    h.update(fs.readFileSync(f));
  }
  return h.digest('hex');
}

/** The UMD bundles export model.json as an object and each shard as a base64 string. */
function readNsfwjsModel(def: BaseDefinition): { json: NsfwjsModelJson; weightData: ArrayBuffer } {
  const dir = path.join(nsfwjsRoot(), 'dist', 'models', def.nsfwjsFolder);
  const loaded = require(path.join(dir, 'model.min.js')) as NsfwjsModelJson | { default: NsfwjsModelJson };
  const json = 'default' in loaded ? loaded.default : loaded;
  const chunks: Buffer[] = [];
  for (const group of json.weightsManifest) {
    for (const p of group.paths) {
      const shard = require(path.join(dir, `${p}.min.js`)) as string | { default: string };
      chunks.push(Buffer.from(typeof shard === 'string' ? shard : shard.default, 'base64'));
    }
  }
  const all = Buffer.concat(chunks);
  return { json, weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer };
}

/** Layers from the input up to `featureLayer`, in their original order. */
function keepUpTo(layers: KerasLayer[], featureLayer: string): KerasLayer[] {
  const byName = new Map(layers.map((l) => [l.name, l]));
  const needed = new Set<string>();
  const stack = [featureLayer];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (needed.has(name)) continue;
    const layer = byName.get(name);
    if (!layer) throw new Error(`layer ${name} not found in the nsfwjs model`);
    needed.add(name);
    for (const node of layer.inbound_nodes) for (const [inbound] of node) stack.push(inbound);
  }
  return layers.filter((l) => needed.has(l.name));
}

async function buildOne(def: BaseDefinition, outRoot: string, force: boolean): Promise<'built' | 'up to date'> {
  const outDir = path.join(outRoot, def.id);
  const hash = sourceHash(def);
  const metaPath = path.join(outDir, 'metadata.json');
  if (!force && fs.existsSync(metaPath)) {
    const meta = JSON.parse(fs.readFileSync(metaPath, 'utf8')) as BaseInfo;
    const complete = meta.files?.every(
      (f) => fs.existsSync(path.join(outDir, f.path)) && fs.statSync(path.join(outDir, f.path)).size === f.bytes,
    );
    if (meta.sourceHash === hash && complete) return 'up to date';
  }

  const { json, weightData } = readNsfwjsModel(def);
  const config = json.modelTopology.model_config.config;
  const kept = keepUpTo(config.layers, def.featureLayer).map((l) => ({ ...l, config: { ...l.config, trainable: true } }));
  const keptNames = new Set(kept.map((l) => l.name));
  const topology: KerasTopology = {
    keras_version: json.modelTopology.keras_version,
    backend: json.modelTopology.backend,
    model_config: {
      class_name: 'Model',
      config: { name: def.id, layers: kept, input_layers: config.input_layers, output_layers: [[def.featureLayer, 0, 0]] },
    },
  };

  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const decoded = tf.io.decodeWeights(weightData, specs);
  const keptTensors: tf.NamedTensorMap = {};
  for (const [name, t] of Object.entries(decoded)) {
    if (keptNames.has(name.split('/')[0]!)) keptTensors[name] = t;
  }
  const encoded = await tf.io.encodeWeights(keptTensors);
  tf.dispose(Object.values(decoded));

  // Fresh temp folder, then swap: a half-built base is never visible under its id.
  const tmpDir = `${outDir}.tmp-${process.pid}`;
  fs.rmSync(tmpDir, { recursive: true, force: true });
  const files = writeModelArtifacts(tmpDir, {
    modelTopology: topology,
    weightSpecs: encoded.specs,
    weightData: encoded.data,
    format: 'layers-model',
    generatedBy: `keras v${json.modelTopology.keras_version ?? '?'}`,
    convertedBy: `transfer-studio build-bases v${BUILD_VERSION} from nsfwjs ${nsfwjsVersion()}`,
  });

  // Load what we wrote: proves the folder is valid and gives the real output shapes.
  const model = await loadModelFolder(tmpDir);
  const shapeOf = (layer: string): number[] => {
    const s = model.getLayer(layer).outputShape as (number | null)[];
    return s.slice(1) as number[];
  };
  const blocks: BaseBlock[] = def.blocks.map((b) => ({
    name: b.name,
    layer: b.layer,
    outputShape: shapeOf(b.layer),
    ...(b.expandLayer ? { expandLayer: b.expandLayer, expandOutputShape: shapeOf(b.expandLayer) } : {}),
  }));
  const info: BaseInfo = {
    id: def.id,
    name: def.name,
    inputSize: def.inputSize,
    scaling: { from: [0, 255], to: [0, 1] },
    featureLayer: def.featureLayer,
    featureShape: shapeOf(def.featureLayer),
    blocks,
    source: `nsfwjs ${nsfwjsVersion()} (MIT): ImageNet-initialised, fine-tuned by the nsfwjs project on a 5-class content task`,
    strategies: [1, 2, 3],
    sourceHash: hash,
    files,
  };
  model.dispose();
  fs.writeFileSync(path.join(tmpDir, 'metadata.json'), JSON.stringify(info, null, 2) + '\n');
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.renameSync(tmpDir, outDir);
  return 'built';
}

export async function buildBases(
  opts: { outRoot?: string; force?: boolean; only?: string[] } = {},
): Promise<Record<string, 'built' | 'up to date'>> {
  const outRoot = opts.outRoot ?? path.join(repoRoot, 'build', 'models', 'bases');
  fs.mkdirSync(outRoot, { recursive: true });
  await tf.setBackend('cpu');
  const result: Record<string, 'built' | 'up to date'> = {};
  for (const def of BASE_DEFINITIONS) {
    if (opts.only && !opts.only.includes(def.id)) continue;
    result[def.id] = await buildOne(def, outRoot, opts.force ?? false);
  }
  return result;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const force = process.argv.includes('--force');
  const started = Date.now();
  const result = await buildBases({ force });
  for (const [id, state] of Object.entries(result)) console.log(`${id}: ${state}`);
  console.log(`bases ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
