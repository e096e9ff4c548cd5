// The one implementation of the contract. Hosts (Electron main, web host, CLI, tests) open a
// Studio, pass every incoming call through `invoke` (which validates it) and forward events.
// Which module answers each call is call-router.ts; what a failed call answers is answer-call.ts.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs, StudioError, type Handlers, type Method, type Result, type Args } from '../shared/contract.js';
import type { AppInfo, ImportReport } from '../shared/schemas.js';
import { openDatabase, type Db } from './db/connection.js';
import type { DataPaths } from './paths.js';
import type { EventBus } from './events.js';
import type { JobRegistry } from './jobs.js';
import type { StudioEnvironment } from './environment.js';
import { SourceRegistry, type ImportSource } from './sources.js';
import * as images from './library/images.js';
import { thumbnailFile, previewFile } from './import/importer.js';
import { importPaths, type ImportCtx } from './import/handlers.js';
import { DownloadRegistry, type ModelsCtx } from './models/handlers.js';
import { sweepModelStore } from './models/store.js';
import { TrainingService } from './training/service.js';
import type { EngineLauncher } from './training/engine-launcher.js';
import { forwardTrainingEvents } from './training/handlers.js';
import { WizardMemo } from './training/quick-plan.js';
import { createPredictCtx, closePredictCtx, type PredictCtx } from './predict/context.js';
import { createExportCtx, type ExportCtx } from './export/handlers.js';
import { SuggestionService } from './suggest/service.js';
import { sweepDebris, sweepLog } from './storage/sweep.js';
import { ensureReserve } from './storage/reserve.js';
import { addInstallRoots } from './install-paths.js';
import { routeCalls } from './call-router.js';
import { answerCall } from './answer-call.js';

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
  private readonly importing: ImportCtx;
  private readonly models: ModelsCtx;
  private readonly predict: PredictCtx;
  private readonly exporting: ExportCtx;

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
    const emit: EventBus['emit'] = (e, p) => this.bus.emit(e, p);
    const version = options.version ?? '0.1.0';
    const { pickSource, reveal } = options;
    const shared = { db: this.db, paths: this.paths, sources: this.sources };
    this.models = {
      models: env.models,
      catalogueFile: env.settings.modelCatalogue,
      sources: this.sources,
      downloads: new DownloadRegistry(),
      emit,
    };
    sweepModelStore(this.models);
    this.training = new TrainingService(this.db, this.paths, {
      models: env.models,
      engineEntry: env.resources.engineEntry,
      engineEnvironment: { settings: env.settings },
      compute: env.settings.compute,
      ...(options.engineLauncher ? { engineLauncher: options.engineLauncher } : {}),
    });
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
    this.importing = { ...shared, jobs: this.jobs, bus: this.bus, pickSource };
    this.predict = createPredictCtx({ ...shared, jobs: this.jobs, emit });
    this.exporting = createExportCtx({
      ...shared,
      resources: env.resources,
      models: env.models,
      emit,
      ...(reveal ? { reveal } : {}),
      ...(pickSource ? { pickFolder: exportFolderPicker(pickSource) } : {}),
    });
    this.handlers = routeCalls({
      db: this.db,
      paths: this.paths,
      app: { version, host: options.host, folderPicker: pickSource ? 'native' : 'upload' },
      sampleDir: env.resources.sampleDir,
      importing: this.importing,
      models: this.models,
      training: this.training,
      // The wizard's last answers, for the Train tab's instant first plan.
      wizardMemo: new WizardMemo(this.training),
      predict: this.predict,
      exporting: this.exporting,
      dataset: { ...shared, jobs: this.jobs, emit, ...(reveal ? { reveal } : {}) },
      backup: {
        ...shared,
        appVersion: version,
        ...(reveal ? { reveal } : {}),
        ...(pickSource ? { pickFile: () => pickSource('backup') } : {}),
      },
      suggestions: this.suggestions,
    });
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
    const result = await answerCall(m, () => handler(args));
    if (CHANGES_LABELS.has(m)) this.suggestions.touch((args as { projectId: number }).projectId);
    return result;
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
      const path = variant === 'thumb' ? await thumbnailFile(this.importing, img) : await previewFile(this.importing, img);
      return { path, mime: 'image/webp' };
    } catch (err) {
      if (err instanceof StudioError && err.code === 'not_found') return null;
      throw err;
    }
  }

  /** Imports paths directly (CLI and tests); the UI goes through import.start with a token. */
  importPaths(projectId: number, source: ImportSource, folderLabels = true): Promise<ImportReport> {
    return importPaths(this.importing, projectId, source, folderLabels);
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
}
