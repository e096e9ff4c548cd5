// Run comparison on the run page (the `eval.compare` call) and the project's best run (the
// `eval.best` call) that the run history marks: both judged on the test pictures two runs share by
// content, so the mark and the comparison cannot disagree about a pair the page shows.
import type { RunComparison } from '../../../../electron/shared/contract-eval';
import { api } from '../../lib/client';

/** The best run's id per project, refreshed when the runs change (one request at a time per project). */
class BestRuns {
  byProject = $state<Record<number, number | null>>({});
  private asked = new Map<number, string>();

  /** `key` says what the answer depends on (finished runs and their scores): unchanged, nothing is asked. */
  async refresh(projectId: number, key: string): Promise<void> {
    if (this.asked.get(projectId) === key) return;
    this.asked.set(projectId, key);
    try {
      const { runId } = await api.call('eval.best', { projectId });
      if (this.asked.get(projectId) === key) this.byProject = { ...this.byProject, [projectId]: runId };
    } catch {
      // A project deleted meanwhile: no mark.
      this.asked.delete(projectId);
    }
  }
}

export const bestRuns = new BestRuns();

export class Comparison {
  result = $state.raw<RunComparison | null>(null);
  failed = $state<string | null>(null);

  async load(runId: number, otherRunId: number): Promise<void> {
    try {
      const r = await api.call('eval.compare', { runId, otherRunId });
      this.result = r;
      this.failed = null;
    } catch (err) {
      this.result = null;
      this.failed = err instanceof Error ? err.message : String(err);
    }
  }
}
