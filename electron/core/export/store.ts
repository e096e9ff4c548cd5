// The exports table (migration 004): one row per export attempt, its outcome and parity.
import type { Db } from '../db/connection.js';
import { StudioError } from '../../shared/contract.js';
import type { ParityReport } from './parity.js';
import { hostAlive } from '../host-process.js';

export type ExportFormat = 'bundle' | 'tfjs' | 'onnx';
export type ExportPart = 'tfjs' | 'onnx' | 'web-demo' | 'examples';
export type ExportStatus = 'running' | 'done' | 'failed' | 'cancelled' | 'interrupted';

export const ALL_PARTS: readonly ExportPart[] = ['tfjs', 'onnx', 'web-demo', 'examples'];

export interface ExportRow {
  id: number;
  runId: number;
  format: ExportFormat;
  parts: ExportPart[];
  quantized: boolean;
  status: ExportStatus;
  dir: string | null;
  zipPath: string | null;
  manifestSha256: string | null;
  bytes: number | null;
  maxAbsDiff: number | null;
  agreement: number | null;
  imagesChecked: number | null;
  accuracyDelta: number | null;
  parity: ParityReport | null;
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
}

interface Raw {
  id: number;
  run_id: number;
  format: ExportFormat;
  parts: string;
  quantized: number;
  status: ExportStatus;
  dir: string | null;
  zip_path: string | null;
  manifest_sha256: string | null;
  bytes: number | null;
  max_abs_diff: number | null;
  agreement: number | null;
  images_checked: number | null;
  accuracy_delta: number | null;
  parity: string | null;
  error: string | null;
  created_at: string;
  finished_at: string | null;
}

const NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')";

function toRow(r: Raw): ExportRow {
  return {
    id: r.id,
    runId: r.run_id,
    format: r.format,
    parts: JSON.parse(r.parts) as ExportPart[],
    quantized: r.quantized === 1,
    status: r.status,
    dir: r.dir,
    zipPath: r.zip_path,
    manifestSha256: r.manifest_sha256,
    bytes: r.bytes,
    maxAbsDiff: r.max_abs_diff,
    agreement: r.agreement,
    imagesChecked: r.images_checked,
    accuracyDelta: r.accuracy_delta,
    parity: r.parity ? (JSON.parse(r.parity) as ParityReport) : null,
    error: r.error,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
  };
}

export function createExport(db: Db, runId: number, format: ExportFormat, parts: ExportPart[], quantized: boolean): number {
  return Number(
    db
      .prepare('INSERT INTO exports (run_id, format, parts, quantized, host_pid) VALUES (?, ?, ?, ?, ?)')
      .run(runId, format, JSON.stringify(parts), quantized ? 1 : 0, process.pid).lastInsertRowid,
  );
}

/**
 * Records where an export is about to write (its folder, its zip) before it creates it: a path
 * outside the data folder is only ever removed by a sweep that finds it on record.
 */
export function recordExportPath(db: Db, exportId: number, which: 'dir' | 'zip', file: string): void {
  db.prepare(`UPDATE exports SET ${which === 'dir' ? 'dir' : 'zip_path'} = ? WHERE id = ?`).run(file, exportId);
}

export interface ExportOutcome {
  status: Exclude<ExportStatus, 'running'>;
  dir?: string | null;
  zipPath?: string | null;
  manifestSha256?: string | null;
  bytes?: number | null;
  parity?: ParityReport | null;
  accuracyDelta?: number | null;
  error?: string | null;
}

/** Ends an export; only a running one can end (a late outcome cannot overwrite another). */
export function finishExport(db: Db, exportId: number, o: ExportOutcome): boolean {
  return (
    db
      .prepare(
        `UPDATE exports SET status = ?, dir = ?, zip_path = ?, manifest_sha256 = ?, bytes = ?, max_abs_diff = ?, agreement = ?,
           images_checked = ?, accuracy_delta = ?, parity = ?, error = ?, finished_at = ${NOW}
         WHERE id = ? AND status = 'running'`,
      )
      .run(
        o.status,
        o.dir ?? null,
        o.zipPath ?? null,
        o.manifestSha256 ?? null,
        o.bytes ?? null,
        o.parity?.maxAbsDiff ?? null,
        o.parity?.agreement ?? null,
        o.parity?.images ?? null,
        o.accuracyDelta ?? null,
        o.parity ? JSON.stringify(o.parity) : null,
        o.error ?? null,
        exportId,
      ).changes > 0
  );
}

/** At start-up: exports left running by a host that died. */
/** At start-up: exports left running by a host process that is gone were interrupted. */
export function markExportsInterrupted(db: Db): number {
  const stale = (
    db.prepare("SELECT id, host_pid FROM exports WHERE status = 'running'").all() as { id: number; host_pid: number | null }[]
  ).filter((r) => !hostAlive(r.host_pid));
  const mark = db.prepare(
    `UPDATE exports SET status = 'interrupted', error = 'The app stopped during this export.', finished_at = ${NOW} WHERE id = ? AND status = 'running'`,
  );
  for (const r of stale) mark.run(r.id);
  return stale.length;
}

export function getExport(db: Db, exportId: number): ExportRow {
  const r = db.prepare('SELECT * FROM exports WHERE id = ?').get(exportId) as Raw | undefined;
  if (!r) throw new StudioError('not_found', `There is no export ${exportId}.`);
  return toRow(r);
}

export function listExports(db: Db, runId: number): ExportRow[] {
  return (db.prepare('SELECT * FROM exports WHERE run_id = ? ORDER BY id DESC').all(runId) as Raw[]).map(toRow);
}
