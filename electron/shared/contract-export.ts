// Export calls and events, to be merged into contract.ts (calls/events tables) by the lead.
// Handlers: electron/core/export/handlers.ts (plain functions taking (ctx, args)).
// Progress of an export comes as `export.progress` (its own event, so JobProgress's kinds need no change).
import { z } from 'zod';
import { Id, JobId, SourceToken } from './schemas.js';

/** What an export writes; all four make a deployment bundle. The web demo needs tfjs, the examples need onnx. */
export const ExportPart = z.enum(['tfjs', 'onnx', 'web-demo', 'examples']);
export const ExportFormat = z.enum(['bundle', 'tfjs', 'onnx']);
export const ExportStatus = z.enum(['running', 'done', 'failed', 'cancelled', 'interrupted']);

export const ArtefactParity = z.object({
  artefact: z.enum(['onnx', 'tfjs']),
  quantized: z.boolean(),
  images: z.number().int(),
  /** Largest |probability difference| from the app's, over the test split and the classes. */
  maxAbsDiff: z.number(),
  /** Fraction of test images with the app's top-1 label. */
  agreement: z.number(),
  accuracy: z.number().nullable(),
  passed: z.boolean(),
  reason: z.string().nullable(),
});

export const ParityReport = z.object({
  images: z.number().int(),
  appAccuracy: z.number().nullable(),
  artefacts: z.array(ArtefactParity),
  maxAbsDiff: z.number(),
  agreement: z.number(),
  passed: z.boolean(),
});

/** An export as the UI shows it; the folder stays on the Node side ("Show in folder" asks by id). */
export const ExportInfo = z.object({
  id: Id,
  runId: Id,
  format: ExportFormat,
  parts: z.array(ExportPart),
  quantized: z.boolean(),
  status: ExportStatus,
  /** The folder's name only (e.g. for "run-3-export-7"), not its path. */
  folderName: z.string().nullable(),
  /** The zip's file name only, not its path. */
  zipName: z.string().nullable(),
  hasZip: z.boolean(),
  bytes: z.number().int().nullable(),
  /** The files written (from manifest.json), paths relative to the export's folder. */
  files: z.array(z.object({ path: z.string(), bytes: z.number().int() })),
  /** Parts asked for but not produced, and why (a run on a graph-model base has no ONNX model). */
  skipped: z.array(z.object({ part: ExportPart, reason: z.string() })).default([]),
  maxAbsDiff: z.number().nullable(),
  agreement: z.number().nullable(),
  imagesChecked: z.number().int().nullable(),
  accuracyDelta: z.number().nullable(),
  parity: ParityReport.nullable(),
  error: z.string().nullable(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
});

export const QuantizePreview = z.object({
  runId: Id,
  quantize: z.boolean(),
  images: z.number().int(),
  sizes: z.object({ tfjsFloatBytes: z.number().int(), tfjsQuantizedBytes: z.number().int(), onnxBytes: z.number().int() }),
  floatAccuracy: z.number().nullable(),
  quantizedAccuracy: z.number().nullable(),
  /** quantized − float test accuracy; null without test images. */
  accuracyDelta: z.number().nullable(),
  maxAbsDiff: z.number(),
  agreement: z.number(),
});

const call = <A extends z.ZodType, R extends z.ZodType>(args: A, result: R) => ({ args, result });
const Ok = z.object({ ok: z.literal(true) });

export const exportCalls = {
  /**
   * Desktop only ("Save to folder…"): asks for a folder with the native dialog and hands back a
   * destination for `exports.start` — a new folder inside the chosen one, under a free name — or
   * null when the dialog was cancelled. `folderName` is what the user will find there.
   */
  'exports.pickFolder': call(
    z.object({ runId: Id }),
    z.object({ destination: SourceToken, chosenName: z.string(), folderName: z.string() }).nullable(),
  ),
  /** Starts an export job; progress on export.progress, the outcome on export.finished. */
  'exports.start': call(
    z.object({
      runId: Id,
      formats: z.array(ExportPart).min(1).max(4).default(['tfjs', 'onnx', 'web-demo', 'examples']),
      quantize: z.boolean().default(false),
      /**
       * A folder a host registered to export into (the CLI's `--out`), as its token, never a path;
       * it must be new or empty. Without it the export goes into the data folder.
       */
      destination: SourceToken.optional(),
    }),
    z.object({ jobId: JobId }),
  ),
  'exports.cancel': call(z.object({ jobId: JobId }), Ok),
  /** Sizes and test-accuracy change of 8-bit TF.js weights, shown before the user exports. */
  'exports.preview': call(z.object({ runId: Id, quantize: z.boolean().default(true) }), QuantizePreview),
  /** The run's exports, newest first. */
  'exports.list': call(z.object({ runId: Id }), z.array(ExportInfo)),
  /** Desktop: shows the export's folder in the file manager. Other hosts answer 'unsupported'. */
  'exports.reveal': call(z.object({ exportId: Id }), Ok),
} as const;

export const exportEvents = {
  'export.progress': z.object({
    jobId: JobId,
    runId: Id,
    exportId: Id.nullable(),
    phase: z.string(),
    done: z.number().int(),
    total: z.number().int(),
    /** How far the whole export is, 0..1 (phases weighted by their usual share of the time). */
    fraction: z.number().min(0).max(1).optional(),
    /** Time left, from the time so far and the fraction; null until enough has been seen. */
    etaMs: z.number().nullable().optional(),
    /** What the phase is doing right now, in words. */
    detail: z.string().nullable().optional(),
  }),
  'export.finished': z.object({
    jobId: JobId,
    runId: Id,
    exportId: Id.nullable(),
    status: ExportStatus,
    export: ExportInfo.nullable(),
    message: z.string().nullable(),
    /** With `quantize`: the sizes and accuracy change of the 8-bit weights, as measured by this export. */
    quantization: QuantizePreview.nullable().optional(),
  }),
} as const;

export type ExportEventName = keyof typeof exportEvents;
export type ExportEventPayload<E extends ExportEventName> = z.output<(typeof exportEvents)[E]>;
