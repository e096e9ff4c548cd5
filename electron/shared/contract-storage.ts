// Disk space: how much a project takes, and deleting runs and exports to get it back. Handlers
// live in electron/core/storage/handlers.ts. A full disk reaches every client as an error with
// code 'disk_full' and a message that says how much to free.
import { z } from 'zod';
import { Id } from './schemas.js';

const call = <A extends z.ZodType, R extends z.ZodType>(args: A, result: R) => ({ args, result });
const Bytes = z.number().int().min(0);

/** The skip reason an import gives every file a full disk kept out (the CLI and the UI recognise it). */
export const DISK_FULL_REASON = 'not imported: the disk is full';

export const ProjectStorage = z.object({
  projectId: Id,
  /** The stored originals. */
  images: Bytes,
  /** Thumbnails and previews, remade on demand. */
  thumbnails: Bytes,
  /** Trained models (each run's folder). */
  runs: Bytes,
  /** Exports kept in the data folder (folders and zips); exports saved elsewhere are not counted. */
  exports: Bytes,
  total: Bytes,
  /** Shared by every project: the frozen-feature cache (capped), imported models and the database. */
  shared: z.object({ featureCache: Bytes, models: Bytes, database: Bytes }),
  /** Free space on the disk holding the data folder; null when the system cannot tell. */
  freeBytes: Bytes.nullable(),
});

export const storageCalls = {
  'storage.project': call(z.object({ projectId: Id }), ProjectStorage),
  /**
   * Deletes a finished run: its model folder, its predictions and its exports' records. Exports
   * kept in the data folder are deleted with it; an export saved to a folder the user chose is
   * left there (it is the user's copy) and only its record goes. A queued or running run is refused.
   */
  'runs.delete': call(
    z.object({ runId: Id }),
    z.object({ ok: z.literal(true), freedBytes: Bytes, exportsDeleted: z.number().int(), exportFoldersKept: z.array(z.string()) }),
  ),
  /** Deletes an export's record and, when it was made in the data folder, its folder and zip. A running export is refused. */
  'exports.delete': call(
    z.object({ exportId: Id }),
    z.object({ ok: z.literal(true), freedBytes: Bytes, folderKept: z.string().nullable() }),
  ),
} as const;
