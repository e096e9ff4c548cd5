// Which tables hold a project's rows, read from the schema itself: a table belongs to a project
// when a NOT NULL foreign key leads to `projects` (directly or through another such table). So a
// table a later migration adds (per-run image lists, say) is backed up and its ids remapped
// without this file knowing its name. Global tables (base models) have no such key and stay out.
import type { Db } from '../db/connection.js';

export interface ForeignKey {
  column: string;
  table: string;
  /** The parent's column (always its `id` in this schema). */
  to: string;
  notNull: boolean;
}

export interface OwnedTable {
  name: string;
  columns: string[];
  /** True when rows have their own `id INTEGER PRIMARY KEY` (remapped on restore). */
  hasId: boolean;
  foreignKeys: ForeignKey[];
  /** The foreign key that ties a row to the project (null for `projects` itself). */
  owner: ForeignKey | null;
}

interface Info {
  name: string;
  notnull: number;
  pk: number;
  type: string;
}

function describe(db: Db, table: string): { columns: Info[]; fks: ForeignKey[] } {
  const columns = db.prepare(`PRAGMA table_info("${table}")`).all() as Info[];
  const raw = db.prepare(`PRAGMA foreign_key_list("${table}")`).all() as { table: string; from: string; to: string | null }[];
  const fks = raw.map((f) => ({
    column: f.from,
    table: f.table,
    to: f.to ?? 'id',
    notNull: columns.find((c) => c.name === f.from)?.notnull === 1,
  }));
  return { columns, fks };
}

/** The project's tables, parents before children (so inserting in this order satisfies every foreign key). */
export function ownedTables(db: Db): OwnedTable[] {
  const names = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .pluck()
    .all() as string[];
  const all = new Map(names.map((n) => [n, describe(db, n)]));
  const owned = new Map<string, ForeignKey | null>([['projects', null]]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [name, d] of all) {
      if (owned.has(name)) continue;
      const owner = d.fks.find((f) => f.notNull && owned.has(f.table) && f.table !== name);
      if (owner) {
        owned.set(name, owner);
        grew = true;
      }
    }
  }
  // Topological order over every key between owned tables (e.g. images.label_id needs labels first).
  const order: string[] = [];
  const visiting = new Set<string>();
  const visit = (name: string) => {
    if (order.includes(name) || visiting.has(name)) return;
    visiting.add(name);
    for (const f of all.get(name)!.fks) if (owned.has(f.table) && f.table !== name) visit(f.table);
    order.push(name);
  };
  for (const name of owned.keys()) visit(name);
  return order.map((name) => {
    const d = all.get(name)!;
    const idCol = d.columns.find((c) => c.name === 'id');
    return {
      name,
      columns: d.columns.map((c) => c.name),
      hasId: !!idCol && idCol.pk === 1 && /^INTEGER$/i.test(idCol.type) && d.columns.filter((c) => c.pk > 0).length === 1,
      foreignKeys: d.fks.filter((f) => owned.has(f.table)),
      owner: owned.get(name)!,
    };
  });
}

/** SQL that selects the project's rows of `table` (one `?`: the project id). */
export function ownedRowsSql(tables: OwnedTable[], table: OwnedTable): string {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const condition = (t: OwnedTable): string => {
    if (!t.owner) return 'id = ?';
    const parent = byName.get(t.owner.table)!;
    return `"${t.owner.column}" IN (SELECT "${t.owner.to}" FROM "${parent.name}" WHERE ${condition(parent)})`;
  };
  // In id order, so the copy's new ids keep the original order (undo takes the newest history row).
  return `SELECT * FROM "${table.name}" WHERE ${condition(table)}${table.hasId ? ' ORDER BY id' : ''}`;
}
