// Opens the studio database: WAL, foreign keys, numbered migrations in one transaction,
// and a refusal to touch a database written by a newer version of the app.
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { migrations as allMigrations, type Migration } from './migrations/index.js';

export type Db = Database.Database;

export class DatabaseTooNewError extends Error {
  constructor(
    public readonly found: number,
    public readonly supported: number,
  ) {
    super(
      `This data folder was written by a newer Transfer Studio (database version ${found}; this app knows up to ${supported}). ` +
        'Update the app, or choose another data folder. Nothing was changed.',
    );
    this.name = 'DatabaseTooNewError';
  }
}

export interface OpenOptions {
  /** For tests of the migrations themselves. */
  migrations?: Migration[];
  /** Path to a better-sqlite3 native binding (the Electron build uses one compiled for Electron's ABI). */
  nativeBinding?: string;
}

export function openDatabase(file: string, options: OpenOptions = {}): Db {
  const db = new Database(file, options.nativeBinding ? { nativeBinding: options.nativeBinding } : {});
  try {
    // Check the version before anything writes to the file (switching to WAL does).
    const list = options.migrations ?? allMigrations;
    const supported = list.reduce((max, m) => Math.max(max, m.version), 0);
    const found = db.pragma('user_version', { simple: true }) as number;
    if (found > supported) throw new DatabaseTooNewError(found, supported);
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    beginTransactionsImmediate(db);
    migrate(db, list);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/**
 * Makes every `db.transaction(fn)` of this connection begin IMMEDIATE (take the write lock at
 * BEGIN) instead of better-sqlite3's default DEFERRED. Two processes share a data folder (the CLI
 * and the web host): a deferred transaction reads, then tries to upgrade to a write after the
 * other process has written — SQLite then fails at once with `database is locked`
 * (SQLITE_BUSY_SNAPSHOT), and busy_timeout cannot help. An immediate BEGIN waits on
 * busy_timeout for the other writer instead. Done here, once, so no write path can forget it;
 * nested transactions still become savepoints, and `.deferred` stays available for a read-only one.
 */
function beginTransactionsImmediate(db: Db): void {
  const original = db.transaction.bind(db);
  db.transaction = ((fn: Parameters<Db['transaction']>[0]) => {
    const t = original(fn);
    const immediate = t.immediate;
    const run = (...args: unknown[]) => immediate(...args);
    return Object.assign(run, { default: immediate, deferred: t.deferred, immediate, exclusive: t.exclusive });
  }) as Db['transaction'];
}

export function migrate(db: Db, migrations: Migration[]): number {
  const latest = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  const before = db.pragma('user_version', { simple: true }) as number;
  if (before > latest) throw new DatabaseTooNewError(before, latest);
  const waiting = migrations.filter((m) => m.version > before);
  if (waiting.length === 0) return before;
  if (before > 0 && waiting.some((m) => m.backupFirst)) backUp(db, before);
  const foreignKeys = db.pragma('foreign_keys', { simple: true }) as number;
  const keysOff = waiting.some((m) => m.foreignKeysOff);
  if (keysOff) db.pragma('foreign_keys = OFF');
  try {
    // All pending migrations commit together or not at all, so a crash mid-upgrade leaves the old schema.
    // The version is read again under the write lock: another process may have migrated meanwhile.
    db.transaction(() => {
      const current = db.pragma('user_version', { simple: true }) as number;
      if (current > latest) throw new DatabaseTooNewError(current, latest);
      const pending = migrations.filter((m) => m.version > current).sort((a, b) => a.version - b.version);
      for (const m of pending) {
        if (typeof m.up === 'string') db.exec(m.up);
        else m.up(db);
        db.pragma(`user_version = ${m.version}`);
      }
      if (keysOff) {
        const broken = db.pragma('foreign_key_check') as unknown[];
        if (broken.length > 0) throw new Error(`The upgrade would break ${broken.length} references between rows; nothing was changed.`);
      }
    }).immediate();
  } finally {
    if (keysOff) db.pragma(`foreign_keys = ${foreignKeys ? 'ON' : 'OFF'}`);
  }
  return latest;
}

/** A copy of the database as it was, beside it, before a migration that rebuilds tables. */
function backUp(db: Db, version: number): void {
  if (db.memory || !db.name) return;
  for (let n = 1; ; n++) {
    const file = `${db.name}.v${version}${n > 1 ? `-${n}` : ''}.bak`;
    if (fs.existsSync(file)) continue;
    // VACUUM INTO writes a consistent copy (WAL included) and refuses to overwrite a file.
    db.prepare('VACUUM INTO ?').run(file);
    return;
  }
}
