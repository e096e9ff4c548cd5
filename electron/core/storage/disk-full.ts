// A full disk, in the user's words. The file system says ENOSPC (or EDQUOT over a quota), SQLite
// says SQLITE_FULL; either way the user needs to hear that the disk is full, how much to free,
// and that what was saved before is intact (every write path is atomic or transactional).
import fs from 'node:fs';
import { StudioError } from '../../shared/contract.js';
import { releaseReserves } from './reserve.js';

const MB = 1024 * 1024;

export function isDiskFull(err: unknown): boolean {
  if (err instanceof DiskFullError) return true;
  if (!err || typeof err !== 'object') return false;
  const code = (err as { code?: unknown }).code;
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL') return true;
  const message = (err as { message?: unknown }).message;
  return typeof message === 'string' && /\b(ENOSPC|EDQUOT|database or disk is full|no space left on device)\b/i.test(message);
}

/** How much a user should free: what the write needed, and at least 100 MB so the next ones fit too. */
export function suggestedFreeMb(needBytes = 0): number {
  return Math.max(100, Math.ceil(needBytes / MB) + 50);
}

/** Free bytes on the disk holding `dir`, or null when the system cannot say. */
export function freeBytes(dir: string): number | null {
  try {
    const s = fs.statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

export function diskFullMessage(what: string, needBytes = 0): string {
  return (
    `The disk is full: free ${suggestedFreeMb(needBytes)} MB on the disk that holds the data folder (for example by deleting old runs or exports), then try again. ` +
    `${what} Nothing saved before was lost.`
  );
}

export class DiskFullError extends StudioError {
  constructor(what: string, needBytes = 0) {
    super('disk_full', diskFullMessage(what, needBytes));
    this.name = 'DiskFullError';
  }
}

/**
 * Turns a disk-full failure into the user's message (and releases the reserve so the app can
 * still record state and free space); any other error passes through unchanged.
 */
export function asDiskFull(err: unknown, what: string, needBytes = 0): unknown {
  if (err instanceof DiskFullError || !isDiskFull(err)) return err;
  releaseReserves();
  return new DiskFullError(what, needBytes);
}
