// The grid's data: images of one filter, fetched by page through `images.page` and kept in a
// small cache, so scrolling 100,000 images only ever holds a few thousand rows.
import type { ImageFilter, ImageRow } from '../../../../electron/shared/schemas';
import { api } from '../client';
import { attempt } from './toasts.svelte';

export const PAGE_SIZE = 200;
const MAX_PAGES = 30;
// The contract's page limit; used to collect ids of a large shift-click range.
const BULK_LIMIT = 1000;

interface Page {
  rows: ImageRow[];
  generation: number;
}

export class ImagePages {
  /** Total images matching the filter; null until the first page arrives. */
  total = $state<number | null>(null);
  /** Bumped whenever a page lands, so readers re-render. */
  version = $state(0);
  private pages = new Map<number, Page>();
  private inFlight = new Map<number, number>();
  private generation = 0;

  constructor(
    readonly projectId: number,
    readonly filter: ImageFilter,
  ) {
    void this.fetch(0);
  }

  /** The row at `index`, or undefined while its page is loading. */
  rowAt(index: number): ImageRow | undefined {
    void this.version;
    const page = this.pages.get(Math.floor(index / PAGE_SIZE));
    return page?.rows[index % PAGE_SIZE];
  }

  /** Makes sure the pages covering [first, last] are (being) fetched and fresh. */
  ensure(first: number, last: number): void {
    if (last < first) return;
    for (let p = Math.floor(first / PAGE_SIZE); p <= Math.floor(last / PAGE_SIZE); p++) {
      const page = this.pages.get(p);
      if (page && page.generation === this.generation) continue;
      if (this.inFlight.get(p) === this.generation) continue;
      void this.fetch(p);
    }
  }

  /** Data changed on the host: keep showing what we have, refetch what is in view. */
  invalidate(): void {
    this.generation++;
    this.version++;
    // The total may have changed; page 0 carries it even when no grid is showing (empty view).
    this.ensure(0, 0);
  }

  /** Ids of the images at indexes [from, to], fetched in bulk where not cached. */
  async idsInRange(from: number, to: number): Promise<number[]> {
    const ids: number[] = [];
    for (let start = from; start <= to; start += BULK_LIMIT) {
      const limit = Math.min(BULK_LIMIT, to - start + 1);
      const res = await api.call('images.page', { projectId: this.projectId, filter: this.filter, offset: start, limit });
      ids.push(...res.rows.map((r) => r.id));
    }
    return ids;
  }

  private async fetch(p: number): Promise<void> {
    const generation = this.generation;
    this.inFlight.set(p, generation);
    const res = await attempt(
      api.call('images.page', { projectId: this.projectId, filter: this.filter, offset: p * PAGE_SIZE, limit: PAGE_SIZE }),
    );
    if (this.inFlight.get(p) === generation) this.inFlight.delete(p);
    if (!res) return;
    // An older request answering late must not replace a fresher page.
    const current = this.pages.get(p);
    if (current && current.generation > generation) return;
    this.pages.delete(p);
    this.pages.set(p, { rows: res.rows, generation });
    this.total = res.total;
    this.evict(p);
    this.version++;
  }

  /** Drops the pages farthest from the one just used once the cache is full. */
  private evict(current: number): void {
    if (this.pages.size <= MAX_PAGES) return;
    const byDistance = [...this.pages.keys()].sort((a, b) => Math.abs(b - current) - Math.abs(a - current));
    for (const p of byDistance.slice(0, this.pages.size - MAX_PAGES)) this.pages.delete(p);
  }
}
