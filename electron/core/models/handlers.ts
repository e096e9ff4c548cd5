// Handlers for the model store calls (electron/shared/contract-models.ts), as plain functions
// of (ctx, args). The lead wires them into Studio's handler table; `ModelHandlers` makes a
// missing or extra one a compile error here already.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import {
  modelCalls,
  SCALING_CHOICES,
  type CatalogueEntry,
  type ModelEventName,
  type ModelEventPayload,
} from '../../shared/contract-models.js';
import { StudioError } from '../../shared/contract.js';
import type { SourceRegistry } from '../sources.js';
import { loadCatalogue } from './catalogue.js';
import { downloadModel } from './download.js';
import { ModelStoreError } from './errors.js';
import { importModelFolder, removeModel, type StoreCtx } from './store.js';

/** Downloads in flight, by id, so they can be cancelled. One per Studio. */
export class DownloadRegistry {
  private active = new Map<string, { entryId: string; controller: AbortController; done: Promise<void> }>();

  start(entryId: string, run: (signal: AbortSignal, downloadId: string) => Promise<void>): string {
    if ([...this.active.values()].some((d) => d.entryId === entryId))
      throw new StudioError('conflict', 'That model is already downloading.');
    const downloadId = `dl-${randomBytes(6).toString('hex')}`;
    const controller = new AbortController();
    const done = run(controller.signal, downloadId).finally(() => this.active.delete(downloadId));
    this.active.set(downloadId, { entryId, controller, done });
    return downloadId;
  }

  cancel(downloadId: string): void {
    const d = this.active.get(downloadId);
    if (!d) throw new StudioError('not_found', 'That download has already finished.');
    d.controller.abort();
  }

  /** Cancels everything and waits until the temporary folders are gone (on close). */
  async cancelAll(): Promise<void> {
    const all = [...this.active.values()];
    for (const d of all) d.controller.abort();
    await Promise.allSettled(all.map((d) => d.done));
  }
}

export interface ModelsCtx extends StoreCtx {
  sources: SourceRegistry;
  downloads: DownloadRegistry;
  emit: <E extends ModelEventName>(event: E, payload: ModelEventPayload<E>) => void;
  /** The catalogue file from the environment's settings (STUDIO_MODEL_CATALOGUE); null = the shipped list. */
  catalogueFile?: string | null;
  /** Tests: a list in memory instead of a file. */
  catalogue?: () => CatalogueEntry[];
}

type ModelCalls = typeof modelCalls;
export type ModelHandlers = {
  [M in keyof ModelCalls]: (
    ctx: ModelsCtx,
    args: z.output<ModelCalls[M]['args']>,
  ) => Promise<z.output<ModelCalls[M]['result']>> | z.output<ModelCalls[M]['result']>;
};

/**
 * The folder a picked source stands for: one folder (native dialog, folder upload), or loose
 * files that include model.json, all side by side (an upload of the folder's files).
 */
function modelFolderOf(paths: string[]): string | null {
  if (paths.length === 1 && fs.existsSync(paths[0]!) && fs.statSync(paths[0]!).isDirectory()) return paths[0]!;
  const json = paths.find((p) => path.basename(p) === 'model.json');
  if (!json) return null;
  const dir = path.dirname(json);
  return paths.every((p) => path.dirname(p) === dir) ? dir : null;
}

const catalogueOf = (ctx: ModelsCtx) => (ctx.catalogue ?? (() => loadCatalogue(ctx.catalogueFile ?? undefined)))();

export const modelHandlers: ModelHandlers = {
  'models.list': (ctx) => ctx.models.list(),

  'models.import': async (ctx, { source, scaling }) => {
    const picked = ctx.sources.take(source);
    const folder = modelFolderOf(picked.paths);
    if (!folder) {
      picked.dispose?.();
      throw new StudioError('invalid', 'Pick one folder: the one that holds model.json and its weight files.');
    }
    try {
      const model = await importModelFolder(ctx, folder, scaling ? { scaling } : {});
      picked.dispose?.();
      return { status: 'imported' as const, model };
    } catch (err) {
      if (err instanceof ModelStoreError && err.reason === 'needsScaling') {
        // The answer comes in a second call; the folder stays picked under a fresh token.
        return {
          status: 'needsScaling' as const,
          message: err.message,
          options: [...SCALING_CHOICES],
          source: ctx.sources.register(picked),
        };
      }
      picked.dispose?.();
      throw err;
    }
  },

  'models.remove': (ctx, { id }) => {
    removeModel(ctx, id);
    return { ok: true as const };
  },

  'models.catalogue': (ctx) => {
    const installed = new Set(ctx.models.list().map((m) => m.id));
    return catalogueOf(ctx).map((e) => ({
      id: e.id,
      name: e.name,
      source: e.source,
      bytes: e.files.reduce((s, f) => s + f.bytes, 0),
      installed: installed.has(e.id),
    }));
  },

  'models.download': (ctx, { entryId }) => {
    const entry = catalogueOf(ctx).find((e) => e.id === entryId);
    if (!entry) throw new StudioError('not_found', `"${entryId}" is not in the model catalogue.`);
    if (ctx.models.list().some((m) => m.id === entryId)) throw new StudioError('conflict', `"${entry.name}" is already in the store.`);
    const downloadId = ctx.downloads.start(entryId, async (signal, id) => {
      try {
        const model = await downloadModel(ctx, entry, {
          signal,
          onProgress: (p) => ctx.emit('models.downloadProgress', { downloadId: id, entryId, ...p }),
        });
        ctx.emit('models.downloadFinished', { downloadId: id, entryId, status: 'done', message: null, model });
      } catch (err) {
        const wasCancelled = err instanceof ModelStoreError && err.reason === 'cancelled';
        ctx.emit('models.downloadFinished', {
          downloadId: id,
          entryId,
          status: wasCancelled ? 'cancelled' : 'failed',
          message: err instanceof Error ? err.message : String(err),
          model: null,
        });
      }
    });
    return { downloadId };
  },

  'models.cancelDownload': (ctx, { downloadId }) => {
    ctx.downloads.cancel(downloadId);
    return { ok: true as const };
  },
};
