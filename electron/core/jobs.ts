// Long jobs (import today; extraction, training and export later): one place that hands out
// ids, computes the ETA from the observed rate, throttles progress events and cancels.
import { randomBytes } from 'node:crypto';
import type { JobProgress } from '../shared/schemas.js';
import { StudioError } from '../shared/contract.js';
import type { EventBus } from './events.js';

export interface JobReporter {
  readonly jobId: string;
  readonly signal: AbortSignal;
  progress(phase: string, done: number, total: number, message?: string): void;
}

interface Job {
  progress: JobProgress;
  controller: AbortController;
  startedAt: number;
  lastEmit: number;
}

const EMIT_EVERY_MS = 100;

export class JobRegistry {
  private jobs = new Map<string, Job>();
  constructor(private bus: EventBus) {}

  start<T>(kind: JobProgress['kind'], projectId: number, run: (job: JobReporter) => Promise<T>): { jobId: string; done: Promise<T> } {
    const jobId = `${kind}-${randomBytes(6).toString('hex')}`;
    const controller = new AbortController();
    const job: Job = {
      progress: { jobId, kind, projectId, phase: 'starting', done: 0, total: 0, etaMs: null },
      controller,
      startedAt: Date.now(),
      lastEmit: 0,
    };
    this.jobs.set(jobId, job);
    const reporter: JobReporter = {
      jobId,
      signal: controller.signal,
      progress: (phase, done, total, message) => {
        const elapsed = Date.now() - job.startedAt;
        // ETA from the average rate so far; none until there is a rate to go on.
        const etaMs = done > 0 && total >= done ? Math.round((elapsed / done) * (total - done)) : null;
        job.progress = { jobId, kind, projectId, phase, done, total, etaMs, ...(message ? { message } : {}) };
        const now = Date.now();
        if (now - job.lastEmit >= EMIT_EVERY_MS || done === total) {
          job.lastEmit = now;
          this.bus.emit('job.progress', job.progress);
        }
      },
    };
    const done = run(reporter).finally(() => this.jobs.delete(jobId));
    return { jobId, done };
  }

  cancel(jobId: string): void {
    const job = this.jobs.get(jobId);
    if (!job) throw new StudioError('not_found', 'That job has already finished.');
    job.controller.abort();
  }

  active(): JobProgress[] {
    return [...this.jobs.values()].map((j) => j.progress);
  }

  /** Before a project is deleted: its jobs stop. */
  cancelProject(projectId: number): void {
    for (const j of this.jobs.values()) if (j.progress.projectId === projectId) j.controller.abort();
  }

  cancelAll(): void {
    for (const j of this.jobs.values()) j.controller.abort();
  }
}
