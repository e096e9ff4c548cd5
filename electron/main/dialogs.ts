// Native dialogs behind import.pickSource. The chosen paths go to the core process, never to
// the page. STUDIO_E2E=1 + STUDIO_E2E_IMPORT_DIR (or STUDIO_E2E_EXPORT_DIR for "Save to folder…")
// stand in for the dialog in end-to-end tests.
import path from 'node:path';
import { dialog, type BrowserWindow } from 'electron';
import type { PickedSource } from './core-messages.js';

const IMAGE_EXTENSIONS = ['jpg', 'jpeg', 'png', 'webp', 'gif', 'bmp', 'tif', 'tiff'];

export async function pickSource(
  window: BrowserWindow | null,
  kind: 'folder' | 'files' | 'csv' | 'backup' | 'export-folder',
): Promise<PickedSource | null> {
  if (kind === 'backup') return pickBackup(window);
  if (kind === 'export-folder') return pickExportFolder(window);
  const e2eDir = process.env.STUDIO_E2E === '1' ? process.env.STUDIO_E2E_IMPORT_DIR : undefined;
  if (e2eDir) return { paths: [path.resolve(e2eDir)], displayName: path.basename(e2eDir) };

  const options: Electron.OpenDialogOptions =
    kind === 'folder'
      ? { title: 'Import a folder of images', properties: ['openDirectory', 'multiSelections'], buttonLabel: 'Import' }
      : kind === 'files'
        ? {
            title: 'Import images',
            properties: ['openFile', 'multiSelections'],
            filters: [{ name: 'Images', extensions: IMAGE_EXTENSIONS }],
            buttonLabel: 'Import',
          }
        : {
            title: 'Import a CSV of image paths and labels',
            properties: ['openFile'],
            filters: [{ name: 'CSV', extensions: ['csv'] }],
            buttonLabel: 'Import',
          };
  const result = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
  if (result.canceled || result.filePaths.length === 0) return null;
  const paths = result.filePaths;
  if (kind === 'csv') return { paths: [], csv: paths[0]!, displayName: path.basename(paths[0]!) };
  const displayName = paths.length === 1 ? path.basename(paths[0]!) : `${paths.length} ${kind === 'folder' ? 'folders' : 'files'}`;
  return { paths, displayName };
}

/** "Restore from backup…": one backup file (see electron/core/backup/format.ts). */
async function pickBackup(window: BrowserWindow | null): Promise<PickedSource | null> {
  const options: Electron.OpenDialogOptions = {
    title: 'Restore a project from a backup',
    properties: ['openFile'],
    filters: [{ name: 'Transfer Studio backup', extensions: ['tar'] }],
    buttonLabel: 'Restore',
  };
  const result = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
  if (result.canceled || result.filePaths.length === 0) return null;
  return { paths: [result.filePaths[0]!], displayName: path.basename(result.filePaths[0]!) };
}

/**
 * "Save to folder…" of an export: the folder the export goes into. The core makes a new folder
 * (and its .zip) inside it under a free name, so nothing already there is touched.
 */
async function pickExportFolder(window: BrowserWindow | null): Promise<PickedSource | null> {
  const e2eDir = process.env.STUDIO_E2E === '1' ? process.env.STUDIO_E2E_EXPORT_DIR : undefined;
  if (e2eDir) return { paths: [path.resolve(e2eDir)], displayName: path.basename(e2eDir) };
  const options: Electron.OpenDialogOptions = {
    title: 'Save the exported model in a folder',
    message: 'A new folder with the model and its .zip is made inside the folder you choose.',
    properties: ['openDirectory', 'createDirectory', 'promptToCreate'],
    buttonLabel: 'Save here',
  };
  const result = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
  if (result.canceled || result.filePaths.length === 0) return null;
  return { paths: [result.filePaths[0]!], displayName: path.basename(result.filePaths[0]!) };
}
