// Labeling suggestions of the open project: where the quick model stands, the view the Images tab
// shows (suggested as a label above a threshold, least sure first, last run's mistakes, doubted
// labels) and the accept actions. Reloads when the host says the suggestions changed.
import { SvelteMap } from 'svelte/reactivity';
import type { SuggestRow, SuggestStatus, SuggestView } from '../../../../electron/shared/contract-suggest';
import { api } from '../client';
import { attempt } from './toasts.svelte';
import type { ProjectSession } from './project.svelte';

export type ViewKind = SuggestView['kind'];
/** What a grid thumbnail of an unlabeled picture shows: the quick model's label and its confidence. */
export interface ThumbSuggestion {
  labelId: number;
  label: string;
  confidence: number;
}

/** The threshold slider's steps, most demanding first. */
export const THRESHOLDS = [99, 95, 90, 80, 70, 60, 50, 0];
const PAGE = 500;

export class Suggestions {
  status = $state<SuggestStatus | null>(null);
  open = $state(false);
  kind = $state<ViewKind>('suggested');
  labelId = $state<number | null>(null);
  minPercent = $state(90);
  rows = $state<SuggestRow[]>([]);
  total = $state(0);
  /** The suggestions' version the rows were read from: a bulk accept names it. */
  version = $state(0);
  focused = $state(0);
  private seq = 0;
  private off: (() => void) | null = null;
  /** Suggestions of the grid's thumbnails seen so far, for suggestions `thumbsVersion`. */
  readonly thumbs = new SvelteMap<number, ThumbSuggestion>();
  private thumbsVersion = -1;
  /** Pictures already asked about at `thumbsVersion` (plain: asking must not re-run the grid's effect). */
  private asked = new Set<number>();

  constructor(private session: ProjectSession) {}

  get view(): SuggestView | null {
    if (this.kind !== 'suggested') return { kind: this.kind };
    return this.labelId === null ? null : { kind: 'suggested', labelId: this.labelId, minPercent: this.minPercent };
  }

  get labelName(): string {
    return this.status?.labels.find((l) => l.labelId === this.labelId)?.name ?? '';
  }

  start(): () => void {
    this.off = api.on('suggest.changed', (s) => {
      if (s.projectId !== this.session.projectId) return;
      this.status = s;
      this.forgetThumbs(s.version);
      if (this.open) void this.load();
    });
    void attempt(api.call('suggest.status', { projectId: this.session.projectId })).then((s) => {
      if (s) this.status = s;
    });
    return () => this.off?.();
  }

  show(kind: ViewKind = this.kind): void {
    this.open = true;
    this.kind = kind;
    if (this.labelId === null || !this.status?.labels.some((l) => l.labelId === this.labelId))
      this.labelId = this.status?.labels[0]?.labelId ?? null;
    this.focused = 0;
    void this.load();
  }

  /** Reads the view again; a late answer to an older question is dropped. */
  async load(): Promise<void> {
    const view = this.view;
    const seq = ++this.seq;
    if (!view) {
      this.rows = [];
      this.total = 0;
      return;
    }
    const page = await attempt(api.call('suggest.page', { projectId: this.session.projectId, view, offset: 0, limit: PAGE }));
    if (!page || seq !== this.seq) return;
    this.rows = page.rows;
    this.total = page.total;
    this.version = page.version;
    this.focused = Math.min(this.focused, Math.max(0, page.rows.length - 1));
  }

  /** New suggestions: what the thumbnails showed is stale (they ask again as they come into view). */
  private forgetThumbs(version: number): void {
    if (version === this.thumbsVersion) return;
    this.thumbsVersion = version;
    this.asked = new Set();
    this.thumbs.clear();
  }

  /** The grid shows these unlabeled pictures: fetches the suggestions not asked for yet. */
  async ensureThumbs(imageIds: number[]): Promise<void> {
    if (this.status?.state !== 'ready') return;
    this.forgetThumbs(this.status.version);
    const ask = imageIds.filter((id) => !this.asked.has(id)).slice(0, 1000);
    if (!ask.length) return;
    ask.forEach((id) => this.asked.add(id));
    const asked = this.asked;
    const res = await attempt(api.call('suggest.forImages', { projectId: this.session.projectId, imageIds: ask }));
    // Dropped when newer suggestions came meanwhile (the grid asks again for those).
    if (!res || asked !== this.asked || res.version !== this.thumbsVersion) return;
    for (const r of res.rows) this.thumbs.set(r.imageId, { labelId: r.labelId, label: r.label, confidence: r.confidence });
  }

  /** Accepts exactly the set the view shows ("Suggested as X at ≥ t"), as one undoable action. */
  async acceptShown(): Promise<void> {
    if (this.kind !== 'suggested' || this.labelId === null) return;
    const res = await attempt(
      api.call('suggest.accept', {
        projectId: this.session.projectId,
        labelId: this.labelId,
        minPercent: this.minPercent,
        version: this.version,
      }),
    );
    await this.after(res?.history);
  }

  /** Enter on a picture: its suggestion becomes its label (unlabeled pictures only). */
  async acceptOne(imageId: number): Promise<void> {
    const res = await attempt(api.call('suggest.acceptOne', { projectId: this.session.projectId, imageId }));
    await this.after(res?.history);
  }

  async relabel(imageId: number, labelId: number): Promise<void> {
    await this.session.assign(labelId, imageId);
    await this.load();
  }

  async undo(): Promise<void> {
    await this.session.undo();
    await this.load();
  }

  private async after(history: ProjectSession['history'] | undefined): Promise<void> {
    if (history) this.session.history = history;
    await this.session.refresh();
    await this.load();
  }
}
