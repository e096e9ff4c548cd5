// The run history as the renderer keeps it. A `runs.list` answer can be older than what the
// renderer already knows: the Train page reads the list together with the wizard's quick plan, and
// a Start pressed meanwhile adds its new run (read with `runs.get`) before the list arrives. Put
// in place as it was, the list dropped that run: the open run vanished, its progress and epochs
// were ignored, and the page fell back to the wizard while the run trained unseen.
import type { z } from 'zod';
import type { Run } from '../../../../electron/shared/contract-training.js';

type RunInfo = z.output<typeof Run>;

export function newestFirst(runs: RunInfo[]): RunInfo[] {
  return [...runs].sort((a, b) => b.id - a.id);
}

const STAGE: Record<RunInfo['status'], number> = { queued: 0, running: 1, done: 2, failed: 2, cancelled: 2, interrupted: 2 };

/** The further along of two reads of one run: a run moves queued → running → ended, and only gains epochs. */
function furtherAlong(listed: RunInfo, known: RunInfo): RunInfo {
  const a = STAGE[listed.status];
  const b = STAGE[known.status];
  if (a !== b) return a > b ? listed : known;
  return known.epochs.length > listed.epochs.length ? known : listed;
}

/**
 * The listed runs, with what the renderer learned since the list was read: a run newer than every
 * listed one (ids are never reused, so it was created after the list was read) is kept, and a run
 * in both is taken from the read that is further along. A run missing from the list otherwise
 * was deleted, and stays out.
 */
export function mergeRunList(listed: RunInfo[], known: RunInfo[]): RunInfo[] {
  const newestListed = listed.reduce((m, r) => Math.max(m, r.id), 0);
  const byId = new Map(known.map((r) => [r.id, r]));
  const merged = listed.map((r) => (byId.has(r.id) ? furtherAlong(r, byId.get(r.id)!) : r));
  return newestFirst([...merged, ...known.filter((r) => r.id > newestListed)]);
}
