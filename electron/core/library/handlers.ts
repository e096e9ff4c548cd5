// Handlers of the library calls (projects.*, labels.*, images.*, history.*), spread into Studio's table.
import fs from 'node:fs';
import { type Handlers, type Method } from '../../shared/contract.js';
import type { Db } from '../db/connection.js';
import type { DataPaths } from '../paths.js';
import type { EventBus } from '../events.js';
import type { JobRegistry } from '../jobs.js';
import type { ImageFormat } from '../import/sniff.js';
import { importCaptured } from '../import/importer.js';
import { previewPath } from '../import/store.js';
import * as projects from './projects.js';
import * as labels from './labels.js';
import * as images from './images.js';
import * as history from './history.js';

type LibraryMethod = Extract<Method, `${'projects' | 'labels' | 'images' | 'history'}.${string}`>;
type LibraryHandlers = Pick<Handlers, LibraryMethod>;

export interface LibraryCtx {
  db: Db;
  paths: DataPaths;
  /** A deleted project's running import is stopped first. */
  jobs: JobRegistry;
  bus: EventBus;
}

/** Every format a picture can be stored in: a removed picture's file is looked for under each. */
const STORED_FORMATS: readonly ImageFormat[] = ['jpg', 'png', 'webp', 'gif', 'tiff', 'bmp'];

export function libraryHandlers(ctx: LibraryCtx): LibraryHandlers {
  const { db, paths } = ctx;
  const project = (projectId: number): number => {
    projects.getProject(db, projectId);
    return projectId;
  };
  const counts = (projectId: number) => labels.labelCounts(db, project(projectId));
  const labelName = (projectId: number, labelId: number | null) => (labelId === null ? null : labels.getLabel(db, projectId, labelId).name);
  // A redone capture needs its picture's stored file to be still there.
  const hasStoredFile = (projectId: number, sha256: string, format: string): boolean =>
    fs.existsSync(paths.stored(projectId, sha256, format));
  const deleteStoredFiles = (projectId: number, sha256: string): void => {
    for (const ext of STORED_FORMATS) fs.rmSync(paths.stored(projectId, sha256, ext), { force: true });
    fs.rmSync(paths.thumbnail(projectId, sha256), { force: true });
    fs.rmSync(previewPath(paths, projectId, sha256), { force: true });
  };

  return {
    'projects.list': () => projects.listProjects(db),
    'projects.create': ({ name }) => projects.createProject(db, name),
    'projects.rename': ({ projectId, name }) => projects.renameProject(db, projectId, name),
    'projects.delete': ({ projectId }) => {
      // An import into it stops first (it also cleans up after itself once it sees the project gone).
      ctx.jobs.cancelProject(projectId);
      const { exportPaths } = projects.deleteProject(db, projectId);
      projects.removeProjectFiles(paths, projectId, exportPaths);
      return { ok: true as const };
    },

    'labels.counts': ({ projectId }) => counts(projectId),
    'labels.create': ({ projectId, name, colour }) => labels.createLabel(db, project(projectId), name, colour),
    'labels.update': ({ projectId, labelId, name, colour }) =>
      labels.updateLabel(db, projectId, labelId, {
        ...(name !== undefined ? { name } : {}),
        ...(colour !== undefined ? { colour } : {}),
      }),
    'labels.merge': ({ projectId, sourceIds, targetId }) => {
      labels.mergeLabels(db, projectId, sourceIds, targetId);
      return counts(projectId);
    },
    'labels.delete': ({ projectId, labelId }) => {
      history.deleteLabel(db, project(projectId), labelId);
      return counts(projectId);
    },

    'images.page': ({ projectId, filter, offset, limit }) => images.pageImages(db, project(projectId), filter, offset, limit),
    'images.get': ({ projectId, imageId }) => images.getImage(db, projectId, imageId),
    'images.assignLabel': ({ projectId, selection, labelId }) => {
      const changed = history.assignLabel(db, project(projectId), selection, labelId, labelName(projectId, labelId));
      return { changed, history: history.historyState(db, projectId) };
    },
    'images.setStatus': ({ projectId, selection, status }) => {
      const changed = history.setStatus(db, project(projectId), selection, status);
      return { changed, history: history.historyState(db, projectId) };
    },
    'images.remove': ({ projectId, selection }) => {
      const ids = images.resolveSelection(db, project(projectId), selection).map((r) => r.id);
      const gone = images.removeImages(db, projectId, ids);
      for (const sha of gone) deleteStoredFiles(projectId, sha);
      return { removed: gone.length };
    },
    'images.capture': async ({ projectId, labelId, mime, dataBase64, batch }) => {
      project(projectId);
      if (labelId !== null) labels.getLabel(db, projectId, labelId);
      const bytes = Buffer.from(dataBase64, 'base64');
      const ext = mime === 'image/jpeg' ? 'jpg' : mime.slice('image/'.length);
      const { row, duplicate } = await importCaptured(
        { db, paths },
        projectId,
        bytes,
        labelId,
        `webcam-${new Date().toISOString().replace(/[:.]/g, '-')}.${ext}`,
      );
      // The same frame twice is the picture already there: undo must not take that one away.
      if (!duplicate) history.recordCapture(db, projectId, row.id, batch ?? `single-${row.id}`);
      ctx.bus.emit('project.changed', { projectId });
      return row;
    },

    'history.state': ({ projectId }) => history.historyState(db, project(projectId)),
    'history.undo': ({ projectId }) => history.undo(db, project(projectId), hasStoredFile),
    'history.redo': ({ projectId }) => history.redo(db, project(projectId), hasStoredFile),
  };
}
