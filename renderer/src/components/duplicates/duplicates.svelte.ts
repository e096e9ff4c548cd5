// The project's near-duplicate groups and split leaks (the `duplicates.find` call), and accepting
// a leak's warning. A move goes through the project's one undo history, so the top bar's Undo and
// this view's both reverse it; every change reloads the groups.
import type { NearDuplicates, SplitLeak } from '../../../../electron/shared/contract-duplicates';
import type { ProjectSession } from '../../lib/state/project.svelte';
import { api } from '../../lib/client';
import { attempt } from '../../lib/state/toasts.svelte';

export class DuplicatesView {
  found = $state.raw<NearDuplicates | null>(null);
  failed = $state<string | null>(null);
  busy = $state(false);

  constructor(private readonly session: ProjectSession) {}

  async load(): Promise<void> {
    this.busy = true;
    try {
      this.found = await api.call('duplicates.find', { projectId: this.session.projectId });
      this.failed = null;
    } catch (err) {
      this.failed = err instanceof Error ? err.message : String(err);
    } finally {
      this.busy = false;
    }
  }

  leakOf(group: number): SplitLeak | undefined {
    return this.found?.leaks.find((l) => l.group === group);
  }

  /** The person accepted the warning: the leak's pictures move into one split (one undoable action). */
  async accept(leak: SplitLeak): Promise<void> {
    const res = await attempt(
      api.call('duplicates.resolveLeak', {
        projectId: this.session.projectId,
        imageIds: leak.imageIds,
        split: leak.moveTo,
        acceptWarning: true,
      }),
    );
    if (res) this.session.history = res.history;
    await this.session.refresh();
    await this.load();
  }

  async undo(): Promise<void> {
    await this.session.undo();
    await this.load();
  }
}
