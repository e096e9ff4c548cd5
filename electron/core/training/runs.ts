// Runs in SQLite: one row per run with its whole config, status and final metrics, and one row
// per epoch. Only the host writes here (the engine process reports by message).
import type { Db } from '../db/connection.js';
import type { TrainConfig } from '../engine/config.js';
import type { EpochRecord } from '../engine/loop.js';
import type { FinalMetrics } from '../engine/metrics.js';
import { StudioError } from '../../shared/contract.js';
import { hostAlive } from '../host-process.js';

export type RunStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled' | 'interrupted';

export interface RunRow {
  id: number;
  projectId: number;
  baseId: string;
  strategy: TrainConfig['strategy'];
  config: TrainConfig;
  engine: string | null;
  status: RunStatus;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  error: string | null;
  modelFolder: string | null;
  /** Where each part of the run computed, fallbacks included (e.g. a layer ONNX could not take). */
  backends: Record<string, string> | null;
  metrics: FinalMetrics | null;
  epochs: EpochRecord[];
  /** The person's own name and notes for the run (null until given). */
  name: string | null;
  notes: string | null;
  /** The run whose network this one started from ("train again from this run"), if any. */
  continuedFrom: number | null;
}

interface Raw {
  id: number;
  project_id: number;
  base_id: string;
  strategy: TrainConfig['strategy'];
  config: string;
  engine: string | null;
  status: RunStatus;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  error: string | null;
  model_folder: string | null;
  backends: string | null;
  metrics: string | null;
  name: string | null;
  notes: string | null;
  continued_from: number | null;
}

const NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')";

export function createRun(db: Db, projectId: number, baseId: string, config: TrainConfig, continuedFrom: number | null = null): number {
  const info = db
    .prepare('INSERT INTO runs (project_id, base_id, strategy, config, host_pid, continued_from) VALUES (?, ?, ?, ?, ?, ?)')
    .run(projectId, baseId, config.strategy, JSON.stringify(config), process.pid, continuedFrom);
  return Number(info.lastInsertRowid);
}

/** Sets the person's name and notes of a run; an empty string clears one, an absent one stays. */
export function describeRun(db: Db, runId: number, changes: { name?: string; notes?: string }): void {
  getRun(db, runId); // a clear "no run N" first
  const clean = (s: string | undefined) => (s === undefined ? undefined : s.trim() === '' ? null : s.trim());
  const name = clean(changes.name);
  const notes = clean(changes.notes);
  if (name !== undefined) db.prepare('UPDATE runs SET name = ? WHERE id = ?').run(name, runId);
  if (notes !== undefined) db.prepare('UPDATE runs SET notes = ? WHERE id = ?').run(notes, runId);
}

export function markRunning(db: Db, runId: number, engine: string): void {
  db.prepare(`UPDATE runs SET status = 'running', engine = ?, started_at = ${NOW}, host_pid = ? WHERE id = ?`).run(
    engine,
    process.pid,
    runId,
  );
}

export function addEpoch(db: Db, runId: number, e: EpochRecord): void {
  db.prepare(
    'INSERT OR REPLACE INTO run_epochs (run_id, epoch, phase, loss, acc, val_loss, val_acc, ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  ).run(runId, e.epoch, e.phase, e.loss, e.acc, e.valLoss, e.valAcc, e.ms);
}

/** Ends a run. Only a run still queued or running can end: a late message cannot overwrite an outcome. */
export function finishRun(
  db: Db,
  runId: number,
  status: Exclude<RunStatus, 'queued' | 'running'>,
  details: { error?: string; modelFolder?: string; metrics?: FinalMetrics; config?: TrainConfig; backends?: Record<string, string> } = {},
): boolean {
  const info = db
    .prepare(
      `UPDATE runs SET status = ?, finished_at = ${NOW},
         duration_ms = CAST((julianday(${NOW}) - julianday(COALESCE(started_at, created_at))) * 86400000 AS INTEGER),
         error = ?, model_folder = ?, metrics = ?, config = COALESCE(?, config), backends = ?
       WHERE id = ? AND status IN ('queued','running')`,
    )
    .run(
      status,
      details.error ?? null,
      details.modelFolder ?? null,
      details.metrics ? JSON.stringify(details.metrics) : null,
      details.config ? JSON.stringify(details.config) : null,
      details.backends ? JSON.stringify(details.backends) : null,
      runId,
    );
  return info.changes > 0;
}

/**
 * At start-up: runs left queued or running by a host process that is gone cannot be running
 * now. Runs of another live host (the web host while the CLI trains, say) are left alone.
 */
export function markInterrupted(db: Db, reason = 'The app stopped while this run was training.'): number {
  const stale = (
    db.prepare("SELECT id, host_pid FROM runs WHERE status IN ('queued','running')").all() as { id: number; host_pid: number | null }[]
  ).filter((r) => !hostAlive(r.host_pid));
  const mark = db.prepare(
    `UPDATE runs SET status = 'interrupted', error = ?, finished_at = ${NOW} WHERE id = ? AND status IN ('queued','running')`,
  );
  for (const r of stale) mark.run(reason, r.id);
  return stale.length;
}

function epochsOf(db: Db, runId: number): EpochRecord[] {
  return (
    db.prepare("SELECT * FROM run_epochs WHERE run_id = ? ORDER BY CASE phase WHEN 'head' THEN 0 ELSE 1 END, epoch").all(runId) as {
      epoch: number;
      phase: EpochRecord['phase'];
      loss: number;
      acc: number;
      val_loss: number | null;
      val_acc: number | null;
      ms: number;
    }[]
  ).map((r) => ({ epoch: r.epoch, phase: r.phase, loss: r.loss, acc: r.acc, valLoss: r.val_loss, valAcc: r.val_acc, ms: r.ms }));
}

function toRun(db: Db, r: Raw): RunRow {
  return {
    id: r.id,
    projectId: r.project_id,
    baseId: r.base_id,
    strategy: r.strategy,
    config: JSON.parse(r.config) as TrainConfig,
    engine: r.engine,
    status: r.status,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    durationMs: r.duration_ms,
    error: r.error,
    modelFolder: r.model_folder,
    backends: r.backends ? (JSON.parse(r.backends) as Record<string, string>) : null,
    metrics: r.metrics ? (JSON.parse(r.metrics) as FinalMetrics) : null,
    epochs: epochsOf(db, r.id),
    name: r.name ?? null,
    notes: r.notes ?? null,
    continuedFrom: r.continued_from ?? null,
  };
}

export function getRun(db: Db, runId: number): RunRow {
  const r = db.prepare('SELECT * FROM runs WHERE id = ?').get(runId) as Raw | undefined;
  if (!r) throw new StudioError('not_found', `There is no run ${runId}.`);
  return toRun(db, r);
}

export function listRuns(db: Db, projectId: number): RunRow[] {
  return (db.prepare('SELECT * FROM runs WHERE project_id = ? ORDER BY id DESC').all(projectId) as Raw[]).map((r) => toRun(db, r));
}
