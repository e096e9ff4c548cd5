// PLACEHOLDER — being replaced by the import pipeline. Signatures are the contract with studio.ts.
import type { Db } from '../db/connection.js';
import type { DataPaths } from '../paths.js';
import type { ImageRow, ImportReport } from '../../shared/schemas.js';
import type { JobReporter } from '../jobs.js';
import type { ImportSource } from '../sources.js';
import type { StoredImage } from '../library/images.js';
import { StudioError } from '../../shared/contract.js';

export interface ImportContext {
  db: Db;
  paths: DataPaths;
}

export interface ImportOptions {
  projectId: number;
  source: ImportSource;
  folderLabels: boolean;
}

export async function runImport(_ctx: ImportContext, _opts: ImportOptions, _job: JobReporter): Promise<Omit<ImportReport, 'jobId'>> {
  throw new StudioError('unsupported', 'not yet');
}

export async function importCaptured(_ctx: ImportContext, _projectId: number, _bytes: Buffer, _labelId: number | null, _name: string): Promise<ImageRow> {
  throw new StudioError('unsupported', 'not yet');
}

/** Path of the image's cached thumbnail (WebP), generated on first use. */
export async function thumbnailFile(_ctx: ImportContext, _image: StoredImage): Promise<string> {
  throw new StudioError('unsupported', 'not yet');
}
