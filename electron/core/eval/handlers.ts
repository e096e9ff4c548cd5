// Handlers of the `eval.*` calls (electron/shared/contract-eval.ts), spread into Studio's table.
import type { z } from 'zod';
import type { Db } from '../db/connection.js';
import type { evalCalls } from '../../shared/contract-eval.js';
import { bestRun, compareRuns, evalReport } from './report.js';
import { StudioError } from '../../shared/contract.js';
import { getProject } from '../library/projects.js';
import { confirmLabel, historyState } from '../library/history.js';

type Calls = typeof evalCalls;
type EvalHandlers = { [M in keyof Calls]: (args: z.output<Calls[M]['args']>) => z.output<Calls[M]['result']> };

export function evalHandlers(db: Db): EvalHandlers {
  return {
    'eval.report': ({ runId }) => evalReport(db, runId),
    'eval.compare': ({ runId, otherRunId }) => compareRuns(db, runId, otherRunId),
    'eval.best': ({ projectId }) => {
      getProject(db, projectId);
      return { runId: bestRun(db, projectId) };
    },
    'eval.confirmLabel': ({ projectId, imageId }) => {
      getProject(db, projectId);
      const row = db
        .prepare('SELECT l.name FROM images i LEFT JOIN labels l ON l.id = i.label_id WHERE i.project_id = ? AND i.id = ?')
        .get(projectId, imageId) as { name: string | null } | undefined;
      if (!row) throw new StudioError('not_found', `There is no picture ${imageId} in this project.`);
      if (row.name === null) throw new StudioError('invalid', 'That picture has no label to confirm.');
      return { changed: confirmLabel(db, projectId, imageId, row.name), history: historyState(db, projectId) };
    },
  };
}
