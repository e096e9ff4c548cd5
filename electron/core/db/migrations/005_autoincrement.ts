// Ids that are never reused. Without AUTOINCREMENT, SQLite hands a deleted row's id (the highest
// one) to the next insert, so undo history, cached thumbnails, export folders and the UI's state
// could meet a different project, image or run under an id they remembered. SQLite cannot add
// AUTOINCREMENT in place: each table is rebuilt (the documented 12-step way), keeping every row
// with its id, every index and every trigger. The same rebuild widens annotations.source beyond
// person/model to folder, csv and suggestion (an accepted model suggestion), so there is one
// rebuild, not several. Runs with foreign keys off (see `foreignKeysOff`), checked at the end.
import type Database from 'better-sqlite3';

/** Parents before children, so the copy order is natural (foreign keys are off anyway). */
export const REBUILT = ['projects', 'labels', 'images', 'annotations', 'runs', 'exports', 'history'] as const;

const SOURCES_BEFORE = /CHECK\s*\(\s*source\s+IN\s*\(\s*'person'\s*,\s*'model'\s*\)\s*\)/i;
const SOURCES_AFTER = "CHECK (source IN ('person','model','folder','csv','suggestion'))";

export function up(db: Database.Database): void {
  const schema = (type: string, table?: string) =>
    db
      .prepare(`SELECT name, tbl_name AS tbl, sql FROM sqlite_master WHERE type = ? AND sql IS NOT NULL${table ? ' AND tbl_name = ?' : ''}`)
      .all(...(table ? [type, table] : [type])) as { name: string; tbl: string; sql: string }[];
  // Triggers on one table update others (images → projects, labels): drop them all first, so no
  // trigger ever names a table that is momentarily gone, and recreate them at the end.
  const triggers = schema('trigger');
  for (const t of triggers) db.exec(`DROP TRIGGER "${t.name}"`);
  for (const table of REBUILT) {
    const [def] = schema('table', table);
    if (!def) throw new Error(`Migration 5: table ${table} is missing.`);
    const indexes = schema('index', table);
    let sql = def.sql.replace(/\bid\s+INTEGER\s+PRIMARY\s+KEY\b(?!\s+AUTOINCREMENT)/i, 'id INTEGER PRIMARY KEY AUTOINCREMENT');
    if (table === 'annotations') sql = sql.replace(SOURCES_BEFORE, SOURCES_AFTER);
    if (!/AUTOINCREMENT/i.test(sql)) throw new Error(`Migration 5: ${table} has no "id INTEGER PRIMARY KEY" column.`);
    const temp = `${table}__rebuilt`;
    db.exec(sql.replace(/^CREATE TABLE\s+("?)(\w+)\1/i, `CREATE TABLE "${temp}"`));
    // Same definition, so the same columns in the same order.
    db.exec(`INSERT INTO "${temp}" SELECT * FROM "${table}"`);
    db.exec(`DROP TABLE "${table}"`);
    db.exec(`ALTER TABLE "${temp}" RENAME TO "${table}"`);
    for (const i of indexes) db.exec(i.sql);
  }
  for (const t of triggers) db.exec(t.sql);
}
