// A small file of reserved space in the data folder. When the disk fills up, every write fails —
// SQLite cannot even commit the DELETE that would free space, nor mark a run failed. Deleting
// this file on the first disk-full error gives back a few megabytes at once, so the app can
// record its state, show the message and carry out the user's deletes. Recreated at the next
// start when there is room again.
import fs from 'node:fs';
import path from 'node:path';

export const RESERVE_NAME = '.space-reserve';
export const RESERVE_BYTES = 16 * 1024 * 1024;

const reserves = new Set<string>();

/**
 * Makes (or keeps) the reserve in `dataDir` when there is room; true when it is in place. It is
 * not taken when the disk has less than `headroom` free besides: it would cause the problem.
 */
export function ensureReserve(dataDir: string, bytes = RESERVE_BYTES, headroom = 4 * bytes): boolean {
  const file = path.join(dataDir, RESERVE_NAME);
  reserves.add(file);
  try {
    if (fs.statSync(file).size === bytes) return true;
  } catch {
    /* not there yet */
  }
  try {
    const s = fs.statfsSync(dataDir);
    if (s.bavail * s.bsize < bytes + headroom) return false;
  } catch {
    return false;
  }
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    // Real zeros, not a sparse file: the blocks must be allocated to be worth giving back.
    const fd = fs.openSync(tmp, 'w');
    try {
      const chunk = Buffer.alloc(1024 * 1024);
      for (let written = 0; written < bytes; written += chunk.length) fs.writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - written));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
    return true;
  } catch {
    fs.rmSync(tmp, { force: true });
    return false;
  }
}

/** Gives the reserved space back (every data folder this process opened); returns the bytes freed. */
export function releaseReserves(): number {
  let freed = 0;
  for (const file of reserves) {
    try {
      freed += fs.statSync(file).size;
      fs.rmSync(file, { force: true });
    } catch {
      /* already released */
    }
  }
  return freed;
}
