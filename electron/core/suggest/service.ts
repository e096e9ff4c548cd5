// Labeling suggestions on the host side: decides when to refit (debounced after label changes),
// keeps one engine process alive for it (the base and every picture's features stay loaded, so a
// refit is a fraction of a second), pauses while a run or the wizard uses the engine, and holds
// the latest suggestions of the project the Images tab shows. Suggestions live in memory: they
// are recomputed from the labels in seconds, so there is nothing to migrate or keep in sync.
import type { Db } from '../db/connection.js';
import type { DataPaths } from '../paths.js';
import type { TrainingService } from '../training/service.js';
import { DEFAULT_BASE } from '../training/service.js';
import { forkEngine, type EngineChannel, type EngineLauncher } from '../training/engine-launcher.js';
import type { BaseRef } from '../engine/base.js';
import type { EngineEnvironment, ResourceLocations } from '../environment.js';
import type { ComputeSettings } from '../engine/compute-settings.js';
import type { ModelRegistry } from '../models/registry.js';
import type { FromEngine, SuggestResult, ToEngine } from '../engine/protocol.js';
import { SUGGEST_MIN_PER_LABEL, type SuggestStatus } from '../../shared/contract-suggest.js';

/** Label changes within this window make one refit, not one per click. */
export const DEBOUNCE_MS = 400;
/**
 * The bases the quick model reads when none is named: both built-in ones, where installed. Two
 * networks trained differently see different things: on both bundled datasets the convex head on
 * both bases' layers (average and max) beat either base alone (DESIGN "How far frozen features go").
 */
const SUGGEST_BASES = [DEFAULT_BASE, 'inception_v3'];
/**
 * The layer read per base: where a linear probe separates clip-art and photo labels best on the
 * built-in bases (MobileNetV2's block 13 expansion, InceptionV3's mixed7; DESIGN "Where to cut
 * matters" — their top layers are specialised for another task). Any other base reads its own
 * feature layer.
 */
const PREFERRED_LAYERS: Record<string, string> = { mobilenet_v2: 'block_13_expand_relu', inception_v3: 'mixed7' };

export interface SuggestionOptions {
  models: ModelRegistry;
  engineEntry: ResourceLocations['engineEntry'];
  engineEnvironment: EngineEnvironment;
  engineLauncher?: EngineLauncher;
  compute: ComputeSettings;
  cacheDir: string;
  debounceMs?: number;
  /** The one base read (default: every built-in base installed, SUGGEST_BASES); tests use a tiny one. */
  baseId?: string;
  /** Every change of state or of the suggestions. */
  onChange: (status: SuggestStatus) => void;
}

export interface Suggestion {
  /** Index into `labelIds`. */
  best: number;
  confidence: number;
  margin: number;
  probabilities: number[];
}

interface ProjectState {
  projectId: number;
  version: number;
  state: SuggestStatus['state'];
  message: string;
  /** Class order of the current suggestions (label ids and names). */
  labelIds: number[];
  labelNames: string[];
  byImage: Map<number, Suggestion>;
  trainedOn: number;
  refreshMs: number | null;
  newPictures: number;
  progress: { done: number; total: number } | null;
  /** The labels the current suggestions were fitted on (see dataset()). */
  fittedOn: string | null;
  /** The labels the last refresh looked at, whatever came of it (fitted, waiting or failed). */
  checkedOn: string | null;
}

interface Dataset {
  fingerprint: string;
  labelIds: number[];
  labelNames: string[];
  labeled: { key: string; file: string; label: number }[];
  unlabeled: { id: number; key: string; file: string }[];
  /** Why there is nothing to fit yet, in words; null when there is. */
  waiting: string | null;
}

export class SuggestionService {
  private current: ProjectState | null = null;
  private engine: EngineChannel | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private requestId = 0;
  private pending = new Map<
    number,
    { resolve: (r: SuggestResult) => void; reject: (e: Error) => void; onProgress: (done: number, total: number) => void }
  >();
  private closed = false;
  private readonly onIdle = () => {
    if (this.current?.state === 'paused') this.schedule(0);
  };

  constructor(
    private db: Db,
    private paths: DataPaths,
    private training: TrainingService,
    private options: SuggestionOptions,
  ) {
    training.on('idle', this.onIdle);
  }

  /** The bases read, each with its layer. */
  private parts(): { id: string; base: BaseRef; layer: string }[] {
    const ids = this.options.baseId ? [this.options.baseId] : SUGGEST_BASES.filter((id) => this.installed(id));
    return (ids.length ? ids : [DEFAULT_BASE]).map((id) => {
      const found = this.options.models.base(id);
      const preferred = PREFERRED_LAYERS[id];
      const layer = preferred && found.spec.probePoints.includes(preferred) ? preferred : found.spec.featureLayer;
      return { id, base: { dir: found.dir, spec: found.spec, format: found.format }, layer };
    });
  }

  private installed(id: string): boolean {
    try {
      this.options.models.base(id);
      return true;
    } catch {
      return false;
    }
  }

  /** What the quick model reads, in words for `studio suggest`: base ids and layers, joined by " + ". */
  get model(): { baseId: string; layer: string } {
    const parts = this.parts();
    return { baseId: parts.map((p) => p.id).join(' + '), layer: parts.map((p) => p.layer).join(' + ') };
  }

  /** The project the Images tab shows: its suggestions are the ones kept and refreshed. */
  watch(projectId: number): ProjectState {
    if (this.current?.projectId !== projectId) {
      this.current = {
        projectId,
        version: 0,
        state: 'computing',
        message: 'Reading your pictures for suggestions…',
        labelIds: [],
        labelNames: [],
        byImage: new Map(),
        trainedOn: 0,
        refreshMs: null,
        newPictures: 0,
        progress: null,
        fittedOn: null,
        checkedOn: null,
      };
      this.schedule(0);
    }
    return this.current;
  }

  /** Labels of the project changed: refit soon (debounced), if it is the one watched. */
  touch(projectId: number): void {
    if (this.current?.projectId === projectId) this.schedule(this.options.debounceMs ?? DEBOUNCE_MS);
  }

  /** The current suggestions of a watched project (none for another one). */
  suggestions(projectId: number): ProjectState {
    return this.watch(projectId);
  }

  status(projectId: number): SuggestStatus {
    const s = this.watch(projectId);
    const counts = new Map<number, number>();
    for (const sug of s.byImage.values()) counts.set(sug.best, (counts.get(sug.best) ?? 0) + 1);
    return {
      projectId,
      state: s.state,
      message: s.message,
      version: s.version,
      labels: s.labelIds.map((labelId, i) => ({ labelId, name: s.labelNames[i]!, suggested: counts.get(i) ?? 0 })),
      trainedOn: s.trainedOn,
      refreshMs: s.refreshMs,
      newPictures: s.newPictures,
      progress: s.progress,
    };
  }

  /** Waits until the suggestions match the labels as they are now (or cannot: waiting, paused, failed). */
  async refresh(projectId: number): Promise<SuggestStatus> {
    const s = this.watch(projectId);
    // Bounded: labels changing all the time (another client) must not keep a caller waiting for ever.
    for (let round = 0; round < 20 && this.current === s; round++) {
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = null;
        this.kick();
      }
      if (this.running) {
        await this.running;
        continue;
      }
      if (s.state === 'paused' || s.checkedOn === this.dataset(projectId).fingerprint) break;
      this.kick();
    }
    return this.status(projectId);
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.kick();
    }, ms);
    this.timer.unref?.();
  }

  /** One refresh at a time; a change during one makes another right after. */
  private kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.refreshOnce()
      .catch((err: unknown) => {
        if (!this.current) return;
        this.current.state = 'failed';
        this.current.message = `Suggestions stopped: ${err instanceof Error ? err.message : String(err)}`;
        this.current.progress = null;
        this.changed();
      })
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private changed(): void {
    if (this.current) this.options.onChange(this.status(this.current.projectId));
  }

  private async refreshOnce(): Promise<void> {
    const s = this.current;
    if (!s || this.closed) return;
    if (this.training.busy) {
      s.state = 'paused';
      s.message = 'Suggestions are paused while a model trains or the wizard measures; they come back when it is done.';
      this.changed();
      return;
    }
    let data: Dataset;
    try {
      data = this.dataset(s.projectId);
    } catch {
      return; // the project was deleted meanwhile
    }
    s.checkedOn = data.fingerprint;
    if (data.waiting !== null) {
      Object.assign(s, { state: 'waiting', message: data.waiting, byImage: new Map(), labelIds: [], labelNames: [], fittedOn: null });
      s.version++;
      this.changed();
      return;
    }
    if (s.fittedOn === data.fingerprint && s.state === 'ready') return;
    if (s.state !== 'ready') {
      s.state = 'computing';
      s.message = 'Learning from your labels…';
      this.changed();
    }
    const result = await this.ask(data, (done, total) => {
      s.progress = { done, total };
      s.message = `Reading pictures for suggestions: ${done} of ${total}`;
      this.changed();
    });
    if (this.current !== s) return; // another project took over meanwhile
    const byImage = new Map<number, Suggestion>();
    data.unlabeled.forEach((u, i) => {
      const p = result.probabilities[i]!;
      let best = 0;
      for (let c = 1; c < p.length; c++) if (p[c]! > p[best]!) best = c;
      let second = 0;
      for (let c = 0; c < p.length; c++) if (c !== best && p[c]! > second) second = p[c]!;
      byImage.set(u.id, { best, confidence: p[best]!, margin: p[best]! - second, probabilities: p });
    });
    Object.assign(s, {
      state: 'ready',
      byImage,
      labelIds: data.labelIds,
      labelNames: data.labelNames,
      trainedOn: data.labeled.length,
      refreshMs: Math.round(result.fitMs),
      newPictures: result.newFeatures,
      progress: null,
      fittedOn: data.fingerprint,
      message: `Suggestions from ${data.labeled.length} labeled pictures in ${data.labelIds.length} labels.`,
    });
    s.version++;
    this.changed();
  }

  /**
   * The pictures the quick model learns from and the ones it suggests for. Labels with fewer than
   * SUGGEST_MIN_PER_LABEL active pictures are left out (the model would know them from one or two
   * examples, and be confidently wrong); at least two labels are needed.
   */
  dataset(projectId: number): Dataset {
    const rows = this.db
      .prepare('SELECT id, sha256, format, label_id, status FROM images WHERE project_id = ? ORDER BY id')
      .all(projectId) as { id: number; sha256: string; format: string; label_id: number | null; status: string }[];
    const labels = this.db.prepare('SELECT id, name FROM labels WHERE project_id = ?').all(projectId) as { id: number; name: string }[];
    labels.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id - b.id));
    const count = new Map<number, number>();
    for (const r of rows) if (r.label_id !== null && r.status === 'active') count.set(r.label_id, (count.get(r.label_id) ?? 0) + 1);
    const known = labels.filter((l) => (count.get(l.id) ?? 0) >= SUGGEST_MIN_PER_LABEL);
    const index = new Map(known.map((l, i) => [l.id, i]));
    const file = (r: { sha256: string; format: string }) => this.paths.stored(projectId, r.sha256, r.format);
    const labeled = rows
      .filter((r) => r.status === 'active' && r.label_id !== null && index.has(r.label_id))
      .map((r) => ({ key: r.sha256, file: file(r), label: index.get(r.label_id!)! }));
    const unlabeled = rows.filter((r) => r.label_id === null).map((r) => ({ id: r.id, key: r.sha256, file: file(r) }));
    const fingerprint = `${known.map((l) => `${l.id}:${l.name}`).join(',')}|${labeled.map((l) => `${l.key}:${l.label}`).join(',')}|${unlabeled.map((u) => u.id).join(',')}`;
    let waiting: string | null = null;
    if (known.length < 2)
      waiting =
        labels.length < 2
          ? `Create at least two labels and label ${SUGGEST_MIN_PER_LABEL} pictures of each: suggestions for the rest start then.`
          : `Label ${SUGGEST_MIN_PER_LABEL} pictures of at least two labels (now: ${labels.map((l) => `${l.name} ${count.get(l.id) ?? 0}`).join(', ')}): suggestions for the rest start then.`;
    else if (unlabeled.length === 0) waiting = 'Every picture has a label: nothing to suggest.';
    return { fingerprint, labelIds: known.map((l) => l.id), labelNames: known.map((l) => l.name), labeled, unlabeled, waiting };
  }

  private channel(): EngineChannel {
    if (this.engine) return this.engine;
    const launcher = this.options.engineLauncher ?? forkEngine;
    const child = launcher.start({ entry: this.options.engineEntry });
    // One listener for the life of the process; requests wait in `pending`.
    child.onMessage((m: FromEngine) => {
      const p = 'requestId' in m ? this.pending.get(m.requestId) : undefined;
      if (!p) return;
      if (m.type === 'suggestProgress') p.onProgress(m.done, m.total);
      else if (m.type === 'suggested') {
        this.pending.delete(m.requestId);
        p.resolve(m.result);
      } else if (m.type === 'suggestError') {
        this.pending.delete(m.requestId);
        p.reject(new Error(m.message));
      }
    });
    child.onExit(({ code, signal, stderr }) => {
      if (this.engine === child) this.engine = null;
      const error = new Error(`the engine process stopped (${signal ?? `exit code ${code}`}). ${stderr.slice(-2).join(' ')}`);
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
    });
    this.engine = child;
    return child;
  }

  private ask(data: Dataset, onProgress: (done: number, total: number) => void): Promise<SuggestResult> {
    const child = this.channel();
    const requestId = ++this.requestId;
    return new Promise<SuggestResult>((resolve, reject) => {
      this.pending.set(requestId, { resolve, reject, onProgress });
      child.send({
        type: 'suggest',
        requestId,
        parts: this.parts().map((p) => ({ base: p.base, layers: [p.layer] })),
        environment: this.options.engineEnvironment,
        compute: this.options.compute,
        cacheDir: this.options.cacheDir,
        labeled: data.labeled,
        unlabeled: data.unlabeled.map((u) => ({ key: u.key, file: u.file })),
        classes: data.labelIds.length,
      } satisfies ToEngine);
    });
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.training.off('idle', this.onIdle);
    this.engine?.release();
    this.engine = null;
  }
}
