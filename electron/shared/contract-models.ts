// Model store calls and events, to be merged into contract.ts (calls/events tables) by the lead.
// Handlers: electron/core/models/handlers.ts (plain functions taking (ctx, args)).
import { z } from 'zod';
import { SourceToken } from './schemas.js';

export const ModelId = z.string().regex(/^[a-z0-9_.-]{1,64}$/i, 'Not a model id');
const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'Not a lowercase hex sha256');

/** Linear map of pixel values: uint8 [from[0], from[1]] → [to[0], to[1]] (the bases' InputScaling). */
export const InputScaling = z.object({ from: z.tuple([z.number(), z.number()]), to: z.tuple([z.number(), z.number()]) });

/** The three ranges the import dialog offers when a folder does not say its input scaling. */
export const ScalingChoice = z.enum(['[0,1]', '[-1,1]', '[0,255]']);
export const SCALING_CHOICES = ScalingChoice.options;

export const ModelFormat = z.enum(['layers', 'graph']);
export const ModelOrigin = z.enum(['builtin', 'imported', 'downloaded']);

/** One base model as the UI sees it: never a path. Graph models train with strategy 3 only. */
export const ModelInfo = z.object({
  id: ModelId,
  name: z.string(),
  /** Where it comes from, in plain words (shown as is). */
  source: z.string(),
  origin: ModelOrigin,
  inputSize: z.number().int().positive(),
  scaling: InputScaling,
  format: ModelFormat,
  strategies: z.array(z.number().int().min(1).max(3)),
  /** "strategy 3 only" for graph models, else null. */
  limitation: z.string().nullable(),
  bytes: z.number().int().nonnegative(),
});

/**
 * A catalogue entry: every file of the model folder with its URL, size and sha256 (no archive
 * to unpack), and the metadata the store needs (input size and scaling at least).
 */
export const CatalogueFile = z.object({
  /** Relative path inside the model folder, e.g. "model.json" or "group1-shard1of2.bin". */
  path: z.string().min(1).max(200),
  url: z.string().url(),
  bytes: z.number().int().nonnegative(),
  sha256: Sha256,
});

export const CatalogueEntry = z.object({
  id: ModelId,
  name: z.string().min(1).max(200),
  source: z.string().min(1).max(500),
  files: z.array(CatalogueFile).min(2).max(500),
  metadata: z.object({
    inputSize: z.number().int().positive(),
    scaling: z.union([ScalingChoice, InputScaling]),
    featureLayer: z.string().optional(),
  }),
});

export const Catalogue = z.object({ version: z.literal(1), entries: z.array(CatalogueEntry) });

export const CatalogueItem = z.object({
  id: ModelId,
  name: z.string(),
  source: z.string(),
  bytes: z.number().int().nonnegative(),
  installed: z.boolean(),
});

export const ImportResult = z.discriminatedUnion('status', [
  z.object({ status: z.literal('imported'), model: ModelInfo }),
  /**
   * The folder does not say its input scaling: ask the user (options) and call again with the
   * fresh `source` token (the first one is spent).
   */
  z.object({ status: z.literal('needsScaling'), message: z.string(), options: z.array(ScalingChoice), source: SourceToken }),
]);

const call = <A extends z.ZodType, R extends z.ZodType>(args: A, result: R) => ({ args, result });
const Ok = z.object({ ok: z.literal(true) });
const DownloadId = z.string().regex(/^[A-Za-z0-9_-]{4,64}$/);

export const modelCalls = {
  /** Built-in bases first, then imported and downloaded ones. */
  'models.list': call(z.object({}), z.array(ModelInfo)),
  /** A tfjs model folder picked with import.pickSource({kind: 'folder'}). */
  'models.import': call(z.object({ source: SourceToken, scaling: ScalingChoice.optional() }), ImportResult),
  /** Imported and downloaded models only; built-in bases cannot be removed. */
  'models.remove': call(z.object({ id: ModelId }), Ok),
  'models.catalogue': call(z.object({}), z.array(CatalogueItem)),
  /** Starts a download; progress and the end arrive as events. */
  'models.download': call(z.object({ entryId: ModelId }), z.object({ downloadId: DownloadId })),
  'models.cancelDownload': call(z.object({ downloadId: DownloadId }), Ok),
} as const;

export const modelEvents = {
  'models.downloadProgress': z.object({
    downloadId: DownloadId,
    entryId: ModelId,
    file: z.string(),
    bytesDone: z.number().int().nonnegative(),
    bytesTotal: z.number().int().nonnegative(),
    etaMs: z.number().nullable(),
  }),
  'models.downloadFinished': z.object({
    downloadId: DownloadId,
    entryId: ModelId,
    status: z.enum(['done', 'failed', 'cancelled']),
    /** Why it failed, naming the file (null when done). */
    message: z.string().nullable(),
    model: ModelInfo.nullable(),
  }),
} as const;

export type ModelInfo = z.infer<typeof ModelInfo>;
export type ScalingChoice = z.infer<typeof ScalingChoice>;
export type CatalogueEntry = z.infer<typeof CatalogueEntry>;
export type CatalogueFile = z.infer<typeof CatalogueFile>;
export type ImportResult = z.infer<typeof ImportResult>;
export type ModelEventName = keyof typeof modelEvents;
export type ModelEventPayload<E extends ModelEventName> = z.output<(typeof modelEvents)[E]>;
