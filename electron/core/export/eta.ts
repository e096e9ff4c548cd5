// How far an export has come and how long it has left. Each phase has a share of the whole,
// measured on a clip-art bundle (the default two-trunk 299 px model, 78 test pictures, CPU time
// per phase: app answers ~12% when the run has no record of them, writing ~5%, the parity check
// ~80% — TF.js on wasm most of it —, card and zip ~10%; 8-bit weights add a TF.js pass of their
// own), and moves within its share as pictures are checked; the time left is the time so far
// scaled by what remains, so it follows this machine's real speed rather than a guess, and it
// keeps moving while a phase works.

export type ExportPhase =
  | 'predicting with the app'
  | 'measuring 8-bit weights'
  | 'writing models'
  | 'checking parity'
  | 'writing the model card'
  | 'zipping'
  | 'done';

const SHARE: Record<ExportPhase, number> = {
  'predicting with the app': 0.12,
  'measuring 8-bit weights': 0.6,
  'writing models': 0.05,
  'checking parity': 0.8,
  'writing the model card': 0.03,
  zipping: 0.07,
  done: 0,
};

/** Below this much of the whole, or this soon after the start, the time left is not yet known. */
const MIN_FRACTION = 0.05;
const MIN_ELAPSED_MS = 1000;

export interface ExportTick {
  fraction: number;
  etaMs: number | null;
}

export class ExportClock {
  private readonly order: ExportPhase[];
  private readonly start: number;

  /** `phases`: the phases this export goes through, in order (e.g. without 8-bit weights). */
  constructor(phases: ExportPhase[], now = Date.now()) {
    this.order = phases;
    this.start = now;
  }

  /** Where the export is when `phase` is `within` (0..1) done. */
  at(phase: ExportPhase, within = 0, now = Date.now()): ExportTick {
    const total = this.order.reduce((s, p) => s + SHARE[p], 0) || 1;
    if (phase === 'done') return { fraction: 1, etaMs: 0 };
    let before = 0;
    for (const p of this.order) {
      if (p === phase) break;
      before += SHARE[p];
    }
    const fraction = Math.min(1, (before + SHARE[phase] * Math.min(1, Math.max(0, within))) / total);
    const elapsed = now - this.start;
    const etaMs = fraction < MIN_FRACTION || elapsed < MIN_ELAPSED_MS ? null : Math.round((elapsed * (1 - fraction)) / fraction);
    return { fraction, etaMs };
  }
}

/** How long each phase of one export took (the benchmark's breakdown): a phase lasts until the next one starts. */
export class PhaseTimes {
  private current: { phase: string; at: number } | null = null;
  readonly list: { phase: string; ms: number }[] = [];

  enter(phase: string, now = performance.now()): void {
    if (this.current?.phase === phase) return;
    if (this.current) this.list.push({ phase: this.current.phase, ms: now - this.current.at });
    this.current = phase === 'done' ? null : { phase, at: now };
  }
}
