// Labeling with suggestions: a quick model, refitted in the background as pictures are labeled,
// suggests a label for every unlabeled picture; the Images tab filters and sorts by it and
// accepts suggestions, one or in bulk, as undoable actions. Suggestions never touch a picture that
// already has a label. Handlers: electron/core/suggest/handlers.ts. `studio suggest PROJECT --json`
// prints `suggest.report` (README "studio suggest").
import { z } from 'zod';
import { Id, HistoryState, ImageStatus } from './schemas.js';

/** Pictures per label before the quick model takes that label into account. */
export const SUGGEST_MIN_PER_LABEL = 3;

/** A confidence threshold in whole percent (the slider's steps): 90 means ≥ 0.90. */
const Percent = z.number().int().min(0).max(100);
const Version = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const SuggestState = z.enum([
  /** Fewer than two labels have SUGGEST_MIN_PER_LABEL pictures yet. */
  'waiting',
  /** The quick model is being fitted (or pictures read for the first time). */
  'computing',
  /** A training run or the wizard has the engine; suggestions resume when it is done. */
  'paused',
  'ready',
  'failed',
]);

export const SuggestStatus = z.object({
  projectId: Id,
  state: SuggestState,
  /** Plain words for the bar above the grid. */
  message: z.string(),
  /** Increases with every new set of suggestions; bulk accept names the one it was shown. */
  version: z.number().int().nonnegative(),
  /** The labels the model knows (enough pictures), with how many unlabeled pictures it suggests for each. */
  labels: z.array(z.object({ labelId: Id, name: z.string(), suggested: z.number().int() })),
  /** Labeled pictures the current suggestions learned from. */
  trainedOn: z.number().int(),
  /** The last refresh's fit, ms (excluding the first reading of new pictures). */
  refreshMs: z.number().nullable(),
  /** Pictures read (frozen pass) for the first time by the last refresh. */
  newPictures: z.number().int(),
  /** Set while reading new pictures. */
  progress: z.object({ done: z.number().int(), total: z.number().int() }).nullable(),
});

export const SuggestView = z.discriminatedUnion('kind', [
  /** Unlabeled pictures suggested as this label at or above this confidence (a whole percent), most confident first. */
  z.object({ kind: z.literal('suggested'), labelId: Id, minPercent: Percent }),
  /** Unlabeled pictures the model is least sure about first (smallest margin between its two best labels). */
  z.object({ kind: z.literal('leastSure') }),
  /** Labeled pictures the last finished run predicted otherwise (held-out or out-of-fold), worst first. */
  z.object({ kind: z.literal('mistakes') }),
  /** The last finished run's suspected label errors, most doubtful first. */
  z.object({ kind: z.literal('suspected') }),
]);

export const SuggestRow = z.object({
  imageId: Id,
  /** The picture's label now (null = unlabeled). */
  labelId: Id.nullable(),
  status: ImageStatus,
  /** What the model says: the quick model's suggestion, or the last run's prediction for mistakes. */
  suggestedLabelId: Id.nullable(),
  suggestedLabel: z.string(),
  confidence: z.number(),
  /** Confidence of the best label minus the second best. */
  margin: z.number().nullable(),
});

export const SuggestPage = z.object({
  version: z.number().int().nonnegative(),
  total: z.number().int(),
  rows: z.array(SuggestRow),
  /** For 'mistakes' and 'suspected': the run they come from (null when no run finished yet). */
  runId: Id.nullable(),
});

export const SuggestReport = z.object({
  projectId: Id,
  version: z.number().int().nonnegative(),
  state: SuggestState,
  message: z.string(),
  model: z.object({ baseId: z.string(), layer: z.string(), trainedOn: z.number().int() }),
  labels: z.array(z.string()),
  /** One entry per unlabeled picture, most confident first. */
  suggestions: z.array(
    z.object({
      imageId: Id,
      originalName: z.string(),
      suggestedLabel: z.string(),
      confidence: z.number(),
      margin: z.number(),
      /** Probability of every label, in `labels` order. */
      probabilities: z.array(z.number()),
    }),
  ),
});

const call = <A extends z.ZodType, R extends z.ZodType>(args: A, result: R) => ({ args, result });
const P = { projectId: Id };

export const suggestCalls = {
  /** Where the project's suggestions stand; also starts them for this project (the one the Images tab shows). */
  'suggest.status': call(z.object(P), SuggestStatus),
  /** Waits until the suggestions reflect the labels as they are now (CLI, benchmark); then as `suggest.status`. */
  'suggest.refresh': call(z.object(P), SuggestStatus),
  'suggest.page': call(
    z.object({ ...P, view: SuggestView, offset: z.number().int().min(0), limit: z.number().int().min(1).max(1000) }),
    SuggestPage,
  ),
  /**
   * Labels exactly the pictures the view { suggested, labelId, minPercent } showed for suggestions
   * `version`, in one undoable action. Refused when the suggestions changed since.
   */
  'suggest.accept': call(
    z.object({ ...P, labelId: Id, minPercent: Percent, version: Version }),
    z.object({ accepted: z.number().int(), history: HistoryState }),
  ),
  /** Accepts one picture's suggestion (Enter in the grid); nothing happens to a labeled picture. */
  'suggest.acceptOne': call(z.object({ ...P, imageId: Id }), z.object({ accepted: z.number().int(), history: HistoryState })),
  /**
   * The suggestions of these pictures (the grid's thumbnails in view): one row per picture that is
   * unlabeled now and has a suggestion; labeled pictures and unknown ids are left out.
   */
  'suggest.forImages': call(
    z.object({ ...P, imageIds: z.array(Id).max(1000) }),
    z.object({ version: Version, rows: z.array(z.object({ imageId: Id, labelId: Id, label: z.string(), confidence: z.number() })) }),
  ),
  /** Every unlabeled picture's suggestion with its probabilities (`studio suggest PROJECT --json`). */
  'suggest.report': call(z.object(P), SuggestReport),
} as const;

export const suggestEvents = {
  /** New suggestions, or a change of state (computing, paused…). */
  'suggest.changed': SuggestStatus,
} as const;

export type SuggestStatus = z.output<typeof SuggestStatus>;
export type SuggestView = z.output<typeof SuggestView>;
export type SuggestRow = z.output<typeof SuggestRow>;
export type SuggestPage = z.output<typeof SuggestPage>;
export type SuggestReport = z.output<typeof SuggestReport>;
