// The run history the Train page keeps (renderer/src/lib/state/run-list.ts): a `runs.list` answer
// that left before a Start must not drop the run that Start created.
import { describe, expect, it } from 'vitest';
import { mergeRunList } from '../../renderer/src/lib/state/run-list.js';
import type { z } from 'zod';
import type { Run } from '../../electron/shared/contract-training.js';

type RunInfo = z.output<typeof Run>;

const run = (id: number, status: RunInfo['status'], epochs = 0): RunInfo =>
  ({ id, status, epochs: Array.from({ length: epochs }, (_, epoch) => ({ epoch, phase: 'head' })) }) as unknown as RunInfo;
const ids = (runs: RunInfo[]) => runs.map((r) => `${r.id}:${r.status}:${r.epochs.length}`);

describe('mergeRunList', () => {
  it('keeps a run started after the list was read (the open run vanished, and the page showed the wizard)', () => {
    const listed = [run(1, 'done', 5), run(2, 'cancelled', 3)];
    const known = [run(3, 'running', 1), ...listed];
    expect(ids(mergeRunList(listed, known))).toEqual(['3:running:1', '2:cancelled:3', '1:done:5']);
  });

  it('drops a run missing from the list that is not newer than it (deleted elsewhere)', () => {
    expect(ids(mergeRunList([run(1, 'done', 5), run(3, 'done', 2)], [run(3, 'done', 2), run(2, 'done', 1), run(1, 'done', 5)]))).toEqual([
      '3:done:2',
      '1:done:5',
    ]);
  });

  it('takes the read further along: an older list does not take a run back to queued, or take its epochs away', () => {
    const merged = mergeRunList(
      [run(4, 'queued'), run(5, 'running', 2), run(6, 'done', 4)],
      [run(4, 'running', 1), run(5, 'running', 3), run(6, 'running', 3)],
    );
    expect(ids(merged)).toEqual(['6:done:4', '5:running:3', '4:running:1']);
  });

  it('takes a fresh list as it is when nothing newer is known', () => {
    expect(ids(mergeRunList([run(2, 'done', 1), run(1, 'failed')], []))).toEqual(['2:done:1', '1:failed:0']);
  });
});
