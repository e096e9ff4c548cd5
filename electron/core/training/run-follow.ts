// A started run as the host follows it: records what its engine process reports (running,
// epochs, the evaluation, how it ended) in SQLite and passes progress on; settles with the run as
// recorded once it ends, however it ends — done, failed, cancelled, or its process gone.
import fs from 'node:fs';
import type { Db } from '../db/connection.js';
import type { TrainConfig } from '../engine/config.js';
import type { EpochRecord } from '../engine/loop.js';
import type { EngineChannel } from './engine-launcher.js';
import * as runs from './runs.js';
import { diskFullMessage, isDiskFull } from '../storage/disk-full.js';
import { releaseReserves } from '../storage/reserve.js';
import { scrubInstallPaths } from '../install-paths.js';
import { saveRunEvaluation } from '../eval/store.js';

/** A run in flight: its engine process, and whether Stop was pressed or it has ended. */
export interface Active {
  child: EngineChannel;
  cancelRequested: boolean;
  ended: boolean;
  phaseStart: Map<string, number>;
}

export interface FollowedRun {
  runId: number;
  state: Active;
  /** The model folder the engine writes: removed when the run ends without a model to keep. */
  outDir: string;
  config: TrainConfig;
  /** The run's labels and images in the order the engine was given them (its evaluation's order). */
  labels: string[];
  imageIds: number[];
  unlabeledIds: number[];
}

export interface RunListeners {
  progress(p: { runId: number; phase: string; done: number; total: number; etaMs: number | null }): void;
  epoch(e: { runId: number; record: EpochRecord }): void;
  /** The run is recorded as ended: no longer active (before its process is released). */
  released(): void;
  finished(row: runs.RunRow): void;
  /** After `done` settled: nothing of this run is left running. */
  settled(): void;
}

export function followRun(db: Db, run: FollowedRun, on: RunListeners): Promise<runs.RunRow> {
  const { runId, state, outDir, config } = run;
  const child = state.child;
  return new Promise<runs.RunRow>((resolve) => {
    const end = (status: 'done' | 'failed' | 'cancelled' | 'interrupted', details: Parameters<typeof runs.finishRun>[3] = {}) => {
      if (state.ended) return;
      state.ended = true;
      runs.finishRun(db, runId, status, details);
      on.released();
      child.release();
      const row = runs.getRun(db, runId);
      on.finished(row);
      resolve(row);
      on.settled();
    };
    child.onMessage((m) => {
      if (!('runId' in m) || m.runId !== runId) return;
      switch (m.type) {
        case 'started':
          runs.markRunning(db, runId, m.engine.name);
          break;
        case 'progress': {
          const key = `${m.phase}`;
          if (m.done === 0 || !state.phaseStart.has(key)) state.phaseStart.set(key, Date.now());
          const elapsed = Date.now() - state.phaseStart.get(key)!;
          on.progress({
            runId,
            phase: m.phase,
            done: m.done,
            total: m.total,
            etaMs: m.done > 0 ? Math.round((elapsed / m.done) * (m.total - m.done)) : null,
          });
          break;
        }
        case 'epoch':
          runs.addEpoch(db, runId, m.record);
          on.epoch({ runId, record: m.record });
          break;
        case 'done':
          // A Stop pressed while the run was already saving its model still stops it: the
          // user asked for no model, and a run that says Done after Stop reads as ignored.
          if (state.cancelRequested) {
            fs.rmSync(outDir, { recursive: true, force: true });
            end('cancelled');
            break;
          }
          if (m.summary.evaluation) saveRunEvaluation(db, runId, run.labels, m.summary.evaluation, run.imageIds, run.unlabeledIds);
          end('done', {
            modelFolder: m.summary.modelDir,
            metrics: m.summary.metrics,
            backends: m.summary.backends,
            config: { ...config, featureLayer: m.summary.featureLayer, boundary: m.summary.boundary },
          });
          break;
        case 'cancelled':
          end('cancelled');
          break;
        case 'error':
          if (isDiskFull({ message: m.message })) {
            // A model half-written on a full disk is useless and holds the space the user needs.
            releaseReserves();
            fs.rmSync(outDir, { recursive: true, force: true });
            end('failed', { error: diskFullMessage('The run stopped and its partial model was removed.') });
          } else end('failed', { error: scrubInstallPaths(m.message) });
          break;
      }
    });
    child.onExit(({ code, signal, stderr }) => {
      if (state.cancelRequested) end('cancelled');
      else
        end('interrupted', {
          error: `The engine process stopped unexpectedly (${signal ?? `exit code ${code}`}).${stderr.length ? ` ${stderr.slice(-3).join(' ')}` : ''}`,
        });
    });
  });
}
