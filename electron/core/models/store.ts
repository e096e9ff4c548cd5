// The model store: <dataDir>/models/<id>/ holds model.json, its weight files and a
// metadata.json of the built-in bases' shape (BaseInfo) plus format and origin. Folders enter
// it only whole: written under a temporary name, then renamed, so a failure leaves nothing.
// Reading it is the registry's job (registry.ts); this module imports, removes and sweeps.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { SCALING_CHOICES, type ModelInfo, type ScalingChoice } from '../../shared/contract-models.js';
import { readModelArtifacts } from '../engine/model-folder.js';
import { ModelStoreError } from './errors.js';
import type { ModelRegistry, StoredModelMeta } from './registry.js';
import { scalingFromChoice, type InputScaling } from './scaling.js';
import { validateModelFolder, type FolderMetadata, type ValidatedFolder } from './validate.js';

export interface StoreCtx {
  models: ModelRegistry;
}

const TMP_PREFIX = '.tmp-';

export function modelsRoot(ctx: StoreCtx): string {
  return ctx.models.storeDir;
}

/** Loads a stored (or built-in) layers model; graph models load with loadGraphModelFolder. */
export async function loadStoredLayersModel(ctx: StoreCtx, id: string): Promise<tf.LayersModel> {
  const meta = ctx.models.meta(id);
  if (meta.format !== 'layers')
    throw new ModelStoreError('unknownFormat', `"${meta.name}" is a graph model: it can only be used to compute features (strategy 3).`);
  return tf.loadLayersModel(tf.io.fromMemory(readModelArtifacts(ctx.models.folder(id))));
}

/** Removes an imported or downloaded model. Built-in bases stay. */
export function removeModel(ctx: StoreCtx, id: string): void {
  if (ctx.models.isBuiltIn(id)) throw new ModelStoreError('exists', `"${id}" is a built-in base model and cannot be removed.`);
  const dir = ctx.models.folder(id);
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
    const taken = ctx.models.isBuiltIn(id) || fs.existsSync(path.join(root, id));
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
    return ctx.models.info(id);
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
