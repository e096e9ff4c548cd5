// Near-duplicates and the split leaks they cause. Exact copies are refused at import; resized,
// recompressed or slightly cropped copies are found here by a perceptual hash, confirmed by
// feature similarity where a run cached features. A group with members in training and in
// checking or test pictures is a leak: the model is tested on pictures it has in effect learned.
// The app never moves a picture on its own: `duplicates.resolveLeak` needs `acceptWarning: true`
// and is one undoable action. Handlers: electron/core/duplicates/handlers.ts.
import { z } from 'zod';
import { Id, HistoryState } from './schemas.js';
import { SplitName } from './contract-eval.js';

export const NearDuplicateMember = z.object({
  imageId: Id,
  originalName: z.string(),
  label: z.string().nullable(),
  /** The split training uses for it (null: unlabeled or excluded, so it trains on nothing). */
  split: SplitName.nullable(),
  width: z.number().int(),
  height: z.number().int(),
});

export const NearDuplicateGroup = z.object({
  members: z.array(NearDuplicateMember).min(2),
  /** Largest perceptual-hash distance (bits of 64) between two linked members. */
  distance: z.number().int(),
  /** Lowest feature cosine similarity between two linked members; null when no features were cached. */
  similarity: z.number().nullable(),
  /** True when training and checking/test pictures share the group. */
  leak: z.boolean(),
});

export const SplitLeak = z.object({
  /** Index into `groups`. */
  group: z.number().int(),
  /** The splits the group straddles, train first. */
  splits: z.array(SplitName),
  /** The split every member would move to if the warning is accepted: the one most members are in (train on a tie). */
  moveTo: SplitName,
  /** The members that would move. */
  imageIds: z.array(Id),
  /** One sentence for a person. */
  warning: z.string(),
});

export const NearDuplicates = z.object({
  groups: z.array(NearDuplicateGroup),
  leaks: z.array(SplitLeak),
  /** Images that had no perceptual hash yet (imported before it existed) and were hashed now. */
  hashedNow: z.number().int(),
  /** Whether cached features confirmed the groups (otherwise only the stricter hash distance counts). */
  featuresUsed: z.boolean(),
});

const call = <A extends z.ZodType, R extends z.ZodType>(args: A, result: R) => ({ args, result });

export const duplicateCalls = {
  /**
   * Near-duplicate groups of the project's pictures, and the leaks among them. With `runId`, the
   * splits are the ones that run recorded (what it was tested on), not today's.
   */
  'duplicates.find': call(z.object({ projectId: Id, runId: Id.optional() }), NearDuplicates),
  /** Moves pictures of a leak into one split: only with the warning accepted, as one undoable action. */
  'duplicates.resolveLeak': call(
    z.object({
      projectId: Id,
      imageIds: z.array(Id).min(1).max(1000),
      split: SplitName,
      acceptWarning: z.literal(true, { message: 'Moving pictures between splits needs the warning accepted.' }),
    }),
    z.object({ changed: z.number().int(), history: HistoryState }),
  ),
} as const;

export type NearDuplicates = z.output<typeof NearDuplicates>;
export type NearDuplicateGroup = z.output<typeof NearDuplicateGroup>;
export type SplitLeak = z.output<typeof SplitLeak>;
