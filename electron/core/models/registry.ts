// The one model registry: built-in bases (a read-only folder of the app's resources) and the
// store of imported and downloaded ones (<data>/models/<id>/), both folders of the same shape
// (model.json, weights, metadata.json). Training, the wizard, export and `models.list` find a
// base by id here and nowhere else.
import fs from 'node:fs';
import path from 'node:path';
import type { ModelInfo } from '../../shared/contract-models.js';
import type { BaseRef } from '../engine/base.js';
import { ModelStoreError } from './errors.js';
import { specFromMetadata, type BaseInfo } from './metadata.js';
import type { ModelFormat } from './validate.js';

/** metadata.json of a stored model: the bases' metadata, plus what only the store knows. */
export interface StoredModelMeta extends BaseInfo {
  format: ModelFormat;
  origin: 'imported' | 'downloaded';
  addedAt: string;
}

export type RegisteredMeta = StoredModelMeta | (BaseInfo & { format: 'layers'; origin: 'builtin' });

const ID = /^[a-z0-9_.-]{1,64}$/i;
const GRAPH_LIMITATION = 'strategy 3 only';

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  } catch {
    return null;
  }
}

function readStoredMeta(dir: string): StoredModelMeta | null {
  const meta = readJson(path.join(dir, 'metadata.json')) as StoredModelMeta | null;
  return meta && typeof meta.id === 'string' && typeof meta.inputSize === 'number' && meta.scaling ? meta : null;
}

function toInfo(meta: RegisteredMeta): ModelInfo {
  const format = meta.format ?? 'layers';
  const strategies = format === 'graph' ? [3] : meta.strategies;
  return {
    id: meta.id,
    name: meta.name,
    source: meta.source,
    origin: meta.origin,
    inputSize: meta.inputSize,
    scaling: meta.scaling,
    format,
    strategies,
    limitation: strategies.length === 1 && strategies[0] === 3 ? GRAPH_LIMITATION : null,
    bytes: (meta.files ?? []).reduce((s, f) => s + f.bytes, 0),
  };
}

export class ModelRegistry {
  /**
   * @param builtInDir the built-in bases (the environment's resources; may be missing in a
   *   checkout before `npm run build:bases`)
   * @param storeDir imported and downloaded models, in the data folder
   */
  constructor(
    readonly builtInDir: string,
    readonly storeDir: string,
  ) {}

  /** Built-in bases with a metadata.json, sorted by id. */
  builtIns(): BaseInfo[] {
    if (!fs.existsSync(this.builtInDir)) return [];
    return fs
      .readdirSync(this.builtInDir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && ID.test(d.name))
      .map((d) => readJson(path.join(this.builtInDir, d.name, 'metadata.json')) as BaseInfo | null)
      .filter((m): m is BaseInfo => !!m && typeof m.id === 'string')
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  isBuiltIn(id: string): boolean {
    return ID.test(id) && !id.startsWith('.') && fs.existsSync(path.join(this.builtInDir, id, 'metadata.json'));
  }

  /** Built-in bases first, then imported and downloaded ones by name. */
  list(): ModelInfo[] {
    const builtIn = this.builtIns().map((b) => toInfo({ ...b, format: 'layers', origin: 'builtin' }));
    const stored: ModelInfo[] = [];
    if (fs.existsSync(this.storeDir)) {
      for (const d of fs.readdirSync(this.storeDir, { withFileTypes: true })) {
        if (!d.isDirectory() || d.name.startsWith('.')) continue;
        const meta = readStoredMeta(path.join(this.storeDir, d.name));
        // A folder without readable metadata is not a model we can offer; leave it for the user.
        if (meta && meta.id === d.name && !builtIn.some((b) => b.id === meta.id)) stored.push(toInfo(meta));
      }
    }
    stored.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    return [...builtIn, ...stored];
  }

  /** The folder of a model by id: a built-in base or a stored one. */
  folder(id: string): string {
    if (!ID.test(id) || id.startsWith('.')) throw new ModelStoreError('notFolder', `There is no base model "${id.slice(0, 64)}".`);
    if (this.isBuiltIn(id)) return path.join(this.builtInDir, id);
    const dir = path.join(this.storeDir, id);
    if (!readStoredMeta(dir)) throw new ModelStoreError('notFolder', this.missing(id));
    return dir;
  }

  meta(id: string): RegisteredMeta {
    const dir = this.folder(id);
    if (this.isBuiltIn(id)) return { ...(readJson(path.join(dir, 'metadata.json')) as BaseInfo), format: 'layers', origin: 'builtin' };
    return readStoredMeta(dir)!;
  }

  info(id: string): ModelInfo {
    return toInfo(this.meta(id));
  }

  /** What the engine needs to train on a base: its folder and spec. */
  base(id: string): BaseRef & { format: ModelFormat } {
    const meta = this.meta(id);
    const dir = this.folder(id);
    if (!fs.existsSync(path.join(dir, 'model.json'))) throw new ModelStoreError('notFolder', this.missing(id));
    const spec = specFromMetadata(meta, id, `The metadata of base model "${id}"`);
    // A graph model has no layers to cut: its one probe point is the feature node, and no boundaries.
    if (meta.format === 'graph') return { dir, spec: { ...spec, blocks: [], probePoints: [spec.featureLayer] }, format: 'graph' };
    return { dir, spec, format: meta.format };
  }

  /** Name and origin in plain words, for model cards; a base removed since is said to be gone. */
  describe(id: string): { id: string; name: string; source: string } {
    try {
      const meta = this.meta(id);
      const where = meta.origin === 'builtin' ? 'built in' : meta.origin;
      return { id, name: meta.name, source: `${where}; ${meta.source}` };
    } catch {
      return { id, name: id, source: 'unknown (the base model is no longer installed)' };
    }
  }

  private missing(id: string): string {
    return `There is no base model "${id}": it is neither built in nor imported (import it under Models, or with \`studio models import\`).`;
  }
}
