// Which images are selected. Either a set of ids, or "everything the filter matches except
// these" so select-all on 100,000 images sends a filter rather than 100,000 ids.
import type { ImageFilter, Selection } from '../../../../electron/shared/schemas';

export class SelectionModel {
  /** Bumped on every change; reading it makes a reader reactive to the (non-reactive) sets. */
  version = $state(0);
  mode = $state<'ids' | 'all'>('ids');
  private ids = new Set<number>();
  private except = new Set<number>();
  /** Index the last plain/ctrl click landed on: where a shift-click range starts. */
  anchor = $state<number | null>(null);

  constructor(readonly filter: ImageFilter) {}

  has(id: number): boolean {
    void this.version;
    return this.mode === 'all' ? !this.except.has(id) : this.ids.has(id);
  }

  count(total: number): number {
    void this.version;
    return this.mode === 'all' ? Math.max(0, total - this.except.size) : this.ids.size;
  }

  isEmpty(total: number): boolean {
    return this.count(total) === 0;
  }

  selectOnly(id: number, index: number): void {
    this.mode = 'ids';
    this.ids = new Set([id]);
    this.except.clear();
    this.anchor = index;
    this.version++;
  }

  toggle(id: number, index: number): void {
    const set = this.mode === 'all' ? this.except : this.ids;
    // In "all" mode the except-set is inverted: removing from it selects.
    if (set.has(id)) set.delete(id);
    else set.add(id);
    this.anchor = index;
    this.version++;
  }

  /** Shift-click: the range becomes the selection; the anchor stays where it was. */
  setRange(ids: number[]): void {
    this.mode = 'ids';
    this.ids = new Set(ids);
    this.except.clear();
    this.version++;
  }

  /** Ctrl+shift-click: adds a range to what was selected before. */
  addRange(ids: number[]): void {
    if (this.mode === 'all') for (const id of ids) this.except.delete(id);
    else for (const id of ids) this.ids.add(id);
    this.version++;
  }

  selectAll(): void {
    this.mode = 'all';
    this.ids.clear();
    this.except.clear();
    this.version++;
  }

  clear(): void {
    this.mode = 'ids';
    this.ids.clear();
    this.except.clear();
    this.anchor = null;
    this.version++;
  }

  /** The contract's form of this selection, or null when nothing is selected. */
  toContract(total: number): Selection | null {
    if (this.isEmpty(total)) return null;
    if (this.mode === 'all') return { kind: 'filter', filter: this.filter, exceptIds: [...this.except] };
    return { kind: 'ids', ids: [...this.ids] };
  }
}
