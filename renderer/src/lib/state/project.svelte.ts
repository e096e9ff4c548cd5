// The open project: its labels and counts, the grid's filter, data and selection, and the
// labeling actions (each followed by a refresh of counts, history and the visible pages).
import type { HistoryState, ImageFilter, ImageRow, Label, LabelCounts, Project, Selection } from '../../../../electron/shared/schemas';
import { api } from '../client';
import { ImagePages } from './pages.svelte';
import { SelectionModel } from './selection.svelte';
import { attempt, attemptField, toasts } from './toasts.svelte';

/** What the sidebar can show: every image, unlabeled, excluded, or one label's images. */
export type View = 'all' | 'unlabeled' | 'excluded' | number;

export function filterFor(view: View): ImageFilter {
  if (view === 'all') return { status: 'all' };
  if (view === 'unlabeled') return { label: null, status: 'all' };
  if (view === 'excluded') return { status: 'excluded' };
  return { label: view, status: 'all' };
}

const NO_HISTORY: HistoryState = { canUndo: false, canRedo: false, undoLabel: null, redoLabel: null };

export class ProjectSession {
  project = $state<Project | null>(null);
  counts = $state<LabelCounts | null>(null);
  history = $state<HistoryState>(NO_HISTORY);
  view = $state<View>('all');
  pages = $state.raw<ImagePages>()!;
  selection = $state.raw<SelectionModel>()!;
  /** Grid index the keyboard works from (Enter opens it in the preview). */
  cursor = $state<number | null>(null);
  /** Grid index shown in the large preview, if open. */
  previewIndex = $state<number | null>(null);
  missing = $state(false);

  labels = $derived<Label[]>(this.counts?.labels ?? []);
  labelsById = $derived(new Map(this.labels.map((l) => [l.id, l])));

  constructor(readonly projectId: number) {
    const filter = filterFor('all');
    this.pages = new ImagePages(projectId, filter);
    this.selection = new SelectionModel(filter);
  }

  get total(): number {
    return this.pages.total ?? 0;
  }

  async load(): Promise<void> {
    await this.refresh();
  }

  setView(view: View): void {
    if (view === this.view) return;
    this.view = view;
    const filter = filterFor(view);
    this.pages = new ImagePages(this.projectId, filter);
    this.selection = new SelectionModel(filter);
    this.cursor = null;
    this.previewIndex = null;
  }

  /** Re-reads everything that a change on the host may have touched. */
  async refresh(): Promise<void> {
    const [list, counts, history] = await Promise.all([
      attempt(api.call('projects.list', {})),
      attempt(api.call('labels.counts', { projectId: this.projectId })),
      attempt(api.call('history.state', { projectId: this.projectId })),
    ]);
    this.project = list?.find((p) => p.id === this.projectId) ?? this.project;
    if (list && !this.project) this.missing = true;
    if (counts) this.counts = counts;
    if (history) this.history = history;
    // A label shown in the sidebar may have been merged or deleted meanwhile.
    if (typeof this.view === 'number' && counts && !counts.labels.some((l) => l.id === this.view)) this.setView('all');
    this.pages.invalidate();
  }

  private selected(): Selection | null {
    const s = this.selection.toContract(this.total);
    if (!s) toasts.push('Select some images first (click a picture, or press Ctrl+A for all).', 'info');
    return s;
  }

  /** Labels the selection (or the given image), or removes its label when `labelId` is null. */
  async assign(labelId: number | null, imageId?: number): Promise<void> {
    const selection: Selection | null = imageId !== undefined ? { kind: 'ids', ids: [imageId] } : this.selected();
    if (!selection) return;
    const res = await attempt(api.call('images.assignLabel', { projectId: this.projectId, selection, labelId }));
    if (!res) return;
    this.history = res.history;
    // Images may have left the current filter; a kept selection would point at hidden images.
    if (imageId === undefined && (this.view !== 'all' || this.selection.mode === 'all')) this.selection.clear();
    await this.refresh();
  }

  async setStatus(status: ImageRow['status']): Promise<void> {
    const selection = this.selected();
    if (!selection) return;
    const res = await attempt(api.call('images.setStatus', { projectId: this.projectId, selection, status }));
    if (!res) return;
    this.history = res.history;
    if (this.view !== 'all' || this.selection.mode === 'all') this.selection.clear();
    await this.refresh();
  }

  async removeSelected(): Promise<void> {
    const selection = this.selected();
    if (!selection) return;
    const res = await attempt(api.call('images.remove', { projectId: this.projectId, selection }));
    this.selection.clear();
    if (res) toasts.push(`Removed ${res.removed} image${res.removed === 1 ? '' : 's'} from the project.`, 'info');
    await this.refresh();
  }

  async undo(): Promise<void> {
    if (!this.history.canUndo) return;
    const h = await attempt(api.call('history.undo', { projectId: this.projectId }));
    if (h) this.history = h;
    await this.refresh();
  }

  async redo(): Promise<void> {
    if (!this.history.canRedo) return;
    const h = await attempt(api.call('history.redo', { projectId: this.projectId }));
    if (h) this.history = h;
    await this.refresh();
  }

  /** `onError` shows a refused name beside its field. */
  async createLabel(name: string, onError: (message: string) => void): Promise<Label | undefined> {
    const label = await attemptField(api.call('labels.create', { projectId: this.projectId, name }), onError);
    if (label) await this.refresh();
    return label;
  }

  async updateLabel(labelId: number, changes: { name?: string; colour?: string }, onError: (message: string) => void): Promise<boolean> {
    const label = await attemptField(api.call('labels.update', { projectId: this.projectId, labelId, ...changes }), onError);
    if (label) await this.refresh();
    return !!label;
  }

  async mergeLabel(sourceId: number, targetId: number): Promise<void> {
    const counts = await attempt(api.call('labels.merge', { projectId: this.projectId, sourceIds: [sourceId], targetId }));
    if (counts) this.counts = counts;
    if (this.view === sourceId) this.setView(targetId);
    await this.refresh();
  }

  async deleteLabel(labelId: number): Promise<void> {
    const counts = await attempt(api.call('labels.delete', { projectId: this.projectId, labelId }));
    if (counts) this.counts = counts;
    if (this.view === labelId) this.setView('all');
    await this.refresh();
  }
}
