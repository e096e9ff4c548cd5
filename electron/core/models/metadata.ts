// The metadata.json beside every base model folder (built-in ones written by
// build/bases/build-bases.ts, imported and downloaded ones by the store), and the one reader
// that turns it into what the engine needs (BaseSpec). The engine never reads it itself.
import fs from 'node:fs';
import path from 'node:path';
import { readScaling, type InputScaling } from './scaling.js';

export type { InputScaling } from './scaling.js';

export interface BaseBlock {
  name: string;
  /** Layer whose output ends the block: a strategy-2 boundary and a linear-probe point. */
  layer: string;
  /** Output shape without the batch dimension, channels last: [H, W, C]. */
  outputShape: number[];
  /** MobileNetV2: the block's expansion activation (the DESIGN's "block 13's expansion"). */
  expandLayer?: string;
  expandOutputShape?: number[];
}

export interface BaseInfo {
  id: string;
  name: string;
  /** Square input side in pixels; the model takes RGB uint8 at this size (the one input contract). */
  inputSize: number;
  /**
   * Where pixels get scaled. The tfjs model folder holds the network as its source shipped it
   * and expects already-scaled floats: the engine applies `scaling` in tfjs, and every saved or
   * exported model carries the same arithmetic inside, so it takes raw uint8.
   */
  scaling: InputScaling;
  /** The model's output layer: the last convolutional feature map (not pooled). */
  featureLayer: string;
  featureShape: number[];
  blocks: BaseBlock[];
  source: string;
  strategies: number[];
  /** sha256 over the sources (and, for built-ins, the build step's version). */
  sourceHash: string;
  /** Files in the folder with their sizes, for a quick integrity check. */
  files: { path: string; bytes: number }[];
}

/** What the engine needs to know about a base besides its weights. Plain data: it crosses to the engine process. */
export interface BaseSpec {
  id: string;
  inputSize: number;
  scaling: InputScaling;
  /** Default strategy-3 feature layer (the wizard may choose a better block). */
  featureLayer: string;
  /** Block ends, input side first: candidate strategy-2 boundaries. */
  blocks: string[];
  /** Layers the wizard's linear probe scores (block ends and, where known, expansion layers), input side first. */
  probePoints: string[];
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

function readMetadataFile(dir: string): unknown {
  const file = path.join(dir, 'metadata.json');
  if (!fs.existsSync(file)) throw new Error(`The base model folder ${dir} has no metadata.json.`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
}

/** metadata.json (ours, or a hand-written one in the shapes people use) → BaseSpec. */
export function specFromMetadata(raw: unknown, fallbackId: string, where: string): BaseSpec {
  const m = raw as RawMetadata;
  const size = m.inputSize ?? m.input?.size;
  const inputSize = Array.isArray(size) ? size[0] : size;
  if (!inputSize) throw new Error(`${where} does not say the input size.`);
  const list = m.blocks ?? m.boundaries ?? [];
  const end = (b: RawBlock) => (typeof b === 'string' ? b : (b.end ?? b.layer ?? b.name ?? ''));
  const blocks = list.map(end).filter((b) => b.length > 0);
  const probePoints = list.flatMap((b) => (typeof b === 'string' ? [b] : [b.expandLayer, end(b)])).filter((b): b is string => !!b);
  const featureLayer = m.featureLayer ?? blocks[blocks.length - 1];
  if (!featureLayer) throw new Error(`${where} names no feature layer and no blocks.`);
  let scaling: InputScaling | undefined;
  try {
    scaling = readScaling(m.scaling ?? m.inputScaling ?? m.input?.scaling);
  } catch (err) {
    throw new Error(`${where}: ${(err as Error).message}.`, { cause: err });
  }
  if (!scaling) throw new Error(`${where} does not say the input scaling.`);
  return { id: m.id ?? fallbackId, inputSize, scaling, featureLayer, blocks, probePoints };
}

/** The spec of a base model folder from its metadata.json. */
export function readBaseSpec(dir: string, fallbackId = path.basename(dir)): BaseSpec {
  return specFromMetadata(readMetadataFile(dir), fallbackId, path.join(dir, 'metadata.json'));
}
