// Runtime schemas for every value that crosses the UI ↔ Node boundary.
// Imported by the renderer and by the Node side alike, so this file (and everything in
// electron/shared) must not import node:* or electron.
import { z } from 'zod';

export const Id = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
export const Name = z
  .string()
  .trim()
  .min(1, 'A name cannot be empty')
  .max(120, 'A name can be at most 120 characters')
  // Control characters in names break file names on export and look like an attack.
  .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'A name cannot contain control characters');
export const Colour = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'A colour is #rrggbb');
/** Opaque handle the host hands out for something the user picked (folder, files, CSV). */
export const SourceToken = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'Not a source handle');
export const JobId = z.string().regex(/^[A-Za-z0-9_-]{4,64}$/);

/**
 * An object keyed by names people chose (label names), e.g. `{ bird: 47 }`. Not z.record: it
 * rebuilds its output by assignment, and `out['__proto__'] = 3` sets the prototype instead of a
 * key, so a label called `__proto__` vanished. This checks every own key and passes the object on.
 */
export function byName<T extends z.ZodType>(value: T) {
  return z.custom<Record<string, z.output<T>>>(
    (v) =>
      typeof v === 'object' &&
      v !== null &&
      !Array.isArray(v) &&
      [Object.prototype, null].includes(Object.getPrototypeOf(v) as object | null) &&
      Object.keys(v).every((k) => value.safeParse((v as Record<string, unknown>)[k]).success),
    { message: 'Expected an object of values by name.' },
  );
}

export const Project = z.object({
  id: Id,
  name: z.string(),
  createdAt: z.string(),
  imageCount: z.number().int().nonnegative(),
  coverImageId: Id.nullable(),
});

export const Label = z.object({
  id: Id,
  name: z.string(),
  colour: Colour,
  position: z.number().int(),
  count: z.number().int().nonnegative(),
});

export const ImageStatus = z.enum(['active', 'excluded']);

export const ImageRow = z.object({
  id: Id,
  labelId: Id.nullable(),
  status: ImageStatus,
  width: z.number().int(),
  height: z.number().int(),
});

export const ImageDetail = ImageRow.extend({
  originalName: z.string(),
  format: z.string(),
  bytes: z.number().int(),
  sha256: z.string(),
  createdAt: z.string(),
  /** Who set the label: a person, a model, the folder or CSV file it was imported from, or a person accepting a model's suggestion. */
  labelSource: z.enum(['person', 'model', 'folder', 'csv', 'suggestion']).nullable(),
  labelConfidence: z.number().nullable(),
});

/** Which images a grid shows. `label: null` means unlabeled; absent means every label. */
export const ImageFilter = z.object({
  label: Id.nullable().optional(),
  status: z.enum(['all', 'active', 'excluded']).default('all'),
});

/** A selection can be a list of ids or "everything the filter matches" (select-all on 100k). */
export const Selection = z.union([
  z.object({ kind: z.literal('ids'), ids: z.array(Id).min(1).max(200_000) }),
  z.object({ kind: z.literal('filter'), filter: ImageFilter, exceptIds: z.array(Id).max(200_000).default([]) }),
]);

export const LabelCounts = z.object({
  total: z.number().int(),
  unlabeled: z.number().int(),
  excluded: z.number().int(),
  labels: z.array(Label),
});

export const SkippedFile = z.object({ path: z.string(), reason: z.string() });

export const ImportReport = z.object({
  jobId: JobId,
  imported: z.number().int(),
  duplicates: z.number().int(),
  skipped: z.array(SkippedFile),
  labels: byName(z.number().int()),
  cancelled: z.boolean(),
  durationMs: z.number(),
});

export const JobProgress = z.object({
  jobId: JobId,
  kind: z.enum(['import', 'predict', 'dataset-export']),
  projectId: Id,
  phase: z.string(),
  done: z.number().int(),
  total: z.number().int(),
  etaMs: z.number().nullable(),
  message: z.string().optional(),
});

export const HistoryState = z.object({
  canUndo: z.boolean(),
  canRedo: z.boolean(),
  undoLabel: z.string().nullable(),
  redoLabel: z.string().nullable(),
  /** After an undo or redo: images the action touched that were removed since, so were left out. */
  skipped: z.number().int().min(1).optional(),
});

export const AppInfo = z.object({
  version: z.string(),
  host: z.enum(['electron', 'web', 'cli']),
  /** What a folder import can use in this host: a native dialog, or a browser upload. */
  folderPicker: z.enum(['native', 'upload']),
});

export type Project = z.infer<typeof Project>;
export type Label = z.infer<typeof Label>;
export type ImageRow = z.infer<typeof ImageRow>;
export type ImageDetail = z.infer<typeof ImageDetail>;
export type ImageFilter = z.infer<typeof ImageFilter>;
export type Selection = z.infer<typeof Selection>;
export type LabelCounts = z.infer<typeof LabelCounts>;
export type ImportReport = z.infer<typeof ImportReport>;
export type JobProgress = z.infer<typeof JobProgress>;
export type HistoryState = z.infer<typeof HistoryState>;
export type AppInfo = z.infer<typeof AppInfo>;
export type SkippedFile = z.infer<typeof SkippedFile>;
