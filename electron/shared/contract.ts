// The one contract between the UI and the Node side: every call with its argument and
// result schemas, and every event. Transports (Electron IPC, WebSocket, direct calls) carry
// exactly these; the core implements exactly these (see `Handlers`).
import { z } from 'zod';
import * as S from './schemas.js';
import { modelCalls, modelEvents } from './contract-models.js';
import { trainingCalls, trainingEvents } from './contract-training.js';
import { predictCalls, predictEvents } from './contract-predict.js';
import { exportCalls, exportEvents } from './contract-export.js';
import { datasetCalls, datasetEvents } from './contract-dataset.js';
import { backupCalls } from './contract-backup.js';
import { sampleCalls } from './contract-sample.js';
import { storageCalls } from './contract-storage.js';
import { evalCalls, evalEvents } from './contract-eval.js';
import { planCalls } from './contract-plan.js';
import { suggestCalls, suggestEvents } from './contract-suggest.js';
import { duplicateCalls } from './contract-duplicates.js';
import { modelContentsCalls } from './contract-model-contents.js';

const call = <A extends z.ZodType, R extends z.ZodType>(args: A, result: R) => ({ args, result });
const P = { projectId: S.Id };
const Ok = z.object({ ok: z.literal(true) });

export const calls = {
  'app.info': call(z.object({}), S.AppInfo),
  /** A text file a user can send (versions, engines, providers, sizes, last errors); names only when asked. */
  'app.diagnostics': call(z.object({ includeFileNames: z.boolean().default(false) }), z.object({ text: z.string(), fileName: z.string() })),

  'projects.list': call(z.object({}), z.array(S.Project)),
  'projects.create': call(z.object({ name: S.Name }), S.Project),
  'projects.rename': call(z.object({ ...P, name: S.Name }), S.Project),
  'projects.delete': call(z.object(P), Ok),

  'labels.counts': call(z.object(P), S.LabelCounts),
  'labels.create': call(z.object({ ...P, name: S.Name, colour: S.Colour.optional() }), S.Label),
  'labels.update': call(z.object({ ...P, labelId: S.Id, name: S.Name.optional(), colour: S.Colour.optional() }), S.Label),
  /** Moves every image of `sourceIds` to `targetId`, then deletes the source labels. */
  'labels.merge': call(z.object({ ...P, sourceIds: z.array(S.Id).min(1).max(1000), targetId: S.Id }), S.LabelCounts),
  /** Deletes the label; its images become unlabeled, never deleted. Undoable (history.undo). */
  'labels.delete': call(z.object({ ...P, labelId: S.Id }), S.LabelCounts),

  'images.page': call(
    z.object({ ...P, filter: S.ImageFilter, offset: z.number().int().min(0), limit: z.number().int().min(1).max(1000) }),
    z.object({ total: z.number().int(), offset: z.number().int(), rows: z.array(S.ImageRow) }),
  ),
  'images.get': call(z.object({ ...P, imageId: S.Id }), S.ImageDetail),
  'images.assignLabel': call(
    z.object({ ...P, selection: S.Selection, labelId: S.Id.nullable() }),
    z.object({ changed: z.number().int(), history: S.HistoryState }),
  ),
  'images.setStatus': call(
    z.object({ ...P, selection: S.Selection, status: S.ImageStatus }),
    z.object({ changed: z.number().int(), history: S.HistoryState }),
  ),
  'images.remove': call(z.object({ ...P, selection: S.Selection }), z.object({ removed: z.number().int() })),
  /** A webcam frame, encoded by the renderer, into the project (and the label, if given). */
  'images.capture': call(
    z.object({
      ...P,
      labelId: S.Id.nullable(),
      mime: z.enum(['image/jpeg', 'image/png', 'image/webp']),
      // ~12 MB of base64 is far more than one camera frame; refuse anything larger.
      dataBase64: z
        .string()
        .min(16)
        .max(16_000_000)
        .regex(/^[A-Za-z0-9+/]+=*$/, 'Not base64'),
      /** Pictures sent with the same batch (one capture session) are undone together. */
      batch: z.string().min(1).max(64).optional(),
    }),
    S.ImageRow,
  ),

  'history.state': call(z.object(P), S.HistoryState),
  'history.undo': call(z.object(P), S.HistoryState),
  'history.redo': call(z.object(P), S.HistoryState),

  /** Desktop only: opens the native dialog; null when the user cancels. */
  'import.pickSource': call(
    z.object({ kind: z.enum(['folder', 'files', 'csv']) }),
    z.object({ source: S.SourceToken, displayName: z.string() }).nullable(),
  ),
  'import.start': call(z.object({ ...P, source: S.SourceToken, folderLabels: z.boolean().default(true) }), z.object({ jobId: S.JobId })),
  'import.cancel': call(z.object({ jobId: S.JobId }), Ok),
  'jobs.active': call(z.object({}), z.array(S.JobProgress)),

  ...modelCalls,
  ...trainingCalls,
  ...predictCalls,
  ...exportCalls,
  ...datasetCalls,
  ...backupCalls,
  ...sampleCalls,
  ...storageCalls,
  ...evalCalls,
  ...planCalls,
  ...suggestCalls,
  ...duplicateCalls,
  ...modelContentsCalls,
} as const;

export const events = {
  'job.progress': S.JobProgress,
  'import.finished': z.object({ projectId: S.Id, report: S.ImportReport }),
  /** Something changed a project's images or labels outside the caller's own call. */
  'project.changed': z.object({ projectId: S.Id }),
  ...modelEvents,
  ...trainingEvents,
  ...predictEvents,
  ...exportEvents,
  ...datasetEvents,
  ...evalEvents,
  ...suggestEvents,
} as const;

export type Calls = typeof calls;
export type Method = keyof Calls;
export type Args<M extends Method> = z.input<Calls[M]['args']>;
export type ParsedArgs<M extends Method> = z.output<Calls[M]['args']>;
export type Result<M extends Method> = z.output<Calls[M]['result']>;
export type EventName = keyof typeof events;
export type EventPayload<E extends EventName> = z.output<(typeof events)[E]>;

/** What the core implements. `satisfies Handlers` on the table makes a missing or extra handler a compile error. */
export type Handlers = { [M in Method]: (args: ParsedArgs<M>) => Promise<Result<M>> | Result<M> };

/** What every renderer-side client looks like, whatever the transport. */
export interface StudioApi {
  call<M extends Method>(method: M, args: Args<M>): Promise<Result<M>>;
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
}

export function isMethod(name: unknown): name is Method {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(calls, name);
}

/** An error the user can read. `code` lets a UI react; `message` is shown as is. */
export interface WireError {
  code: 'invalid' | 'not_found' | 'conflict' | 'cancelled' | 'unsupported' | 'disk_full' | 'internal';
  message: string;
}

export class StudioError extends Error {
  constructor(
    public readonly code: WireError['code'],
    message: string,
  ) {
    super(message);
    this.name = 'StudioError';
  }
}

/** Validates a payload that came over any transport. Throws a StudioError('invalid') that says what is wrong. */
export function parseArgs<M extends Method>(method: unknown, args: unknown): { method: M; args: ParsedArgs<M> } {
  if (!isMethod(method)) throw new StudioError('invalid', `Unknown call: ${methodName(method)}`);
  const parsed = calls[method].args.safeParse(args ?? {});
  // The message is shown to a person as it is: what is wrong, not which call was made (the client logs that).
  if (!parsed.success) throw new StudioError('invalid', describeIssues(parsed.error));
  return { method: method as M, args: parsed.data as ParsedArgs<M> };
}

export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

/**
 * A call's name for messages and logs, whatever a client sent. Never String(): a hostile value
 * such as `{"toString":1}` makes that throw, and the error path must not throw.
 */
export function methodName(method: unknown): string {
  if (typeof method === 'string') return JSON.stringify(method.slice(0, 60));
  if (method === null) return '(null)';
  if (Array.isArray(method)) return '(an array)';
  return `(a${typeof method === 'object' || typeof method === 'undefined' ? 'n' : ''} ${typeof method})`;
}

export function toWireError(err: unknown): WireError {
  if (err instanceof StudioError) return { code: err.code, message: err.message };
  if (err instanceof Error && typeof err.message === 'string') return { code: 'internal', message: err.message };
  return { code: 'internal', message: typeof err === 'string' ? err : 'Unexpected failure.' };
}

/** Wire messages shared by the IPC and WebSocket transports. */
export type ServerMessage =
  | { type: 'result'; id: number; ok: true; value: unknown }
  | { type: 'result'; id: number; ok: false; error: WireError }
  | { type: 'event'; name: EventName; payload: unknown };
