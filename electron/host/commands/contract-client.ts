// What every CLI command needs to speak the contract like any other client: find a project by
// name or id with the calls the UI uses, and wait for the event that ends a job. Events are
// collected from before the call that starts the job, so an outcome that arrives before the
// call's answer is not missed.
import type { Studio } from '../../core/studio.js';
import { StudioError, type EventName, type EventPayload } from '../../shared/contract.js';

export async function resolveProject(studio: Studio, ref: string): Promise<{ id: number; name: string }> {
  const list = await studio.call('projects.list', {});
  if (/^\d+$/.test(ref)) {
    const byId = list.find((p) => p.id === Number(ref));
    if (byId) return byId;
  }
  const byName = list.filter((p) => p.name === ref);
  if (byName.length === 1) return byName[0]!;
  if (byName.length > 1) throw new StudioError('conflict', `Several projects are named "${ref}"; use its id.`);
  throw new StudioError('not_found', `There is no project named or numbered "${ref}".`);
}

export interface EventWaiter<E extends EventName> {
  /** The first event (seen so far or still to come) that `match` accepts. */
  next(match: (payload: EventPayload<E>) => boolean): Promise<EventPayload<E>>;
  stop(): void;
}

export function collectEvents<E extends EventName>(studio: Studio, name: E): EventWaiter<E> {
  const seen: EventPayload<E>[] = [];
  const waiting = new Set<{ match: (p: EventPayload<E>) => boolean; resolve: (p: EventPayload<E>) => void }>();
  const off = studio.bus.subscribe((n, payload) => {
    if (n !== name) return;
    const p = payload as EventPayload<E>;
    for (const w of waiting) {
      if (w.match(p)) {
        waiting.delete(w);
        w.resolve(p);
        return;
      }
    }
    seen.push(p);
  });
  return {
    next(match) {
      const i = seen.findIndex(match);
      if (i >= 0) return Promise.resolve(seen.splice(i, 1)[0]!);
      return new Promise((resolve) => waiting.add({ match, resolve }));
    },
    stop: off,
  };
}

/** Runs `onSignal` on Ctrl+C or SIGTERM while `work` runs (jobs cancel cleanly instead of dying). */
export async function whileCancellable<T>(onSignal: () => void, work: () => Promise<T>): Promise<T> {
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await work();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
