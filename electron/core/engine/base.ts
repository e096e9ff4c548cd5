// A base model as the engine uses it: the layers model plus what its metadata says about it.
// The built-in bases come from `npm run build:bases` (build/models/bases/<id>/); imported ones
// are folders of the same shape in the data folder.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadModelFolder } from './model-folder.js';

export interface BaseSpec {
  id: string;
  inputSize: number;
  /** Model input = pixels (0..255) × scale + offset; applied inside every saved model. */
  scale: number;
  offset: number;
  /** Default strategy-3 feature layer (the wizard may choose a better block). */
  featureLayer: string;
  /** Block ends, input side first: candidate strategy-2 boundaries. */
  blocks: string[];
  /** Layers the wizard's linear probe scores (block ends and, where known, expansion layers). */
  probePoints: string[];
}

export interface Base extends BaseSpec {
  model: tf.LayersModel;
}

type RawBlock = string | { name?: string; layer?: string; end?: string; expandLayer?: string };

interface RawMetadata {
  id?: string;
  inputSize?: number | [number, number];
  input?: { size?: number | [number, number]; scaling?: unknown };
  inputScaling?: unknown;
  scaling?: unknown;
  featureLayer?: string;
  blocks?: RawBlock[];
  boundaries?: RawBlock[];
}

/** Reads scaling as "[0,1]", "[-1,1]", [lo, hi], {scale, offset} or {min, max}. */
export function parseScaling(value: unknown): { scale: number; offset: number } {
  const range = (lo: number, hi: number) => ({ scale: (hi - lo) / 255, offset: lo });
  if (typeof value === 'string') {
    const m = value.match(/(-?\d+(?:\.\d+)?)\s*(?:,|\.\.|to|-)\s*(-?\d+(?:\.\d+)?)/);
    if (m) return range(Number(m[1]), Number(m[2]));
  }
  if (Array.isArray(value) && value.length === 2) return range(Number(value[0]), Number(value[1]));
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.scale === 'number') return { scale: o.scale, offset: typeof o.offset === 'number' ? o.offset : 0 };
    if (typeof o.min === 'number' && typeof o.max === 'number') return range(o.min, o.max);
    if (Array.isArray(o.range)) return parseScaling(o.range);
    if (Array.isArray(o.from) && Array.isArray(o.to)) {
      const [f0, f1] = o.from.map(Number) as [number, number];
      const [t0, t1] = o.to.map(Number) as [number, number];
      const scale = (t1 - t0) / (f1 - f0);
      return { scale, offset: t0 - f0 * scale };
    }
  }
  throw new Error(`Unknown input scaling ${JSON.stringify(value)}; expected e.g. "[0,1]" or {scale, offset}.`);
}

export function readBaseSpec(dir: string, fallbackId = path.basename(dir)): BaseSpec {
  const file = path.join(dir, 'metadata.json');
  if (!fs.existsSync(file)) throw new Error(`The base model folder ${dir} has no metadata.json.`);
  const m = JSON.parse(fs.readFileSync(file, 'utf8')) as RawMetadata;
  const size = m.inputSize ?? m.input?.size;
  const inputSize = Array.isArray(size) ? size[0] : size;
  if (!inputSize) throw new Error(`${file} does not say the input size.`);
  const raw = m.blocks ?? m.boundaries ?? [];
  const blocks = raw.map((b) => (typeof b === 'string' ? b : (b.end ?? b.layer ?? b.name ?? ''))).filter((b) => b.length > 0);
  const probePoints = raw
    .flatMap((b) => (typeof b === 'string' ? [b] : [b.expandLayer, b.end ?? b.layer ?? b.name]))
    .filter((b): b is string => !!b);
  const featureLayer = m.featureLayer ?? blocks[blocks.length - 1];
  if (!featureLayer) throw new Error(`${file} names no feature layer and no blocks.`);
  return {
    id: m.id ?? fallbackId,
    inputSize,
    ...parseScaling(m.inputScaling ?? m.input?.scaling ?? m.scaling ?? '[0,1]'),
    featureLayer,
    blocks,
    probePoints,
  };
}

export async function loadBaseFolder(dir: string): Promise<Base> {
  const spec = readBaseSpec(dir);
  const model = await loadModelFolder(dir);
  for (const name of [spec.featureLayer, ...spec.blocks, ...spec.probePoints]) model.getLayer(name); // fails early on a bad name
  return { ...spec, model };
}

/** The built-in bases' folder: build output in development, resources when packaged. */
export function builtInBasesDir(): string {
  return process.env.STUDIO_BASES_DIR ?? path.resolve(process.cwd(), 'build', 'models', 'bases');
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
