// The backup archive's layout (a ustar file, entries in this order):
//   transfer-studio-backup.json   {format, version}: first, so a foreign file is refused at once
//   database.json                 {schemaVersion, tables: [{name, columns, rows}]}: the project's rows
//   images/<sha256>.<ext>         each stored original
//   runs/<run id>/model/<file>    each run's model folder
//   manifest.json                 {…, entries: [{name, bytes, sha256}]} of every entry above
//   manifest.sha256               the sha256 of manifest.json, so the manifest itself is checked too
import { z } from 'zod';

export const BACKUP_FORMAT = 'transfer-studio-backup';
export const BACKUP_VERSION = 1;
export const BACKUP_EXTENSION = '.studio-backup.tar';

export const MARKER_ENTRY = 'transfer-studio-backup.json';
export const DATABASE_ENTRY = 'database.json';
export const MANIFEST_ENTRY = 'manifest.json';
export const MANIFEST_SUM_ENTRY = 'manifest.sha256';

export interface TableDump {
  name: string;
  columns: string[];
  rows: unknown[][];
}

const Sha = z.string().regex(/^[a-f0-9]{64}$/);

export const Marker = z.object({ format: z.literal(BACKUP_FORMAT), version: z.number().int() });

export const ManifestSchema = z.object({
  format: z.literal(BACKUP_FORMAT),
  version: z.number().int(),
  appVersion: z.string(),
  schemaVersion: z.number().int(),
  createdAt: z.string(),
  project: z.object({ name: z.string().min(1), images: z.number().int(), labels: z.number().int(), runs: z.number().int() }),
  entries: z.array(z.object({ name: z.string(), bytes: z.number().int().min(0), sha256: Sha })),
});
export type Manifest = z.infer<typeof ManifestSchema>;

export const DatabaseSchema = z.object({
  schemaVersion: z.number().int(),
  tables: z.array(z.object({ name: z.string(), columns: z.array(z.string()), rows: z.array(z.array(z.unknown())) })),
});

const IMAGE = /^images\/([a-f0-9]{64})\.([a-z0-9]{1,8})$/;
// A model file: plain name segments only (no '.', '..' or empty segment), so it cannot leave its folder.
const MODEL = /^runs\/([1-9][0-9]{0,15})\/model\/((?:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\/){0,4}[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$/;

export type EntryKind =
  | { kind: 'marker' | 'database' | 'manifest' | 'manifest-sum' }
  | { kind: 'image'; sha256: string; ext: string }
  | { kind: 'model'; runId: number; rel: string };

/** What an entry name is, or null for a name a backup never has (refused). */
export function classifyEntry(name: string): EntryKind | null {
  if (name === MARKER_ENTRY) return { kind: 'marker' };
  if (name === DATABASE_ENTRY) return { kind: 'database' };
  if (name === MANIFEST_ENTRY) return { kind: 'manifest' };
  if (name === MANIFEST_SUM_ENTRY) return { kind: 'manifest-sum' };
  let m = IMAGE.exec(name);
  if (m) return { kind: 'image', sha256: m[1]!, ext: m[2]! };
  m = MODEL.exec(name);
  if (m && !m[2]!.split('/').some((s) => s === '.' || s === '..')) return { kind: 'model', runId: Number(m[1]), rel: m[2]! };
  return null;
}
