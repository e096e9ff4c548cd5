// Numbered migrations, applied in order. Never edit one that has shipped: add the next number.
import * as m001 from './001_library.js';
import * as m002 from './002_training.js';
import * as m003 from './003_predictions.js';
import * as m004 from './004_exports.js';
import * as m005 from './005_autoincrement.js';
import * as m006 from './006_owned_paths.js';
import * as m007 from './007_run_images.js';
import * as m008 from './008_run_notes.js';
import * as m009 from './009_perceptual_hash.js';
import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  /** SQL, or code for a migration SQL alone cannot express (a table rebuild). */
  up: string | ((db: Database.Database) => void);
  /**
   * Rebuilds tables that others reference: foreign keys must be off (a DROP would cascade), which
   * SQLite allows only outside a transaction. They are checked before the commit.
   */
  foreignKeysOff?: boolean;
  /** Copies studio.db aside before it runs on a database that holds data. */
  backupFirst?: boolean;
}

export const migrations: Migration[] = [
  { version: 1, name: 'library', up: m001.up },
  { version: 2, name: 'training', up: m002.up },
  { version: 3, name: 'predictions', up: m003.up },
  { version: 4, name: 'exports', up: m004.up },
  { version: 5, name: 'autoincrement ids', up: m005.up, foreignKeysOff: true, backupFirst: true },
  { version: 6, name: 'owned paths', up: m006.up },
  { version: 7, name: 'run images', up: m007.up },
  { version: 8, name: 'run names, notes and continuation', up: m008.up },
  { version: 9, name: 'perceptual hash and confirmed labels', up: m009.up },
];
