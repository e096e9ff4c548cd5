// A finished run's per-picture results (the `eval.report` call) and the gallery open on them:
// which pictures it shows and why. Changes made from a gallery (relabel, exclude, undo) go through
// the open project's session, so the Images tab and its one undo history see them too.
import type { EvalImage, EvalReport } from '../../../../electron/shared/contract-eval';
import type { ProjectSession } from '../../lib/state/project.svelte';
import { api } from '../../lib/client';
import { attempt } from '../../lib/state/toasts.svelte';

export interface Gallery {
  title: string;
  /** What the gallery is, for tests and the screen reader. */
  kind: 'cell' | 'mistakes' | 'doubts' | 'advice';
  imageIds: number[];
}

export class RunResults {
  report = $state.raw<EvalReport | null>(null);
  failed = $state<string | null>(null);
  gallery = $state<Gallery | null>(null);
  byId = $derived(new Map((this.report?.images ?? []).map((i) => [i.imageId, i])));
  /** Doubted labels by image: the label the model suggests instead. */
  suggestions = $derived(new Map((this.report?.suspectedLabelErrors ?? []).map((s) => [s.imageId, s.suggestedLabel])));

  constructor(
    readonly runId: number,
    private readonly session: ProjectSession | null,
  ) {}

  async load(): Promise<void> {
    try {
      this.report = await api.call('eval.report', { runId: this.runId });
      this.failed = null;
      // The doubted list follows the report: a confirmed label leaves it, an undone confirmation comes back.
      if (this.gallery?.kind === 'doubts') this.gallery = { ...this.gallery, imageIds: this.doubtedIds() };
    } catch (err) {
      this.failed = err instanceof Error ? err.message : String(err);
    }
  }

  labeled(): EvalImage[] {
    return (this.report?.images ?? []).filter((i) => i.label !== null);
  }

  /** A cell of the test confusion matrix: test pictures of label `row` the model called `col`. */
  openCell(row: number, col: number): void {
    const labels = this.report?.labels ?? [];
    const [given, said] = [labels[row], labels[col]];
    const ids = this.labeled()
      .filter((i) => i.split === 'test' && i.label === given && i.predicted === said)
      .sort((a, b) => (b.loss ?? 0) - (a.loss ?? 0))
      .map((i) => i.imageId);
    this.gallery = {
      kind: 'cell',
      title: row === col ? `${given}: test pictures the model got right` : `${given} pictures the model called ${said}`,
      imageIds: ids,
    };
  }

  /** A label's pictures the model got wrong, worst (highest loss) first. */
  openMistakes(label: string): void {
    const ids = this.labeled()
      .filter((i) => i.label === label && i.predicted !== label)
      .sort((a, b) => (b.loss ?? 0) - (a.loss ?? 0))
      .map((i) => i.imageId);
    this.gallery = { kind: 'mistakes', title: `Mistakes on ${label}, worst first`, imageIds: ids };
  }

  openDoubts(): void {
    this.gallery = {
      kind: 'doubts',
      title: 'Labels that look wrong, most doubtful first',
      imageIds: this.doubtedIds(),
    };
  }

  private doubtedIds(): number[] {
    return (this.report?.suspectedLabelErrors ?? []).map((s) => s.imageId);
  }

  /** "This label is right": stored with the picture (one undoable action), so it leaves the doubted list for good. */
  async confirm(imageId: number): Promise<void> {
    if (!this.session) return;
    if (this.gallery?.kind === 'doubts') this.gallery = { ...this.gallery, imageIds: this.gallery.imageIds.filter((id) => id !== imageId) };
    const res = await attempt(api.call('eval.confirmLabel', { projectId: this.session.projectId, imageId }));
    if (res) this.session.history = res.history;
    await this.load();
  }

  openAdvice(text: string, imageIds: number[]): void {
    this.gallery = { kind: 'advice', title: text, imageIds };
  }

  /** Mistakes per label (every labeled picture, judged by a model that did not learn from it). */
  mistakesPerLabel(): { label: string; wrong: number; total: number }[] {
    return (this.report?.labels ?? []).map((label) => {
      const all = this.labeled().filter((i) => i.label === label);
      return { label, wrong: all.filter((i) => i.predicted !== label).length, total: all.length };
    });
  }

  async relabel(imageId: number, labelId: number | null): Promise<void> {
    if (!this.session) return;
    await this.session.assign(labelId, imageId);
    await this.load();
  }

  async setExcluded(imageId: number, excluded: boolean): Promise<void> {
    if (!this.session) return;
    const res = await attempt(
      api.call('images.setStatus', {
        projectId: this.session.projectId,
        selection: { kind: 'ids', ids: [imageId] },
        status: excluded ? 'excluded' : 'active',
      }),
    );
    if (res) this.session.history = res.history;
    await this.session.refresh();
    await this.load();
  }

  async undo(): Promise<void> {
    if (!this.session) return;
    await this.session.undo();
    await this.load();
  }
}
