// Loaded run models, by run id, least recently used dropped first. An ORT session of a
// MobileNetV2 classifier holds tens of MB, so only a couple stay open; one still in use by a
// running prediction is released when that prediction ends, not under its feet.
import type { Db } from '../db/connection.js';
import type { SessionOptions } from '../../../native/onnx-runtime.js';
import { loadPredictor, type Predictor } from './predictor.js';
import { runModel } from './run-model.js';

interface Entry {
  folder: string;
  predictor: Promise<Predictor>;
  users: number;
  evicted: boolean;
}

export class SessionCache {
  private readonly entries = new Map<number, Entry>();

  constructor(
    readonly capacity = 2,
    private readonly sessionOptions: SessionOptions = {},
  ) {}

  /** Runs `fn` with the run's predictor, loading (and on first use converting) it if needed. */
  async use<T>(db: Db, runId: number, fn: (p: Predictor) => Promise<T>): Promise<T> {
    const model = runModel(db, runId);
    let entry = this.entries.get(runId);
    if (entry && entry.folder !== model.folder) {
      this.evict(runId, entry);
      entry = undefined;
    }
    if (!entry) {
      entry = { folder: model.folder, predictor: loadPredictor(model, this.sessionOptions), users: 0, evicted: false };
      const e = entry;
      // A failed load is not cached: the next call tries again (and reports its own error).
      e.predictor.catch(() => {
        if (this.entries.get(runId) === e) this.entries.delete(runId);
      });
    } else {
      this.entries.delete(runId);
    }
    this.entries.set(runId, entry);
    this.trim();
    entry.users++;
    try {
      return await fn(await entry.predictor);
    } finally {
      entry.users--;
      if (entry.evicted && entry.users === 0) void dispose(entry);
    }
  }

  /** Run ids currently held, least recently used first (for tests and diagnostics). */
  held(): number[] {
    return [...this.entries.keys()];
  }

  async close(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const e of all) e.evicted = true; // one still in use is released when its user finishes
    await Promise.allSettled(all.filter((e) => e.users === 0).map(dispose));
  }

  private trim(): void {
    for (const [runId, entry] of this.entries) {
      if (this.entries.size <= this.capacity) break;
      this.evict(runId, entry);
    }
  }

  private evict(runId: number, entry: Entry): void {
    this.entries.delete(runId);
    entry.evicted = true;
    if (entry.users === 0) void dispose(entry);
  }
}

async function dispose(entry: Entry): Promise<void> {
  try {
    await (await entry.predictor).dispose();
  } catch {
    // Failed loads have nothing to release.
  }
}
