// The one implementation of the contract. Hosts (Electron main, web host, CLI, tests) open a
// Studio, pass every incoming call through `invoke` (which validates it) and forward events.
import fs from 'node:fs';
import path from 'node:path';
import { calls, parseArgs, StudioError, type Handlers, type Method, type Result, type Args } from '../shared/contract.js';
import type { AppInfo } from '../shared/schemas.js';
import { openDatabase, type Db } from './db/connection.js';
import type { DataPaths } from './paths.js';
import type { EventBus } from './events.js';
import type { JobRegistry } from './jobs.js';
import type { StudioEnvironment } from './environment.js';
import { SourceRegistry, type ImportSource } from './sources.js';
import * as projects from './library/projects.js';
import * as labels from './library/labels.js';
import * as images from './library/images.js';
import * as history from './library/history.js';
import { runImport, importCaptured, thumbnailFile, previewFile } from './import/importer.js';
import { previewPath } from './import/store.js';
import { modelHandlers, DownloadRegistry, type ModelsCtx } from './models/handlers.js';
import { sweepModelStore } from './models/store.js';
import { TrainingService } from './training/service.js';
import type { EngineLauncher } from './training/engine-launcher.js';
import { trainingHandlers, forwardTrainingEvents } from './training/handlers.js';
import { quickPlan, WizardMemo } from './training/quick-plan.js';
import { createPredictCtx, closePredictCtx, type PredictCtx } from './predict/context.js';
import { predictHandlers } from './predict/handlers.js';
import { createExportCtx, exportHandlers, type ExportCtx } from './export/handlers.js';
import { datasetHandlers, type DatasetCtx } from './dataset/handlers.js';
import { evalHandlers } from './eval/handlers.js';
import { SuggestionService } from './suggest/service.js';
import { suggestHandlers } from './suggest/handlers.js';
import { duplicateHandlers } from './duplicates/handlers.js';
import { diagnosticsText } from './diagnostics/report.js';
import { backupHandlers, type BackupCtx } from './backup/handlers.js';
import { createSampleProject } from './sample/create.js';
import { recordError } from './diagnostics/recent-errors.js';
import { sweepDebris, sweepLog } from './storage/sweep.js';
import { ensureReserve, releaseReserves } from './storage/reserve.js';
import { asDiskFull, DiskFullError, isDiskFull } from './storage/disk-full.js';
import { projectStorage } from './storage/usage.js';
import { deleteExport, deleteRun } from './storage/delete.js';
import { addInstallRoots, scrubInstallPaths } from './install-paths.js';

/** Calls that can change which picture has which label: the project's suggestions are refitted after them. */
const CHANGES_LABELS = new Set<Method>([
  'images.assignLabel',
  'images.setStatus',
  'images.remove',
  'images.capture',
  'history.undo',
  'history.redo',
  'labels.create',
  'labels.update',
  'labels.merge',
  'labels.delete',
  'suggest.accept',
  'suggest.acceptOne',
]);

/** Calls that free space: on a full disk they get one more try once the reserve is given back. */
const FREES_SPACE = new Set<Method>(['projects.delete', 'images.remove', 'runs.delete', 'exports.delete', 'labels.delete']);

/** "Save to folder…": the host's native dialog, asked for one folder. */
function exportFolderPicker(pick: NonNullable<StudioOptions['pickSource']>): () => Promise<string | null> {
  return async () => (await pick('export-folder'))?.paths[0] ?? null;
}

export interface StudioOptions {
  /** Built once by the host (environment.ts): resources, settings, data folder, registries. */
  environment: StudioEnvironment;
  host: AppInfo['host'];
  version?: string;
  /** The desktop host supplies native dialogs; other hosts have none. */
  pickSource?: (kind: 'folder' | 'files' | 'csv' | 'backup' | 'export-folder') => Promise<ImportSource | null>;
  /** The desktop host shows a file in the system's file manager. */
  reveal?: (file: string) => void;
  /** How training engines start; child_process.fork unless the host has its own way (desktop: via main). */
  engineLauncher?: EngineLauncher;
  /**
   * Long-lived hosts (desktop core, web host) sweep the data folder's debris once at start and
   * keep the disk-space reserve; one-shot CLI commands skip both to start fast.
   */
  sweepAtStart?: boolean;
  /** Where the sweep's lines go (default: stderr). */
  log?: (line: string) => void;
}

export class Studio {
  readonly db: Db;
  readonly paths: DataPaths;
  readonly bus: EventBus;
  readonly jobs: JobRegistry;
  readonly environment: StudioEnvironment;
  readonly sources = new SourceRegistry();
  readonly handlers: Handlers;
  readonly training: TrainingService;
  readonly suggestions: SuggestionService;
  /** The wizard's last answers, for the Train tab's instant first plan. */
  private readonly wizardMemo: WizardMemo;
  private readonly models: ModelsCtx;
  private readonly predict: PredictCtx;
  private readonly exporting: ExportCtx;
  private readonly dataset: DatasetCtx;
  private readonly backup: BackupCtx;

  constructor(private options: StudioOptions) {
    const env = options.environment;
    this.environment = env;
    this.paths = env.paths;
    this.bus = env.bus;
    this.jobs = env.jobs;
    fs.mkdirSync(this.paths.root, { recursive: true });
    const nativeBinding = env.resources.nativeBinding;
    // The app's root (dist/renderer's grandparent) and, packaged, the resources folder.
    addInstallRoots(path.resolve(env.resources.rendererDir, '..', '..'), env.packaged ? path.dirname(env.resources.basesDir) : null);
    this.db = openDatabase(this.paths.database, nativeBinding ? { nativeBinding } : {});
    this.models = {
      models: env.models,
      catalogueFile: env.settings.modelCatalogue,
      sources: this.sources,
      downloads: new DownloadRegistry(),
      emit: (e, p) => this.bus.emit(e, p),
    };
    sweepModelStore(this.models);
    this.training = new TrainingService(this.db, this.paths, {
      models: env.models,
      engineEntry: env.resources.engineEntry,
      engineEnvironment: { settings: env.settings },
      compute: env.settings.compute,
      ...(options.engineLauncher ? { engineLauncher: options.engineLauncher } : {}),
    });
    this.wizardMemo = new WizardMemo(this.training);
    this.suggestions = new SuggestionService(this.db, this.paths, this.training, {
      models: env.models,
      engineEntry: env.resources.engineEntry,
      engineEnvironment: { settings: env.settings },
      compute: this.training.compute,
      cacheDir: this.training.cacheDir,
      ...(env.settings.suggestBase ? { baseId: env.settings.suggestBase } : {}),
      ...(options.engineLauncher ? { engineLauncher: options.engineLauncher } : {}),
      onChange: (status) => this.bus.emit('suggest.changed', status),
    });
    // Pictures arriving or changing outside a call of this client (imports, other windows).
    this.bus.subscribe((name, payload) => {
      if (name === 'import.finished' || name === 'project.changed') this.suggestions.touch((payload as { projectId: number }).projectId);
    });
    forwardTrainingEvents(this.training, (name, payload) => this.bus.emit(name, payload as never));
    this.predict = createPredictCtx({
      db: this.db,
      paths: this.paths,
      jobs: this.jobs,
      emit: (e, p) => this.bus.emit(e, p),
      sources: this.sources,
    });
    this.exporting = createExportCtx({
      db: this.db,
      paths: this.paths,
      resources: env.resources,
      models: env.models,
      emit: (e, p) => this.bus.emit(e, p),
      sources: this.sources,
      ...(options.reveal ? { reveal: options.reveal } : {}),
      ...(options.pickSource ? { pickFolder: exportFolderPicker(options.pickSource) } : {}),
    });
    this.dataset = {
      db: this.db,
      paths: this.paths,
      jobs: this.jobs,
      sources: this.sources,
      emit: (e, p) => this.bus.emit(e, p),
      ...(options.reveal ? { reveal: options.reveal } : {}),
    };
    const pickSource = options.pickSource;
    this.backup = {
      db: this.db,
      paths: this.paths,
      appVersion: options.version ?? '0.1.0',
      sources: this.sources,
      ...(options.reveal ? { reveal: options.reveal } : {}),
      ...(pickSource ? { pickFile: () => pickSource('backup') } : {}),
    };
    this.handlers = this.makeHandlers();
    if (options.sweepAtStart) this.sweepAtStart();
  }

  /** After the interrupted runs and exports are marked: what they left is now debris. */
  private sweepAtStart(): void {
    const log = this.options.log ?? ((line: string) => process.stderr.write(`[studio] ${line}\n`));
    try {
      for (const line of sweepLog(sweepDebris(this.db, this.paths))) log(line);
    } catch (err) {
      // Housekeeping: a failure must not stop the app from opening.
      log(`start-up sweep failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!ensureReserve(this.paths.root))
      log('low disk space: no room for the 16 MB reserve that lets the app save its state on a full disk');
  }

  /** Validates a call from any transport, runs it, and checks the result against the contract. */
  async invoke(method: unknown, rawArgs: unknown): Promise<unknown> {
    const { method: m, args } = parseArgs(method, rawArgs);
    const handler = this.handlers[m] as (a: unknown) => unknown;
    try {
      const result = calls[m].result.parse(await handler(args));
      if (CHANGES_LABELS.has(m)) this.suggestions.touch((args as { projectId: number }).projectId);
      return result;
    } catch (first) {
      let err = first;
      if (isDiskFull(err) && !(err instanceof DiskFullError)) {
        // Give the reserve back; a call that frees space gets one more try with that room.
        const freed = releaseReserves();
        if (freed > 0 && FREES_SPACE.has(m)) {
          try {
            return calls[m].result.parse(await handler(args));
          } catch (again) {
            err = again;
          }
        }
        err = asDiskFull(err, 'This change was not saved.');
      }
      // A user's mistake (StudioError) is answered, not kept; anything else is kept for the diagnostics file.
      if (!(err instanceof StudioError)) {
        recordError(m, err);
        // An unexpected error's message may name files of the installation: the client gets their names only.
        if (err instanceof Error) {
          const shown = scrubInstallPaths(err.message);
          if (shown !== err.message) throw Object.assign(new Error(shown), { code: (err as NodeJS.ErrnoException).code });
        }
      }
      throw err;
    }
  }

  /** Typed direct call, for the CLI and tests. */
  call<M extends Method>(method: M, args: Args<M>): Promise<Result<M>> {
    return this.invoke(method, args) as Promise<Result<M>>;
  }

  /** The file behind an image id, for the image protocol/route. Null when there is none. */
  async imageFile(imageId: number, variant: 'thumb' | 'full'): Promise<{ path: string; mime: string } | null> {
    const img = images.storedImage(this.db, imageId);
    if (!img) return null;
    // 'full' is a preview, not the original: browsers cannot show TIFF or BMP, nor apply EXIF orientation everywhere.
    try {
      const path = variant === 'thumb' ? await thumbnailFile(this.ctx, img) : await previewFile(this.ctx, img);
      return { path, mime: 'image/webp' };
    } catch (err) {
      if (err instanceof StudioError && err.code === 'not_found') return null;
      throw err;
    }
  }

  /** Imports paths directly (CLI and tests); the UI goes through import.start with a token. */
  async importPaths(projectId: number, source: ImportSource, folderLabels = true) {
    projects.getProject(this.db, projectId);
    const { jobId, done } = this.jobs.start('import', projectId, (job) => runImport(this.ctx, { projectId, source, folderLabels }, job));
    const report = { jobId, ...(await done) };
    this.bus.emit('import.finished', { projectId, report });
    return report;
  }

  close(): void {
    this.jobs.cancelAll();
    void this.exporting.jobs.cancelAll();
    void this.models.downloads.cancelAll();
    this.suggestions.close();
    this.training.close();
    void closePredictCtx(this.predict);
    this.db.close();
  }

  private get ctx() {
    return { db: this.db, paths: this.paths };
  }

  private makeHandlers(): Handlers {
    const db = this.db;
    const labelName = (projectId: number, labelId: number | null) =>
      labelId === null ? null : labels.getLabel(db, projectId, labelId).name;
    return {
      'app.info': () => ({
        version: this.options.version ?? '0.1.0',
        host: this.options.host,
        folderPicker: this.options.pickSource ? 'native' : 'upload',
      }),

      'app.diagnostics': async ({ includeFileNames }) => ({
        text: await diagnosticsText({
          db,
          paths: this.paths,
          appVersion: this.options.version ?? '0.1.0',
          host: this.options.host,
          includeFileNames,
        }),
        fileName: `transfer-studio-diagnostics-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.txt`,
      }),

      'projects.list': () => projects.listProjects(db),
      'projects.create': ({ name }) => projects.createProject(db, name),
      'projects.rename': ({ projectId, name }) => projects.renameProject(db, projectId, name),
      'projects.delete': ({ projectId }) => {
        // An import into it stops first (it also cleans up after itself once it sees the project gone).
        this.jobs.cancelProject(projectId);
        const { exportPaths } = projects.deleteProject(db, projectId);
        projects.removeProjectFiles(this.paths, projectId, exportPaths);
        return { ok: true as const };
      },

      'labels.counts': ({ projectId }) => this.counts(projectId),
      'labels.create': ({ projectId, name, colour }) => labels.createLabel(db, this.project(projectId), name, colour),
      'labels.update': ({ projectId, labelId, name, colour }) =>
        labels.updateLabel(db, projectId, labelId, {
          ...(name !== undefined ? { name } : {}),
          ...(colour !== undefined ? { colour } : {}),
        }),
      'labels.merge': ({ projectId, sourceIds, targetId }) => {
        labels.mergeLabels(db, projectId, sourceIds, targetId);
        return this.counts(projectId);
      },
      'labels.delete': ({ projectId, labelId }) => {
        history.deleteLabel(db, this.project(projectId), labelId);
        return this.counts(projectId);
      },

      'images.page': ({ projectId, filter, offset, limit }) => images.pageImages(db, this.project(projectId), filter, offset, limit),
      'images.get': ({ projectId, imageId }) => images.getImage(db, projectId, imageId),
      'images.assignLabel': ({ projectId, selection, labelId }) => {
        const changed = history.assignLabel(db, this.project(projectId), selection, labelId, labelName(projectId, labelId));
        return { changed, history: history.historyState(db, projectId) };
      },
      'images.setStatus': ({ projectId, selection, status }) => {
        const changed = history.setStatus(db, this.project(projectId), selection, status);
        return { changed, history: history.historyState(db, projectId) };
      },
      'images.remove': ({ projectId, selection }) => {
        const ids = images.resolveSelection(db, this.project(projectId), selection).map((r) => r.id);
        const gone = images.removeImages(db, projectId, ids);
        for (const sha of gone) this.deleteStoredFiles(projectId, sha);
        return { removed: gone.length };
      },
      'images.capture': async ({ projectId, labelId, mime, dataBase64, batch }) => {
        this.project(projectId);
        if (labelId !== null) labels.getLabel(db, projectId, labelId);
        const bytes = Buffer.from(dataBase64, 'base64');
        const ext = mime === 'image/jpeg' ? 'jpg' : mime.slice('image/'.length);
        const { row, duplicate } = await importCaptured(
          this.ctx,
          projectId,
          bytes,
          labelId,
          `webcam-${new Date().toISOString().replace(/[:.]/g, '-')}.${ext}`,
        );
        // The same frame twice is the picture already there: undo must not take that one away.
        if (!duplicate) history.recordCapture(db, projectId, row.id, batch ?? `single-${row.id}`);
        this.bus.emit('project.changed', { projectId });
        return row;
      },

      'history.state': ({ projectId }) => history.historyState(db, this.project(projectId)),
      'history.undo': ({ projectId }) => history.undo(db, this.project(projectId), this.hasStoredFile),
      'history.redo': ({ projectId }) => history.redo(db, this.project(projectId), this.hasStoredFile),

      'import.pickSource': async ({ kind }) => {
        if (!this.options.pickSource) throw new StudioError('unsupported', 'This window has no native file dialog; use the upload button.');
        const source = await this.options.pickSource(kind);
        return source ? { source: this.sources.register(source), displayName: source.displayName } : null;
      },
      'import.start': ({ projectId, source, folderLabels }) => {
        this.project(projectId);
        const picked = this.sources.take(source);
        const { jobId, done } = this.jobs.start('import', projectId, (job) =>
          runImport(this.ctx, { projectId, source: picked, folderLabels }, job),
        );
        done
          .then((r) => this.bus.emit('import.finished', { projectId, report: { jobId, ...r } }))
          .catch((err: unknown) =>
            this.bus.emit('import.finished', {
              projectId,
              report: {
                jobId,
                imported: 0,
                duplicates: 0,
                skipped: [{ path: picked.displayName, reason: err instanceof Error ? err.message : String(err) }],
                labels: {},
                cancelled: err instanceof StudioError && err.code === 'cancelled',
                durationMs: 0,
              },
            }),
          )
          .finally(() => picked.dispose?.());
        return { jobId };
      },
      'import.cancel': ({ jobId }) => {
        this.jobs.cancel(jobId);
        return { ok: true as const };
      },
      'jobs.active': () => this.jobs.active(),

      'models.list': (a) => modelHandlers['models.list'](this.models, a),
      'models.import': (a) => modelHandlers['models.import'](this.models, a),
      'models.remove': (a) => modelHandlers['models.remove'](this.models, a),
      'models.catalogue': (a) => modelHandlers['models.catalogue'](this.models, a),
      'models.download': (a) => modelHandlers['models.download'](this.models, a),
      'models.cancelDownload': (a) => modelHandlers['models.cancelDownload'](this.models, a),

      ...trainingHandlers(this.db, this.training, this.wizardMemo),
      'training.quickPlan': ({ projectId, baseId }) =>
        quickPlan(this.training, this.wizardMemo, projects.getProject(this.db, projectId).id, baseId),

      'runs.classify': (a) => predictHandlers['runs.classify'](this.predict, a),
      'runs.predictFiles': (a) => predictHandlers['runs.predictFiles'](this.predict, a),
      'runs.predictProject': (a) => predictHandlers['runs.predictProject'](this.predict, a),
      'runs.cancelPrediction': (a) => predictHandlers['runs.cancelPrediction'](this.predict, a),
      'runs.predictions': (a) => predictHandlers['runs.predictions'](this.predict, a),

      'exports.start': (a) => exportHandlers['exports.start'](this.exporting, a),
      'exports.pickFolder': (a) => exportHandlers['exports.pickFolder'](this.exporting, a),
      'exports.cancel': (a) => exportHandlers['exports.cancel'](this.exporting, a),
      'exports.preview': (a) => exportHandlers['exports.preview'](this.exporting, a),
      'exports.list': (a) => exportHandlers['exports.list'](this.exporting, a),
      'exports.reveal': (a) => exportHandlers['exports.reveal'](this.exporting, a),

      'storage.project': ({ projectId }) => projectStorage(db, this.paths, projectId),
      'runs.delete': ({ runId }) => ({ ok: true as const, ...deleteRun(db, this.paths, runId) }),
      'exports.delete': ({ exportId }) => ({ ok: true as const, ...deleteExport(db, this.paths, exportId) }),

      'dataset.export': (a) => datasetHandlers['dataset.export'](this.dataset, a),
      'dataset.cancelExport': (a) => datasetHandlers['dataset.cancelExport'](this.dataset, a),
      'dataset.revealExport': (a) => datasetHandlers['dataset.revealExport'](this.dataset, a),

      'backup.create': (a) => backupHandlers['backup.create'](this.backup, a),
      'backup.reveal': (a) => backupHandlers['backup.reveal'](this.backup, a),
      'backup.pickFile': (a) => backupHandlers['backup.pickFile'](this.backup, a),
      'backup.restore': (a) => backupHandlers['backup.restore'](this.backup, a),

      'sample.create': () =>
        createSampleProject({
          db,
          paths: this.paths,
          sampleDir: this.environment.resources.sampleDir,
          importPaths: (projectId, source) => this.importPaths(projectId, source, true),
        }),
      ...evalHandlers(db),
      ...suggestHandlers(db, this.suggestions),
      ...duplicateHandlers({ db, paths: this.paths, featureCacheDir: this.training.cacheDir }),
    } satisfies Handlers;
  }

  private project(projectId: number): number {
    projects.getProject(this.db, projectId);
    return projectId;
  }

  private counts(projectId: number) {
    return labels.labelCounts(this.db, this.project(projectId));
  }

  private readonly hasStoredFile = (projectId: number, sha256: string, format: string): boolean =>
    fs.existsSync(this.paths.stored(projectId, sha256, format));

  private deleteStoredFiles(projectId: number, sha256: string): void {
    for (const ext of Object.keys(MIME)) fs.rmSync(this.paths.stored(projectId, sha256, ext), { force: true });
    fs.rmSync(this.paths.thumbnail(projectId, sha256), { force: true });
    fs.rmSync(previewPath(this.paths, projectId, sha256), { force: true });
  }
}

const MIME: Record<string, string> = {
  jpg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  tiff: 'image/tiff',
  bmp: 'image/bmp',
};
