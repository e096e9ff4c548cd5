// Dataset export: a project's images and labels leave the app in a layout the importer reads
// back (a folder per label, or a CSV of path,label,split beside the images). Handlers live in
// electron/core/dataset/handlers.ts. Progress comes as `job.progress` (kind 'dataset-export'),
// the outcome as `dataset.exportFinished`.
import { z } from 'zod';
import { Id, JobId, SourceToken } from './schemas.js';

export const DatasetFormat = z.enum(['folders', 'csv']);
export const DatasetExportStatus = z.enum(['done', 'failed', 'cancelled']);
/** Names a finished export in the data folder (for the web host's zip download or "Show in folder"); never a path. */
export const DatasetExportKey = z.string().regex(/^[a-f0-9]{16}$/, 'Not a dataset export');

const call = <A extends z.ZodType, R extends z.ZodType>(args: A, result: R) => ({ args, result });

export const datasetCalls = {
  /**
   * Starts copying the project's stored originals out. With `destination` (a folder a host
   * registered, e.g. the CLI's --out) the files go there, which must be new or empty; without it
   * they go into the data folder and a .zip is made for download (`dataset.exportFinished.key`).
   */
  'dataset.export': call(
    z.object({
      projectId: Id,
      format: DatasetFormat.default('folders'),
      includeUnlabeled: z.boolean().default(false),
      includeExcluded: z.boolean().default(false),
      destination: SourceToken.optional(),
    }),
    z.object({ jobId: JobId }),
  ),
  'dataset.cancelExport': call(z.object({ jobId: JobId }), z.object({ ok: z.literal(true) })),
  /** Desktop: shows a finished export (made without `destination`) in the file manager. Other hosts answer 'unsupported'. */
  'dataset.revealExport': call(z.object({ key: DatasetExportKey }), z.object({ ok: z.literal(true) })),
} as const;

export const DatasetExportSummary = z.object({
  images: z.number().int(),
  bytes: z.number().int(),
  labels: z.number().int(),
  unlabeled: z.number().int(),
  excluded: z.number().int(),
});

export const datasetEvents = {
  'dataset.exportFinished': z.object({
    jobId: JobId,
    projectId: Id,
    status: DatasetExportStatus,
    format: DatasetFormat,
    /** Set when the export went into the data folder: the zip is at /dataset-exports/<key>.zip on the web host. */
    key: DatasetExportKey.nullable(),
    /** The export folder's name only (not its path). */
    folderName: z.string().nullable(),
    summary: DatasetExportSummary.nullable(),
    message: z.string().nullable(),
  }),
} as const;
