// What the app created outside its data folder, on record before it exists (migration 006). An
// export writes into a folder the user chose; if it is killed half-way, what it left there is
// found here by the start-up sweep — and only that: a user's file beside or inside the folder is
// never on record, so it is never touched.
import fs from 'node:fs';
import type { Db } from '../db/connection.js';

export type OwnedKind = 'file' | 'dir' | 'tree';
export type Owner = 'export';

/** Puts a path on record before it is created; returns the entry's id for `markCreated`. */
export function claimPath(db: Db, owner: Owner, ownerId: number, file: string, kind: OwnedKind): number {
  return Number(
    db.prepare('INSERT INTO owned_paths (path, kind, owner, owner_id) VALUES (?, ?, ?, ?)').run(file, kind, owner, ownerId).lastInsertRowid,
  );
}

/** The path now exists and is ours. */
export function markCreated(db: Db, entryId: number): void {
  db.prepare("UPDATE owned_paths SET state = 'created' WHERE id = ?").run(entryId);
}

/** Drops one entry: the attempt did not create it (someone else's name), or it was removed. */
export function forgetPath(db: Db, entryId: number): void {
  db.prepare('DELETE FROM owned_paths WHERE id = ?').run(entryId);
}

/**
 * Drops every entry of an owner: called when a job finished well (its output is now the user's
 * to keep — never a sweep's) or when it removed what it created itself.
 */
export function forgetOwner(db: Db, owner: Owner, ownerId: number): void {
  db.prepare('DELETE FROM owned_paths WHERE owner = ? AND owner_id = ?').run(owner, ownerId);
}

interface Entry {
  id: number;
  path: string;
  kind: OwnedKind;
  owner: Owner;
  owner_id: number;
  state: 'pending' | 'created';
}

export interface LedgerSweep {
  removed: string[];
  /** On record but left alone: a folder someone put files into, or a pending name that exists. */
  kept: { path: string; reason: string }[];
}

/**
 * Removes what owners that are no longer running left, newest entry first (the entries inside a
 * folder before the folder). `running` says whether an owner's job may still be writing (another
 * process on the same data folder): its entries are left for a later start.
 */
export function sweepLedger(db: Db, running: (owner: Owner, ownerId: number) => boolean, deadline = Infinity): LedgerSweep {
  const out: LedgerSweep = { removed: [], kept: [] };
  const entries = db.prepare('SELECT id, path, kind, owner, owner_id, state FROM owned_paths ORDER BY id DESC').all() as Entry[];
  const runningCache = new Map<string, boolean>();
  for (const e of entries) {
    if (Date.now() > deadline) break;
    const key = `${e.owner}:${e.owner_id}`;
    if (!runningCache.has(key)) runningCache.set(key, running(e.owner, e.owner_id));
    if (runningCache.get(key)) continue;
    const outcome = removeEntry(e);
    if (outcome === 'removed') out.removed.push(e.path);
    else if (outcome !== 'absent') out.kept.push({ path: e.path, reason: outcome });
    forgetPath(db, e.id);
  }
  return out;
}

function removeEntry(e: Entry): 'removed' | 'absent' | string {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(e.path);
  } catch {
    return 'absent';
  }
  if (e.kind === 'dir') {
    // Only ever removed empty: anything left inside is not on record, so it is not ours.
    if (!st.isDirectory()) return 'not a folder any more';
    try {
      fs.rmdirSync(e.path);
      return 'removed';
    } catch {
      return 'the folder is not empty';
    }
  }
  // A pending name that exists may be another program's: we may have died before creating it.
  if (e.state === 'pending') return 'not known to be ours';
  if (e.kind === 'file' && !st.isFile()) return 'not a file any more';
  if (e.kind === 'tree' && !(st.isDirectory() || st.isFile())) return 'not a folder any more';
  fs.rmSync(e.path, { recursive: e.kind === 'tree', force: true });
  return 'removed';
}
