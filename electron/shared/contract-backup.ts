// Backup and restore of a whole project (rows, stored images, run models) as one checked archive.
// Handlers live in electron/core/backup/handlers.ts. Both calls answer when the work is done.
import { z } from 'zod';
import { Id, Project, SourceToken } from './schemas.js';

/** Names a backup made into the data folder (the web host's download, the desktop's "Show in folder"); never a path. */
export const BackupKey = z.string().regex(/^[a-f0-9]{16}$/, 'Not a backup');

const call = <A extends z.ZodType, R extends z.ZodType>(args: A, result: R) => ({ args, result });

const Counts = {
  images: z.number().int(),
  labels: z.number().int(),
  runs: z.number().int(),
  /** The archive's size in bytes. */
  bytes: z.number().int(),
};

export const backupCalls = {
  /**
   * Writes the project into one archive. With `destination` (a new file a host registered, e.g.
   * the CLI's --out) it goes there and never over an existing file; without it, into the data
   * folder: the web host serves it at /backups/<key>.tar, the desktop shows it in the file manager.
   */
  'backup.create': call(
    z.object({ projectId: Id, destination: SourceToken.optional() }),
    z.object({ key: BackupKey.nullable(), fileName: z.string(), entries: z.number().int(), ...Counts }),
  ),
  /** Desktop: shows a backup made into the data folder in the file manager. Other hosts answer 'unsupported'. */
  'backup.reveal': call(z.object({ key: BackupKey }), z.object({ ok: z.literal(true) })),
  /** Desktop only: the native dialog to choose a backup file; null when the user cancels. */
  'backup.pickFile': call(z.object({}), z.object({ source: SourceToken, displayName: z.string() }).nullable()),
  /**
   * Restores a backup (a source from `backup.pickFile`, or the web host's upload of one file) as a
   * new project, after checking every entry's checksum; a damaged or foreign file changes nothing.
   */
  'backup.restore': call(z.object({ source: SourceToken }), z.object({ project: Project, ...Counts })),
} as const;
