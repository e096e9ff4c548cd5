// What a finished run got wrong, and what to fix: per-image predictions (held-out for checking
// and test pictures, out-of-fold for training pictures), the test confusion matrix, pictures
// whose label looks wrong, and advice in plain words. Handlers: electron/core/eval/handlers.ts.
// The CLI's `studio eval RUN --json` prints `eval.report` as is (README "studio eval").
import { z } from 'zod';
import { Id, HistoryState } from './schemas.js';

export const PredictionKind = z.enum(['held-out', 'out-of-fold', 'head-out-of-fold', 'unlabeled']);
export const SplitName = z.enum(['train', 'validation', 'test']);

export const EvalImage = z.object({
  imageId: Id,
  originalName: z.string(),
  /** The label the run was given; null for an unlabeled picture it only predicted. */
  label: z.string().nullable(),
  split: SplitName.nullable(),
  predicted: z.string(),
  /** Probability of `predicted`. */
  confidence: z.number(),
  /** Probability of `label` (null when unlabeled). */
  labelProbability: z.number().nullable(),
  /** −ln p(label): how wrong the model is about the picture (null when unlabeled). */
  loss: z.number().nullable(),
  kind: PredictionKind,
  /** The picture as the project has it now: gone (removed), excluded, or its current label. */
  now: z.object({ present: z.boolean(), excluded: z.boolean(), labelId: Id.nullable(), label: z.string().nullable() }),
});

export const LabelDoubt = z.object({
  imageId: Id,
  originalName: z.string(),
  givenLabel: z.string(),
  suggestedLabel: z.string(),
  /** Probability of the suggested label, from a model that did not learn from this picture. */
  confidence: z.number(),
});

export const Advice = z.object({
  /** One sentence a person can act on, naming labels and counts. */
  text: z.string(),
  /** The pictures it is about (opens them as a gallery). */
  imageIds: z.array(Id),
});

export const EvalReport = z.object({
  runId: Id,
  projectId: Id,
  labels: z.array(z.string()),
  /** True for strategies 1–2: training pictures were predicted by refitting the classifier alone (the fine-tuned network did see them). */
  trunkSawTrainingImages: z.boolean(),
  /** Epochs of each of the five refits, at most (lighter than the run itself). */
  refitEpochs: z.number().int().nullable(),
  /** Test pictures: rows = given label, columns = predicted, in `labels` order. */
  confusion: z.array(z.array(z.number().int())),
  images: z.array(EvalImage),
  /** Most doubtful first; pictures a person confirmed (and has not relabeled since) are left out. */
  suspectedLabelErrors: z.array(LabelDoubt),
  advice: z.array(Advice),
});

export const RunComparison = z.object({
  runIds: z.tuple([Id, Id]),
  /** Test pictures both runs were tested on, matched by content. */
  sharedTest: z.number().int(),
  accuracy: z.tuple([z.number().nullable(), z.number().nullable()]),
  /** The better run on those pictures, or null for a tie (or none shared). */
  better: Id.nullable(),
  /** What differs between the two runs' settings, in words. */
  changes: z.array(z.string()),
});

const call = <A extends z.ZodType, R extends z.ZodType>(args: A, result: R) => ({ args, result });

export const evalCalls = {
  /** Everything a finished run says about the project's pictures; runs recorded before this existed have empty lists. */
  'eval.report': call(z.object({ runId: Id }), EvalReport),
  /** Which of two runs of one project is better on the test pictures they share (by content hash). */
  'eval.compare': call(z.object({ runId: Id, otherRunId: Id }), RunComparison),
  /**
   * The project's best finished run, the one the run history marks: runs are compared in the
   * order they were made, each against the best so far, on the test pictures both share by content
   * (`eval.compare`); a later run takes the mark only by being better there. Runs that share no
   * test picture (recorded before per-picture results) fall back to their own test scores.
   */
  'eval.best': call(z.object({ projectId: Id }), z.object({ runId: Id.nullable() })),
  /**
   * "This label is right" for a doubted picture: it leaves `suspectedLabelErrors` of every run for
   * as long as it keeps that label. One undoable action.
   */
  'eval.confirmLabel': call(z.object({ projectId: Id, imageId: Id }), z.object({ changed: z.number().int(), history: HistoryState })),
} as const;

export const evalEvents = {} as const;

export type EvalReport = z.output<typeof EvalReport>;
export type EvalImage = z.output<typeof EvalImage>;
export type LabelDoubt = z.output<typeof LabelDoubt>;
export type RunComparison = z.output<typeof RunComparison>;
