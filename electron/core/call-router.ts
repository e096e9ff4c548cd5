// Studio's table of handlers: which module answers each call of the contract. Each area's
// handlers live beside its code; this file only hands them their context. `satisfies Handlers`
// makes a call without a handler (or a handler without a call) a compile error here.
import type { Handlers } from '../shared/contract.js';
import type { AppInfo } from '../shared/schemas.js';
import type { Db } from './db/connection.js';
import type { DataPaths } from './paths.js';
import { libraryHandlers } from './library/handlers.js';
import { importHandlers, importPaths, type ImportCtx } from './import/handlers.js';
import { modelHandlers, type ModelsCtx } from './models/handlers.js';
import type { TrainingService } from './training/service.js';
import { trainingHandlers } from './training/handlers.js';
import { quickPlan, type WizardMemo } from './training/quick-plan.js';
import { getProject } from './library/projects.js';
import type { PredictCtx } from './predict/context.js';
import { predictHandlers } from './predict/handlers.js';
import { exportHandlers, type ExportCtx } from './export/handlers.js';
import { modelContentsHandlers } from './export/model-contents.js';
import { datasetHandlers, type DatasetCtx } from './dataset/handlers.js';
import { backupHandlers, type BackupCtx } from './backup/handlers.js';
import { evalHandlers } from './eval/handlers.js';
import type { SuggestionService } from './suggest/service.js';
import { suggestHandlers } from './suggest/handlers.js';
import { duplicateHandlers } from './duplicates/handlers.js';
import { diagnosticsText } from './diagnostics/report.js';
import { createSampleProject } from './sample/create.js';
import { projectStorage } from './storage/usage.js';
import { deleteExport, deleteRun } from './storage/delete.js';

/** Everything the handlers work with: Studio's services and each area's context. */
export interface RouterParts {
  db: Db;
  paths: DataPaths;
  app: AppInfo;
  /** Where the built-in sample project's pictures are. */
  sampleDir: string;
  importing: ImportCtx;
  models: ModelsCtx;
  training: TrainingService;
  wizardMemo: WizardMemo;
  predict: PredictCtx;
  exporting: ExportCtx;
  dataset: DatasetCtx;
  backup: BackupCtx;
  suggestions: SuggestionService;
}

type Unbound<C, T> = { [K in keyof T]: T[K] extends (ctx: C, args: infer A) => infer R ? (args: A) => R : never };

/** A table of (ctx, args) handlers as the contract's (args) handlers, every one given `ctx`. */
function withContext<C, T extends Record<string, (ctx: C, args: never) => unknown>>(ctx: C, table: T): Unbound<C, T> {
  const bound = Object.entries(table).map(([method, handler]) => [method, (args: never) => handler(ctx, args)]);
  return Object.fromEntries(bound) as Unbound<C, T>;
}

export function routeCalls(p: RouterParts): Handlers {
  const { db, paths } = p;
  return {
    'app.info': () => ({ ...p.app }),
    'app.diagnostics': async ({ includeFileNames }) => ({
      text: await diagnosticsText({ db, paths, appVersion: p.app.version, host: p.app.host, includeFileNames }),
      fileName: `transfer-studio-diagnostics-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.txt`,
    }),

    ...libraryHandlers(p.importing),
    ...importHandlers(p.importing),
    ...withContext(p.models, modelHandlers),

    ...trainingHandlers(db, p.training, p.wizardMemo),
    'training.quickPlan': ({ projectId, baseId }) => quickPlan(p.training, p.wizardMemo, getProject(db, projectId).id, baseId),

    ...withContext(p.predict, predictHandlers),
    ...withContext(p.exporting, exportHandlers),
    ...withContext(p.exporting, modelContentsHandlers),

    'storage.project': ({ projectId }) => projectStorage(db, paths, projectId),
    'runs.delete': ({ runId }) => ({ ok: true as const, ...deleteRun(db, paths, runId) }),
    'exports.delete': ({ exportId }) => ({ ok: true as const, ...deleteExport(db, paths, exportId) }),

    ...withContext(p.dataset, datasetHandlers),
    ...withContext(p.backup, backupHandlers),

    'sample.create': () =>
      createSampleProject({
        db,
        paths,
        sampleDir: p.sampleDir,
        importPaths: (projectId, source) => importPaths(p.importing, projectId, source, true),
      }),
    ...evalHandlers(db),
    ...suggestHandlers(db, p.suggestions),
    ...duplicateHandlers({ db, paths, featureCacheDir: p.training.cacheDir }),
  } satisfies Handlers;
}
