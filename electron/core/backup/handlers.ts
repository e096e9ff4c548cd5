// `backup.*` calls. A backup goes to a file a host registered (the CLI's --out) or, without one,
// into the data folder's backups/<key>/ for hosts without a save dialog (the web host serves it at
// /backups/<key>.tar; the desktop shows it in the file manager). A restore reads a file a host
// registered: the desktop's open dialog or the web host's upload of one file.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import type { Db } from '../db/connection.js';
import type { DataPaths } from '../paths.js';
import type { ImportSource, SourceRegistry } from '../sources.js';
import { getProject } from '../library/projects.js';
import { StudioError } from '../../shared/contract.js';
import type { backupCalls } from '../../shared/contract-backup.js';
import { safeSegment } from '../dataset/safe-names.js';
import { createBackup } from './create.js';
import { restoreBackup } from './restore.js';
import { BACKUP_EXTENSION } from './format.js';

export interface BackupCtx {
  db: Db;
  paths: DataPaths;
  appVersion: string;
  sources: Pick<SourceRegistry, 'takeOutputFile' | 'take' | 'register'>;
  reveal?: (file: string) => void;
  pickFile?: () => Promise<ImportSource | null>;
}

type Calls = typeof backupCalls;
type BackupHandlers = {
  [M in keyof Calls]: (
    ctx: BackupCtx,
    args: z.output<Calls[M]['args']>,
  ) => Promise<z.output<Calls[M]['result']>> | z.output<Calls[M]['result']>;
};

const KEY = /^[a-f0-9]{16}$/;

export function backupsDir(paths: DataPaths): string {
  return path.join(paths.root, 'backups');
}

/** The archive of a backup made into the data folder, or null. The key is checked, never used raw. */
export function backupFilePath(paths: DataPaths, key: string): string | null {
  if (!KEY.test(key)) return null;
  const dir = path.join(backupsDir(paths), key);
  try {
    const f = fs.readdirSync(dir).find((n) => n.endsWith(BACKUP_EXTENSION));
    return f ? path.join(dir, f) : null;
  } catch {
    return null;
  }
}

export const backupHandlers: BackupHandlers = {
  'backup.create': async (ctx, { projectId, destination }) => {
    const project = getProject(ctx.db, projectId);
    let file: string;
    let key: string | null = null;
    if (destination !== undefined) file = path.resolve(ctx.sources.takeOutputFile(destination).file);
    else {
      key = randomBytes(8).toString('hex');
      const stamp = new Date().toISOString().slice(0, 10);
      file = path.join(backupsDir(ctx.paths), key, `${safeSegment(project.name, 'project')}-${stamp}${BACKUP_EXTENSION}`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
    }
    try {
      const s = await createBackup(ctx.db, ctx.paths, projectId, file, { appVersion: ctx.appVersion });
      return { key, fileName: path.basename(file), entries: s.entries, images: s.images, labels: s.labels, runs: s.runs, bytes: s.bytes };
    } catch (err) {
      if (key !== null) fs.rmSync(path.dirname(file), { recursive: true, force: true });
      throw err;
    }
  },
  'backup.reveal': (ctx, { key }) => {
    if (!ctx.reveal) throw new StudioError('unsupported', 'This window cannot open the file manager; download the backup instead.');
    const file = backupFilePath(ctx.paths, key);
    if (!file) throw new StudioError('not_found', 'That backup is gone.');
    ctx.reveal(file);
    return { ok: true as const };
  },
  'backup.pickFile': async (ctx) => {
    if (!ctx.pickFile) throw new StudioError('unsupported', 'This window has no native file dialog; upload the backup file instead.');
    const picked = await ctx.pickFile();
    return picked ? { source: ctx.sources.register(picked), displayName: picked.displayName } : null;
  },
  'backup.restore': async (ctx, { source }) => {
    const picked = ctx.sources.take(source);
    try {
      if (picked.csv !== undefined || picked.paths.length !== 1) throw new StudioError('invalid', 'Choose one backup file to restore.');
      const s = await restoreBackup(ctx.db, ctx.paths, picked.paths[0]!);
      return { project: s.project, images: s.images, labels: s.labels, runs: s.runs, bytes: s.bytes };
    } finally {
      picked.dispose?.();
    }
  },
};
