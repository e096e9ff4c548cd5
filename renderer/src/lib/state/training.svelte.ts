// The Train page of one project: the wizard's measurement, the split, the run history, the run
// that is open (live while it trains) and the plan for the next run.
import { attempt, messageOf } from './toasts.svelte';
import {
  onTraining,
  trainingCall,
  type Epoch,
  type RunInfo,
  type Splits,
  type QuickPlanInfo,
  type TrainingEventPayload,
  type Wizard,
} from './trainingApi.svelte';
import { TrainingPlan } from './trainingPlan.svelte';
import { mergeRunList, newestFirst } from './run-list';

export type WizardState = 'idle' | 'measuring' | 'ready' | 'error';
export type Progress = TrainingEventPayload<'training.progress'>;

export class TrainingSession {
  wizard = $state.raw<Wizard | null>(null);
  /** The instant plan from picture counts (or the wizard's kept answer): shown, and startable, while the wizard measures. */
  quick = $state.raw<QuickPlanInfo | null>(null);
  /** What the plan follows: the wizard's measured answer once there, the quick one before. */
  advice = $derived(this.wizard ?? this.quick);
  wizardState = $state<WizardState>('idle');
  wizardError = $state('');
  /** When the current measurement started (ms since epoch), for "measuring for 12 s". */
  measuringSince = $state(0);
  splits = $state.raw<Splits | null>(null);
  runs = $state.raw<RunInfo[]>([]);
  /** The run shown on the right; null shows the wizard for a new run. */
  openRunId = $state<number | null>(null);
  progress = $state<Record<number, Progress>>({});
  starting = $state(false);
  /** Runs asked to stop that have not said so yet: "Stopping…" shows on the run until it reports its end. */
  stopping = $state.raw<number[]>([]);
  readonly plan = new TrainingPlan();

  openRun = $derived(this.runs.find((r) => r.id === this.openRunId) ?? null);
  active = $derived(this.runs.filter((r) => r.status === 'running' || r.status === 'queued'));

  private off: (() => void)[] = [];
  /** Epochs not yet shown: a classifier on cached features can finish dozens a second. */
  private pendingEpochs = new Map<number, Epoch[]>();
  private refreshing = new Set<number>();
  private flushTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(readonly projectId: number) {
    this.off.push(
      onTraining('training.epoch', ({ runId, record }) => {
        if (!this.runs.some((r) => r.id === runId)) return;
        this.pendingEpochs.set(runId, [...(this.pendingEpochs.get(runId) ?? []), record]);
        this.flushTimer ??= setTimeout(() => this.flushEpochs(), EPOCH_FLUSH_MS);
      }),
      onTraining('training.progress', (p) => {
        const run = this.runs.find((r) => r.id === p.runId);
        if (!run) return;
        this.progress = { ...this.progress, [p.runId]: p };
        // The engine has started: read the run again once for its engine and start time.
        if (run.status === 'queued' && !this.refreshing.has(p.runId)) {
          this.refreshing.add(p.runId);
          void this.reloadRun(p.runId).finally(() => this.refreshing.delete(p.runId));
        }
      }),
      onTraining('training.finished', ({ runId }) => {
        if (!this.runs.some((r) => r.id === runId)) return;
        const { [runId]: _, ...rest } = this.progress;
        this.progress = rest;
        this.stopping = this.stopping.filter((id) => id !== runId);
        this.flushEpochs();
        void this.reloadRun(runId);
      }),
    );
  }

  dispose(): void {
    this.off.forEach((f) => f());
    this.off = [];
    if (this.flushTimer) clearTimeout(this.flushTimer);
  }

  /** Shows the epochs that arrived since the last flush, in one update per run. */
  private flushEpochs(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    // A runs.get answer may already hold some of them.
    const key = (e: Epoch) => `${e.phase}:${e.epoch}`;
    for (const [runId, records] of this.pendingEpochs)
      this.patch(runId, (r) => {
        const have = new Set(r.epochs.map(key));
        const fresh = records.filter((e) => !have.has(key(e)));
        return fresh.length ? { ...r, status: 'running', epochs: [...r.epochs, ...fresh] } : r;
      });
    this.pendingEpochs.clear();
  }

  /** Which labeled pictures the wizard's answer is about; another set needs a new measurement. */
  private measuredFor = '';

  /** `dataKey` changes when the project's labeled pictures change (e.g. the counts per label). */
  async load(dataKey: string): Promise<void> {
    const fresh = this.wizardState !== 'measuring' && (this.wizardState === 'idle' || dataKey !== this.measuredFor);
    const [runs, splits, defaults, quick] = await Promise.all([
      attempt(trainingCall('runs.list', { projectId: this.projectId })),
      attempt(trainingCall('splits.get', { projectId: this.projectId })),
      this.plan.defaults ? null : attempt(trainingCall('training.defaults', {})),
      fresh ? this.quickPlan() : null,
    ]);
    if (quick) this.takeQuick(quick, dataKey);
    if (defaults) this.plan.useDefaults(defaults, this.advice);
    else if (quick && this.advice) this.plan.adopt(this.advice);
    // Not in place of what is known: a run started while the list was on its way is newer than it.
    if (runs) this.runs = mergeRunList(runs, this.runs);
    // Coming back to a project that is training shows that run, not the wizard.
    if (this.openRunId === null && this.active[0]) this.openRunId = this.active[0].id;
    if (splits) this.splits = splits;
    // The full measurement refines the plan when it arrives; nothing waits for it.
    if (fresh && !quick?.cached) void this.measure(dataKey);
  }

  private quickPlan(): Promise<QuickPlanInfo | undefined> {
    return attempt(
      trainingCall('training.quickPlan', { projectId: this.projectId, ...(this.plan.baseId ? { baseId: this.plan.baseId } : {}) }),
    );
  }

  /** A quick plan is about the pictures as they are now: an older measurement no longer holds, a kept one does. */
  private takeQuick(quick: QuickPlanInfo, dataKey: string): void {
    this.quick = quick;
    this.wizard = quick.cached;
    if (quick.cached) {
      this.measuredFor = dataKey;
      this.wizardState = 'ready';
    }
  }

  /** Another base: its own quick plan at once, then its own measurement. */
  async useBase(baseId: string): Promise<void> {
    this.plan.baseId = baseId;
    this.plan.edited = false;
    const quick = await this.quickPlan();
    if (quick) {
      this.takeQuick(quick, this.measuredFor);
      if (this.advice) this.plan.adopt(this.advice, true);
    }
    if (!quick?.cached) await this.measure();
  }

  /** Counts measurements, so the answer of one made for an earlier base is dropped. */
  private ticket = 0;

  /** Runs the wizard: probes the base on this project's images, measures the engine, recommends. */
  async measure(dataKey = this.measuredFor): Promise<void> {
    const ticket = ++this.ticket;
    this.measuredFor = dataKey;
    this.wizardState = 'measuring';
    this.wizardError = '';
    this.measuringSince = Date.now();
    try {
      const report = await trainingCall('training.wizard', {
        projectId: this.projectId,
        ...(this.plan.baseId ? { baseId: this.plan.baseId } : {}),
      });
      if (ticket !== this.ticket) return;
      this.wizard = report;
      this.plan.adopt(report);
      this.wizardState = 'ready';
    } catch (err) {
      if (ticket !== this.ticket) return;
      this.wizardError = messageOf(err);
      this.wizardState = 'error';
    }
  }

  async setSplits(settings: Partial<Splits['settings']>): Promise<void> {
    const res = await attempt(trainingCall('splits.set', { projectId: this.projectId, settings }));
    if (res) this.splits = res;
  }

  async start(): Promise<void> {
    // Without the engine's defaults there is nothing sensible to send.
    if (this.starting || !this.plan.defaults) return;
    this.starting = true;
    try {
      const res = await attempt(
        trainingCall('training.start', {
          projectId: this.projectId,
          // No base picked: the one the wizard chose and measured (its recommendation names that base's layers).
          ...((this.plan.baseId ?? this.wizard?.baseId) ? { baseId: this.plan.baseId ?? this.wizard?.baseId } : {}),
          strategy: this.plan.strategy,
          overrides: this.plan.overrides(),
          ...(this.plan.leaveOut.length > 0 ? { leaveOut: this.plan.leaveOut } : {}),
        }),
      );
      if (!res) return;
      // Left out of that training only: the next one starts from all labels again.
      this.plan.leaveOut = [];
      await this.reloadRun(res.runId);
      this.openRunId = res.runId;
    } finally {
      this.starting = false;
    }
  }

  /** "Train again from this run": a new run from its network and settings, on the labels as they are now. */
  async startFrom(runId: number): Promise<void> {
    if (this.starting) return;
    this.starting = true;
    try {
      const res = await attempt(trainingCall('training.start', { projectId: this.projectId, fromRunId: runId }));
      if (!res) return;
      await this.reloadRun(res.runId);
      this.openRunId = res.runId;
    } finally {
      this.starting = false;
    }
  }

  /** A run's name and notes, as the person wrote them ("" clears one). */
  async describe(runId: number, changes: { name?: string; notes?: string }): Promise<void> {
    const res = await attempt(trainingCall('runs.describe', { runId, ...changes }));
    if (res) await this.reloadRun(runId);
  }

  async cancel(runId: number): Promise<void> {
    const res = await attempt(trainingCall('training.cancel', { runId }));
    // Shown on the run itself, not in a toast that outlives the "Cancelled" it announces.
    if (res && this.active.some((r) => r.id === runId)) this.stopping = [...this.stopping, runId];
  }

  /** Opens a run's details, re-read from the host (epochs and metrics as recorded). */
  async open(runId: number | null): Promise<void> {
    this.openRunId = runId;
    if (runId !== null) await this.reloadRun(runId);
  }

  private async reloadRun(runId: number): Promise<void> {
    const run = await attempt(trainingCall('runs.get', { runId }));
    if (!run) return;
    this.runs = this.runs.some((r) => r.id === runId) ? this.runs.map((r) => (r.id === runId ? run : r)) : newestFirst([run, ...this.runs]);
  }

  private patch(runId: number, change: (r: RunInfo) => RunInfo): void {
    if (!this.runs.some((r) => r.id === runId)) return;
    this.runs = this.runs.map((r) => (r.id === runId ? change(r) : r));
  }
}

const EPOCH_FLUSH_MS = 250;

let current: TrainingSession | null = null;

/**
 * The Train page's state for a project, kept while the user switches to the images and back, so
 * a measurement or a live run is not lost; opening another project starts afresh.
 */
export function trainingFor(projectId: number): TrainingSession {
  if (current?.projectId !== projectId) {
    current?.dispose();
    current = new TrainingSession(projectId);
  }
  return current;
}
