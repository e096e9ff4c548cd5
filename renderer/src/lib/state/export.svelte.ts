// One run's Export panel: what to export, the 8-bit preview, the running job and its outcome,
// and the run's earlier exports. One session per run, kept while the app runs, so closing the
// panel during an export and opening it again shows the same job's progress.
import type { z } from 'zod';
import type { ExportInfo, ExportPart, QuantizePreview } from '../../../../electron/shared/contract-export';
import type { EventPayload } from '../../../../electron/shared/contract';
import type { ModelContents } from '../../../../electron/shared/contract-model-contents';
import { api } from '../client';
import { attempt, messageOf, toasts } from './toasts.svelte';

export type Export = z.output<typeof ExportInfo>;
export type Part = z.output<typeof ExportPart>;
export type Preview = z.output<typeof QuantizePreview>;
export type Contents = z.output<typeof ModelContents>;
export type ExportProgress = EventPayload<'export.progress'>;

export const PARTS: readonly Part[] = ['tfjs', 'onnx', 'web-demo', 'examples'];
/** The web demo runs the TF.js model and the examples the ONNX one; the backend adds them too. */
export const NEEDS: Partial<Record<Part, Part>> = { 'web-demo': 'tfjs', examples: 'onnx' };

export class ExportSession {
  chosen = $state<Record<Part, boolean>>({ tfjs: true, onnx: true, 'web-demo': true, examples: true });
  quantize = $state(false);
  preview = $state.raw<Preview | null>(null);
  previewing = $state(false);
  previewError = $state<string | null>(null);
  jobId = $state<string | null>(null);
  progress = $state.raw<ExportProgress | null>(null);
  /** The export this panel started, once it ended (or the newest one picked from the history). */
  result = $state.raw<Export | null>(null);
  failure = $state<string | null>(null);
  history = $state.raw<Export[]>([]);
  /** The pretrained networks the model carries and their sizes (null until asked, or when the model cannot say). */
  contents = $state.raw<Contents | null>(null);
  /** "Save to folder…": the folder the user chose, and the new folder the export makes in it. */
  savedIn = $state.raw<{ chosenName: string; folderName: string } | null>(null);
  // An export can end before `exports.start` has answered with its job id.
  private early = new Map<string, EventPayload<'export.finished'>>();

  constructor(readonly runId: number) {
    api.on('export.progress', (p) => {
      if (p.jobId === this.jobId) this.progress = p;
    });
    api.on('export.finished', (f) => {
      if (f.runId !== this.runId) return;
      if (f.jobId === this.jobId) this.finish(f);
      else this.early.set(f.jobId, f);
      void this.loadHistory();
    });
  }

  private finish(f: EventPayload<'export.finished'>): void {
    this.jobId = null;
    this.progress = null;
    this.result = f.export;
    this.failure = f.status === 'done' ? null : (f.export?.error ?? f.message ?? `The export ended as ${f.status}.`);
  }

  /** The parts actually written: a checked part brings what it needs. */
  parts = $derived(PARTS.filter((p) => this.chosen[p] || PARTS.some((q) => this.chosen[q] && NEEDS[q] === p)));
  running = $derived(this.jobId !== null);

  async loadContents(): Promise<void> {
    // Quietly absent when the model cannot say: the export itself reports a missing model.
    this.contents = await api.call('exports.modelContents', { runId: this.runId }).catch(() => null);
  }

  async loadHistory(): Promise<void> {
    const list = await attempt(api.call('exports.list', { runId: this.runId }));
    if (list) this.history = list;
  }

  /** Turning 8-bit weights on measures what it costs first (sizes and test accuracy). */
  async setQuantize(on: boolean): Promise<void> {
    this.quantize = on;
    if (!on || this.preview || this.previewing) return;
    this.previewing = true;
    this.previewError = null;
    try {
      this.preview = await api.call('exports.preview', { runId: this.runId, quantize: true });
    } catch (err) {
      this.previewError = messageOf(err);
    } finally {
      this.previewing = false;
    }
  }

  /** Desktop: asks for a folder with the system's dialog, then exports into a new folder inside it. */
  async saveToFolder(): Promise<void> {
    if (this.running || this.parts.length === 0) return;
    const picked = await attempt(api.call('exports.pickFolder', { runId: this.runId }));
    if (!picked) return; // cancelled, or the message is already shown
    await this.start(picked.destination);
    if (this.running || this.result) this.savedIn = { chosenName: picked.chosenName, folderName: picked.folderName };
  }

  async start(destination?: string): Promise<void> {
    if (this.running || this.parts.length === 0) return;
    this.result = null;
    this.failure = null;
    this.progress = null;
    this.savedIn = null;
    const started = await attempt(
      api.call('exports.start', {
        runId: this.runId,
        formats: [...this.parts],
        quantize: this.quantize && this.parts.includes('tfjs'),
        ...(destination ? { destination } : {}),
      }),
    );
    if (!started) return;
    this.jobId = started.jobId;
    const early = this.early.get(started.jobId);
    if (early) this.finish(early);
    this.early.clear();
  }

  async cancel(): Promise<void> {
    if (this.jobId) await attempt(api.call('exports.cancel', { jobId: this.jobId }));
  }

  show(e: Export): void {
    this.result = e;
    this.failure = e.status === 'done' ? null : (e.error ?? `This export ended as ${e.status}.`);
  }

  async reveal(exportId: number): Promise<void> {
    const ok = await attempt(api.call('exports.reveal', { exportId }));
    if (ok) toasts.push('Opened the folder in your file manager.', 'info');
  }
}

const sessions = new Map<number, ExportSession>();

export function exportFor(runId: number): ExportSession {
  let s = sessions.get(runId);
  if (!s) sessions.set(runId, (s = new ExportSession(runId)));
  return s;
}
