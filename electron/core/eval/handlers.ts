// Handlers of the `eval.*` calls (electron/shared/contract-eval.ts), spread into Studio's table.
import type { z } from 'zod';
import type { Db } from '../db/connection.js';
import type { evalCalls } from '../../shared/contract-eval.js';
import { compareRuns, evalReport } from './report.js';

type Calls = typeof evalCalls;
type EvalHandlers = { [M in keyof Calls]: (args: z.output<Calls[M]['args']>) => z.output<Calls[M]['result']> };

export function evalHandlers(db: Db): EvalHandlers {
  return {
    'eval.report': ({ runId }) => evalReport(db, runId),
    'eval.compare': ({ runId, otherRunId }) => compareRuns(db, runId, otherRunId),
  };
}
