// The model store: <dataDir>/models/<id>/ holds model.json, its weight files and a
// metadata.json of the built-in bases' shape (BaseInfo) plus format and origin. Folders enter
// it only whole: written under a temporary name, then renamed, so a failure leaves nothing.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { DataPaths } from '../paths.js';
import type { BaseInfo, InputScaling } from '../engine/bases/types.js';
import { listBases, baseDir } from '../engine/bases/index.js';
import { SCALING_CHOICES, type ModelInfo, type ScalingChoice } from '../../shared/contract-models.js';
import { ModelStoreError } from './errors.js';
import { scalingFromChoice } from './scaling.js';
import { safeRelativePath, validateModelFolder, type FolderMetadata, type ModelFormat, type ValidatedFolder } from './validate.js';

export interface StoreCtx {
  paths: DataPaths;
}

/** metadata.json of a stored model: the bases' metadata, plus what only the store knows. */
export interface StoredModelMeta extends BaseInfo {
  format: ModelFormat;
  origin: 'imported' | 'downloaded';
  addedAt: string;
}

const TMP_PREFIX = '.tmp-';
const GRAPH_LIMITATION = 'strategy 3 only';

export function modelsRoot(ctx: StoreCtx): string {
  return path.join(ctx.paths.root, 'models');
}

function isBuiltIn(id: string): boolean {
  return listBases().some((b) => b.id === id);
}

function readStoredMeta(dir: string): StoredModelMeta | null {
  try {
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'metadata.json'), 'utf8')) as StoredModelMeta;
    return typeof meta.id === 'string' && typeof meta.inputSize === 'number' && meta.scaling ? meta : null;
  } catch {
    return null;
  }
}

function limitationOf(strategies: number[]): string | null {
  return strategies.length === 1 && strategies[0] === 3 ? GRAPH_LIMITATION : null;
}

function toInfo(meta: BaseInfo & { format?: ModelFormat }, origin: ModelInfo['origin']): ModelInfo {
  const format = meta.format ?? 'layers';
  const strategies = format === 'graph' ? [3] : meta.strategies;
  return {
    id: meta.id,
    name: meta.name,
    source: meta.source,
    origin,
    inputSize: meta.inputSize,
    scaling: meta.scaling,
    format,
    strategies,
    limitation: limitationOf(strategies),
    bytes: (meta.files ?? []).reduce((s, f) => s + f.bytes, 0),
  };
}

/** Built-in bases (from the build output) first, then imported and downloaded ones by name. */
export function listModels(ctx: StoreCtx): ModelInfo[] {
  const builtIn = listBases().map((b) => toInfo(b, 'builtin'));
  const root = modelsRoot(ctx);
  const stored: ModelInfo[] = [];
  if (fs.existsSync(root)) {
    for (const d of fs.readdirSync(root, { withFileTypes: true })) {
      if (!d.isDirectory() || d.name.startsWith('.')) continue;
      const meta = readStoredMeta(path.join(root, d.name));
      // A folder without readable metadata is not a model we can offer; leave it for the user.
      if (meta && meta.id === d.name && !builtIn.some((b) => b.id === meta.id)) stored.push(toInfo(meta, meta.origin));
    }
  }
  stored.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  return [...builtIn, ...stored];
}

/** The folder of a model by id: a built-in base or a stored one. */
export function modelDir(ctx: StoreCtx, id: string): string {
  if (!/^[a-z0-9_.-]{1,64}$/i.test(id) || id.startsWith('.'))
    throw new ModelStoreError('notFolder', `There is no base model "${id.slice(0, 64)}".`);
  if (isBuiltIn(id)) return baseDir(id);
  const dir = path.join(modelsRoot(ctx), id);
  if (!readStoredMeta(dir)) throw new ModelStoreError('notFolder', `There is no base model "${id}".`);
  return dir;
}

export function readModelMeta(ctx: StoreCtx, id: string): StoredModelMeta | (BaseInfo & { format: 'layers'; origin: 'builtin' }) {
  const dir = modelDir(ctx, id);
  if (isBuiltIn(id))
    return { ...(JSON.parse(fs.readFileSync(path.join(dir, 'metadata.json'), 'utf8')) as BaseInfo), format: 'layers', origin: 'builtin' };
  return readStoredMeta(dir)!;
}

/** A tfjs IOHandler reading a stored model folder (model.json + manifest files) with node:fs. */
export function storeIOHandler(dir: string): tf.io.IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(await fs.promises.readFile(path.join(dir, 'model.json'), 'utf8')) as {
        modelTopology: object;
        weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
        [k: string]: unknown;
      };
      const buffers: Buffer[] = [];
      const specs: tf.io.WeightsManifestEntry[] = [];
      for (const group of json.weightsManifest) {
        for (const p of group.paths)
          buffers.push(await fs.promises.readFile(path.join(dir, ...safeRelativePath(p, 'Weight file').split('/'))));
        specs.push(...group.weights);
      }
      const all = Buffer.concat(buffers);
      const { weightsManifest: _manifest, ...rest } = json;
      return {
        ...rest,
        modelTopology: json.modelTopology,
        weightSpecs: specs,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer,
      } as tf.io.ModelArtifacts;
    },
  };
}

/** Loads a stored (or built-in) layers model; graph models load with tf.loadGraphModel(storeIOHandler(dir)). */
export async function loadStoredLayersModel(ctx: StoreCtx, id: string): Promise<tf.LayersModel> {
  const meta = readModelMeta(ctx, id);
  if (meta.format !== 'layers')
    throw new ModelStoreError('unknownFormat', `"${meta.name}" is a graph model: it can only be used to compute features (strategy 3).`);
  return tf.loadLayersModel(storeIOHandler(modelDir(ctx, id)));
}

/** Removes an imported or downloaded model. Built-in bases stay. */
export function removeModel(ctx: StoreCtx, id: string): void {
  if (isBuiltIn(id)) throw new ModelStoreError('exists', `"${id}" is a built-in base model and cannot be removed.`);
  const dir = modelDir(ctx, id);
  // Rename first so a half-deleted folder never looks like a model.
  const doomed = path.join(modelsRoot(ctx), `${TMP_PREFIX}rm-${crypto.randomBytes(6).toString('hex')}`);
  fs.renameSync(dir, doomed);
  fs.rmSync(doomed, { recursive: true, force: true });
}

/** Temporary folders left by a crash; call at start-up, before any import or download runs. */
export function sweepModelStore(ctx: StoreCtx): number {
  const root = modelsRoot(ctx);
  if (!fs.existsSync(root)) return 0;
  let n = 0;
  for (const d of fs.readdirSync(root)) {
    if (!d.startsWith(TMP_PREFIX)) continue;
    fs.rmSync(path.join(root, d), { recursive: true, force: true });
    n++;
  }
  return n;
}

export function newTempDir(ctx: StoreCtx, kind: string): string {
  const root = modelsRoot(ctx);
  fs.mkdirSync(root, { recursive: true });
  const dir = path.join(root, `${TMP_PREFIX}${kind}-${crypto.randomBytes(6).toString('hex')}`);
  fs.mkdirSync(dir);
  return dir;
}

function slug(text: string): string {
  const s = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '_')
    .replace(/^[._-]+|[._-]+$/g, '')
    .slice(0, 48);
  return s || 'model';
}

async function sha256File(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Writes metadata.json into `tmp` (which already holds the model files) and renames it to
 * models/<id>. With `preferredId` taken, tries id_2, id_3…; with `exactId`, refuses instead.
 */
export async function commitTempFolder(
  ctx: StoreCtx,
  tmp: string,
  v: ValidatedFolder,
  info: { name: string; source: string; origin: StoredModelMeta['origin']; scaling: InputScaling; id: string; exactId: boolean },
): Promise<ModelInfo> {
  const fileHashes: string[] = [];
  for (const f of v.files) fileHashes.push(`${f.path}:${await sha256File(path.join(tmp, ...f.path.split('/')))}`);
  const root = modelsRoot(ctx);
  for (let attempt = 1; attempt < 1000; attempt++) {
    const id = attempt === 1 ? info.id : `${info.id.slice(0, 60)}_${attempt}`;
    const taken = isBuiltIn(id) || fs.existsSync(path.join(root, id));
    if (taken) {
      if (info.exactId) throw new ModelStoreError('exists', `A base model with id "${id}" is already in the store.`);
      continue;
    }
    const meta: StoredModelMeta = {
      id,
      name: info.name,
      inputSize: v.inputSize,
      scaling: info.scaling,
      featureLayer: v.featureLayer,
      featureShape: v.featureShape,
      blocks: v.blocks,
      source: info.source,
      strategies: v.format === 'graph' ? [3] : [1, 2, 3],
      sourceHash: crypto.createHash('sha256').update(fileHashes.join('\n')).digest('hex'),
      files: v.files,
      format: v.format,
      origin: info.origin,
      addedAt: new Date().toISOString(),
    };
    fs.writeFileSync(path.join(tmp, 'metadata.json'), JSON.stringify(meta, null, 2));
    try {
      // rename() onto an existing non-empty folder fails, so two imports racing for one id cannot both win.
      fs.renameSync(tmp, path.join(root, id));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'EPERM') && !info.exactId) continue;
      if (code === 'ENOTEMPTY' || code === 'EEXIST')
        throw new ModelStoreError('exists', `A base model with id "${id}" is already in the store.`);
      throw err;
    }
    return toInfo(meta, meta.origin);
  }
  throw new ModelStoreError('exists', `Too many models named "${info.id}" in the store.`);
}

export interface ImportOptions {
  /** The user's answer when the folder's metadata does not say (see `needsScaling`). */
  scaling?: ScalingChoice;
}

/**
 * Imports a tfjs model folder into the store. Layers models are usable with every strategy;
 * graph models with strategy 3 only. Throws ModelStoreError (reason 'needsScaling' when the
 * folder does not say its input scaling and `scaling` was not given); the store is unchanged
 * on any failure.
 */
export async function importModelFolder(ctx: StoreCtx, folder: string, options: ImportOptions = {}): Promise<ModelInfo> {
  const overrides: FolderMetadata = options.scaling ? { scaling: scalingFromChoice(options.scaling) } : {};
  const v = await validateModelFolder(folder, overrides);
  if (!v.scaling) {
    throw new ModelStoreError(
      'needsScaling',
      `The folder does not say which range this model expects its pixels in. Choose one of ${SCALING_CHOICES.join(', ')} (see where the model comes from: e.g. MobileNet uses [-1,1], nsfwjs models [0,1]).`,
    );
  }
  const tmp = newTempDir(ctx, 'import');
  try {
    for (const f of v.files) {
      const to = path.join(tmp, ...f.path.split('/'));
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.copyFileSync(path.join(folder, ...f.path.split('/')), to);
      // Re-check sizes: the source folder could change while we copy.
      if (fs.statSync(to).size !== f.bytes)
        throw new ModelStoreError('wrongWeightSize', `"${f.path}" changed while it was being copied; try again.`);
    }
    const folderName = path.basename(path.resolve(folder));
    return await commitTempFolder(ctx, tmp, v, {
      id: slug(v.metadata.name ?? folderName),
      exactId: false,
      name: v.metadata.name ?? folderName,
      source:
        v.metadata.source ??
        `Imported from the folder “${folderName}” on ${new Date().toISOString().slice(0, 10)}; origin and licence not recorded`,
      origin: 'imported',
      scaling: v.scaling,
    });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
