// Handlers of the `duplicates.*` calls (electron/shared/contract-duplicates.ts), spread into Studio's table.
import type { z } from 'zod';
import type { duplicateCalls } from '../../shared/contract-duplicates.js';
import { StudioError } from '../../shared/contract.js';
import { getProject } from '../library/projects.js';
import { historyState, moveToSplit } from '../library/history.js';
import { findNearDuplicates, type FinderContext } from './find.js';

type Calls = typeof duplicateCalls;
type DuplicateHandlers = {
  [M in keyof Calls]: (args: z.output<Calls[M]['args']>) => Promise<z.output<Calls[M]['result']>> | z.output<Calls[M]['result']>;
};

export function duplicateHandlers(ctx: FinderContext): DuplicateHandlers {
  return {
    'duplicates.find': ({ projectId, runId }) => findNearDuplicates(ctx, projectId, runId),
    'duplicates.resolveLeak': ({ projectId, imageIds, split }) => {
      getProject(ctx.db, projectId);
      const rows = ctx.db
        .prepare('SELECT id, status, label_id FROM images WHERE project_id = ? AND id IN (SELECT value FROM json_each(?))')
        .all(projectId, JSON.stringify(imageIds)) as { id: number; status: string; label_id: number | null }[];
      if (rows.length < new Set(imageIds).size)
        throw new StudioError('not_found', 'Some of those pictures are not in this project (removed since?).');
      if (rows.some((r) => r.status !== 'active' || r.label_id === null))
        throw new StudioError('invalid', 'Only labeled, included pictures have a split to move.');
      // Recorded runs keep their own splits in run_images: only today's split changes.
      const n = rows.length;
      const changed = moveToSplit(ctx.db, projectId, imageIds, split, `Move ${n} near-duplicate${n === 1 ? '' : 's'} to ${split}`);
      return { changed, history: historyState(ctx.db, projectId) };
    },
  };
}
