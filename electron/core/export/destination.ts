// Where an export's files go, and only there. Staging and failed exports live in the data folder;
// outside it, an export writes only inside the destination folder (which must be new or empty) and
// one new .zip beside it whose name is free (`DIR.zip`, else `DIR (2).zip`...). Every path made
// outside the data folder goes on the ledger (storage/ledger.ts) before it is created: if the
// process dies midway, the next start removes exactly what it made and nothing else.
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../db/connection.js';
import { StudioError } from '../../shared/contract.js';
import { claimPath, forgetPath, markCreated } from '../storage/ledger.js';
import { claimFreeFile, moveEntriesInto } from './files.js';
import { recordExportPath } from './store.js';
import { zipFolderAsync } from './zip.js';

/** What this export created at the destination, so a failure removes exactly that. */
export interface Created {
  dir: boolean;
  entries: string[];
  zip: string | null;
}

export function checkDestination(dir: string): void {
  if (fs.existsSync(dir)) {
    if (!fs.statSync(dir).isDirectory()) throw new StudioError('conflict', `${dir} exists and is not a folder.`);
    if (fs.readdirSync(dir).length > 0)
      throw new StudioError('conflict', `${dir} is not empty; choose a new or empty folder (nothing was overwritten).`);
  }
}

/**
 * Staging folders of exports that are no longer running (a killed process, a crash): they are in
 * the data folder and named by export id, so they are ours to remove. A running one is left alone
 * (another process on this data folder may be writing it).
 */
export function sweepStaleStaging(db: Db, exportsRoot: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(exportsRoot);
  } catch {
    return; // no exports yet
  }
  const running = db.prepare("SELECT 1 FROM exports WHERE id = ? AND status = 'running'").pluck();
  for (const name of names) {
    const m = /^\.partial-(\d+)$/.exec(name);
    if (m && running.get(Number(m[1])) === undefined) fs.rmSync(path.join(exportsRoot, name), { recursive: true, force: true });
  }
}

/**
 * Moves the staged export into `finalDir` and zips it beside it; returns the zip's path. `created`
 * is filled in as things are made, so that a failure part way can undo exactly those.
 */
export async function shipToDestination(db: Db, exportId: number, staging: string, finalDir: string, created: Created): Promise<string> {
  // Checked at the start, but someone may have put files there since.
  checkDestination(finalDir);
  if (!fs.existsSync(finalDir)) {
    const entry = claimPath(db, 'export', exportId, finalDir, 'dir');
    fs.mkdirSync(finalDir, { recursive: true });
    markCreated(db, entry);
    created.dir = true;
  }
  // Entry by entry, so a destination that existed (empty) keeps its own permissions.
  created.entries = fs.readdirSync(staging);
  moveEntriesInto(staging, finalDir, (dest) => {
    const entry = claimPath(db, 'export', exportId, dest, 'tree');
    return () => markCreated(db, entry);
  });
  fs.rmSync(staging, { recursive: true, force: true });
  let zipEntry: number | null = null;
  const zipPath = claimFreeFile(
    finalDir,
    '.zip',
    (candidate) => {
      // A name taken by someone else between our check and our create is not ours: off the record.
      if (zipEntry !== null) forgetPath(db, zipEntry);
      recordExportPath(db, exportId, 'zip', candidate);
      zipEntry = claimPath(db, 'export', exportId, candidate, 'file');
    },
    () => markCreated(db, zipEntry!),
  );
  created.zip = zipPath;
  // Deflated on the thread pool: every core, and the event loop free meanwhile.
  await zipFolderAsync(finalDir, zipPath);
  return zipPath;
}

/** Undoes what a failed export put at its destination, and nothing else. */
export function removeCreated(finalDir: string, created: Created): void {
  if (created.zip) fs.rmSync(created.zip, { force: true });
  if (created.dir) fs.rmSync(finalDir, { recursive: true, force: true });
  else for (const e of created.entries) fs.rmSync(path.join(finalDir, e), { recursive: true, force: true });
}
