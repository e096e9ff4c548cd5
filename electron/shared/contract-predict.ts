// Prediction calls and events, to be merged into contract.ts (calls/events tables) by the lead.
// Handlers: electron/core/predict/handlers.ts (plain functions taking (ctx, args)).
// Progress of a project prediction comes as `job.progress` with kind 'predict'.
import { z } from 'zod';
import { byName, Id, JobId, SourceToken } from './schemas.js';

const Ok = z.object({ ok: z.literal(true) });

/** Formats the import pipeline reads; the bytes are sniffed anyway, the mime only has to be plausible. */
export const ClassifyMime = z.enum(['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/tiff', 'image/bmp']);

export const LabelProbability = z.object({ label: z.string(), p: z.number() });

export const ClassifyResult = z.object({
  /** The most probable label, and its probability. */
  label: z.string(),
  probability: z.number(),
  /** Every label of the run with its probability. */
  probabilities: byName(z.number()),
  /** Up to five labels, most probable first. */
  top: z.array(LabelProbability).max(5),
  /** What computed it: 'onnx-cpu' (or another provider), or 'tfjs (fallback: <why>)'. */
  runtime: z.string(),
});

export const PredictionRow = z.object({
  imageId: Id,
  /** The run's label name; null when the image could not be read. */
  label: z.string().nullable(),
  /** The project's label of that name, if it still has one. */
  labelId: Id.nullable(),
  confidence: z.number().nullable(),
  error: z.string().nullable(),
});

/** One file of a `runs.predictFiles` batch, by its position in the batch (the host knows which file that is). */
export const FilePrediction = z.union([
  z.object({
    index: z.number().int().min(0),
    label: z.string(),
    probability: z.number(),
    probabilities: byName(z.number()),
  }),
  z.object({ index: z.number().int().min(0), error: z.string() }),
]);

export const PredictStatus = z.enum(['done', 'cancelled', 'failed']);

const call = <A extends z.ZodType, R extends z.ZodType>(args: A, result: R) => ({ args, result });

export const predictCalls = {
  /** "Try it": one image (dropped file, webcam frame) through a trained run. */
  'runs.classify': call(
    z.object({
      runId: Id,
      mime: ClassifyMime,
      // Same bound as images.capture: far more than one photo, small enough to refuse abuse.
      dataBase64: z
        .string()
        .min(16)
        .max(16_000_000)
        .regex(/^[A-Za-z0-9+/]+=*$/, 'Not base64'),
    }),
    ClassifyResult,
  ),
  /**
   * Classifies a batch of local files a host registered (the CLI's `studio predict`); `files` is
   * that registration's token, never a path. An unreadable file gets an `error`, the rest still run.
   */
  'runs.predictFiles': call(
    z.object({ runId: Id, files: SourceToken }),
    z.object({
      runtime: z.string(),
      labels: z.array(z.string()),
      inputSize: z.number().int(),
      predictions: z.array(FilePrediction),
    }),
  ),
  /** Predicts every active image of the run's project; progress on job.progress, end on predict.finished. */
  'runs.predictProject': call(z.object({ runId: Id }), z.object({ jobId: JobId })),
  'runs.cancelPrediction': call(z.object({ jobId: JobId }), Ok),
  /** Stored predictions of a run, by image id. */
  'runs.predictions': call(
    z.object({ runId: Id, offset: z.number().int().min(0).default(0), limit: z.number().int().min(1).max(1000).default(200) }),
    z.object({ total: z.number().int(), runtime: z.string().nullable(), rows: z.array(PredictionRow) }),
  ),
} as const;

export const predictEvents = {
  'predict.finished': z.object({
    runId: Id,
    projectId: Id,
    jobId: JobId,
    status: PredictStatus,
    predicted: z.number().int(),
    failed: z.number().int(),
    durationMs: z.number(),
    runtime: z.string().nullable(),
    error: z.string().optional(),
  }),
} as const;

export type PredictCalls = typeof predictCalls;
export type PredictEventName = keyof typeof predictEvents;
export type PredictEventPayload<E extends PredictEventName> = z.output<(typeof predictEvents)[E]>;
export type ClassifyResult = z.output<typeof ClassifyResult>;
export type PredictionRow = z.output<typeof PredictionRow>;
export type FilePrediction = z.output<typeof FilePrediction>;
