// The import pipeline: scan what was picked, then for each file read → hash → skip duplicates
// → inspect the header → decode once into a thumbnail → store original and thumbnail → insert
// the row. Files run with bounded concurrency (sharp decodes on libuv threads); rows go into
// SQLite in batched transactions, each row only after its files exist, so a cancelled or
// crashed import leaves complete images or none. Bad files land in the report, never throw.
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import type { Db } from '../db/connection.js';
import type { DataPaths } from '../paths.js';
import type { ImageRow, ImportReport, SkippedFile } from '../../shared/schemas.js';
import type { JobReporter } from '../jobs.js';
import type { ImportSource } from '../sources.js';
import { getImage, insertImage, type NewImage, type StoredImage } from '../library/images.js';
import { ensureLabel } from '../library/labels.js';
import { StudioError } from '../../shared/contract.js';
import { heifKind, heifToPng } from './heic.js';
import { inspectImage, makePreview, makeThumbnail, ImageRejected, LIMITS, type ImageInfo } from './preprocess.js';
import { scanPaths, type Candidate, type ScanResult } from './scan.js';
import { csvCandidates } from './csv.js';
import { exists, previewPath, storeOnce, writeAtomic } from './store.js';
import { isDiskFull } from '../storage/disk-full.js';
import { perceptualHash } from '../duplicates/phash.js';
import { releaseReserves } from '../storage/reserve.js';
import { DISK_FULL_REASON } from '../../shared/contract-storage.js';

export interface ImportContext {
  db: Db;
  paths: DataPaths;
}

export interface ImportOptions {
  projectId: number;
  /** Folders and/or files; or, when `csv` is set, the CSV alone says what to import. */
  source: ImportSource;
  folderLabels: boolean;
}

/** Files in flight at once: enough to keep libuv's 4 threads busy with reads and decodes. */
const CONCURRENCY = 6;
/** Rows per transaction, and the longest a finished file waits for its row. */
const BATCH_ROWS = 200;
const BATCH_MS = 250;
/** Files this large are read and decoded one at a time, so six of them never sit in memory together. */
const BIG_FILE_BYTES = 32 * 1024 * 1024;

/** Runs the functions handed to it one after another, in call order. */
function serialiser(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>) => {
    const result = tail.then(fn, fn);
    tail = result.catch(() => undefined);
    return result;
  };
}

/**
 * Who a piece of content is imported as. When the same bytes appear twice (two folders, a
 * symlink), the file earliest in scan order names and labels it even when a later copy was
 * read first (unless that copy's row is already written), so re-running an import of the
 * same folder gives the same labels.
 */
interface Claim {
  index: number;
  name: string;
  label: string | null;
  inserted: boolean;
}

type Outcome =
  | { kind: 'ready'; image: Omit<NewImage, 'labelId' | 'originalName'>; claim: Claim }
  | { kind: 'duplicate' }
  | { kind: 'skipped'; reason: string };

const sha256Of = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Label names come from folder names and CSV cells: make them valid label names or drop them. */
function labelName(raw: string | null): string | null {
  if (raw === null) return null;
  const name = raw
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim()
    .slice(0, 120)
    .trim();
  return name === '' ? null : name;
}

/**
 * Decodes (the thumbnail proves the whole image decodes), then stores original and thumbnail.
 * Returns the perceptual hash, computed alongside (a 32×32 shrink-on-load decode, a few ms).
 */
async function storeFiles(ctx: ImportContext, projectId: number, bytes: Uint8Array, sha256: string, info: ImageInfo): Promise<string> {
  const thumb = ctx.paths.thumbnail(projectId, sha256);
  const [thumbData, phash] = await Promise.all([
    (async () => ((await exists(thumb)) ? null : (await makeThumbnail(bytes, info.format)).data))(),
    perceptualHash(bytes, info.format),
  ]);
  // No existence check for the original: rewriting identical content-addressed bytes is harmless.
  await writeAtomic(ctx.paths.stored(projectId, sha256, info.format), bytes);
  if (thumbData) await writeAtomic(thumb, thumbData);
  return phash;
}

export async function runImport(ctx: ImportContext, opts: ImportOptions, job: JobReporter): Promise<Omit<ImportReport, 'jobId'>> {
  const started = Date.now();
  const { projectId, source, folderLabels } = opts;
  const { signal } = job;

  job.progress('scanning', 0, 0);
  const scan: ScanResult = source.csv
    ? await csvCandidates(source.csv)
    : await scanPaths(source.paths, { folderLabels, signal, onProgress: (n) => job.progress('scanning', n, 0) });
  const skipped: SkippedFile[] = [...scan.skipped];
  const candidates = scan.candidates;
  const total = candidates.length;

  let imported = 0;
  let duplicates = 0;
  // A Map: label names are the user's folder names and CSV cells (`__proto__`, `constructor`...).
  const labels = new Map<string, number>();
  const existsStmt = ctx.db.prepare('SELECT 1 FROM images WHERE project_id = ? AND sha256 = ?').pluck();
  // Same bytes twice in one import: the second waits for the first's verdict.
  const seen = new Map<string, { claim: Claim; verdict: Promise<Outcome> }>();

  let pending: Extract<Outcome, { kind: 'ready' }>[] = [];
  let lastFlush = Date.now();
  // The project can be deleted meanwhile (by this host, or another process on the same data folder).
  const projectExists = ctx.db.prepare('SELECT 1 FROM projects WHERE id = ?').pluck();
  let projectGone = false;
  // Counts change only once the transaction has committed: a batch SQLite refuses (a full disk)
  // rolls back, and the report must not count its rows as imported.
  const labelSource = source.csv ? 'csv' : 'folder';
  const insertBatch = ctx.db.transaction((rows: typeof pending): boolean[] | null => {
    if (projectExists.get(projectId) === undefined) return null;
    return rows.map(({ image, claim }) => {
      const labelId = claim.label === null ? null : ensureLabel(ctx.db, projectId, claim.label);
      return insertImage(ctx.db, { ...image, originalName: claim.name, labelId, labelSource }).duplicate;
    });
  });
  const flush = (rows: typeof pending) => {
    const dup = insertBatch(rows);
    if (dup === null) {
      projectGone = true;
      return;
    }
    rows.forEach(({ claim }, i) => {
      claim.inserted = true;
      if (dup[i]) {
        duplicates++; // another import of this project got there first
        return;
      }
      imported++;
      if (claim.label !== null) labels.set(claim.label, (labels.get(claim.label) ?? 0) + 1);
    });
  };
  // The first file the disk refuses stops the import: every later one would fail the same way,
  // and the report must list exactly what did not go in.
  let diskFull = false;
  const flushPending = () => {
    if (pending.length === 0) return;
    const rows = pending;
    pending = [];
    lastFlush = Date.now();
    try {
      flush(rows);
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      // SQLite could not grow the database: give back the reserve and commit this batch with it.
      diskFull = true;
      releaseReserves();
      try {
        flush(rows);
      } catch (again) {
        if (!isDiskFull(again)) throw again;
        for (const r of rows) skipped.push({ path: r.claim.name, reason: DISK_FULL_REASON });
      }
    }
  };

  const oneBigFileAtATime = serialiser();
  const processOne = async (c: Candidate, index: number): Promise<Outcome> => {
    const st = await fs.promises.stat(c.file);
    if (st.size === 0) return { kind: 'skipped', reason: 'empty file' };
    if (st.size > LIMITS.maxBytes) return { kind: 'skipped', reason: 'file is larger than 256 MB' };
    if (st.size > BIG_FILE_BYTES) return oneBigFileAtATime(() => processBytes(c, index));
    return processBytes(c, index);
  };
  const processBytes = async (c: Candidate, index: number): Promise<Outcome> => {
    let bytes: Uint8Array = await fs.promises.readFile(c.file);
    // HEIC/AVIF become PNG before anything else sees them (heic.ts); a damaged one is skipped with its reason.
    const heif = heifKind(bytes);
    if (heif) {
      try {
        bytes = await heifToPng(bytes, heif);
      } catch (err) {
        if (err instanceof ImageRejected) return { kind: 'skipped', reason: err.message };
        throw err;
      }
    }
    const sha256 = sha256Of(bytes);
    const mine: Claim = { index, name: c.display.split('/').pop()!, label: labelName(c.label), inserted: false };
    const earlier = seen.get(sha256);
    if (earlier) {
      const { claim } = earlier;
      if (index < claim.index && !claim.inserted) Object.assign(claim, { index, name: mine.name, label: mine.label });
      const verdict = await earlier.verdict;
      return verdict.kind === 'skipped' ? verdict : { kind: 'duplicate' };
    }
    if (existsStmt.get(projectId, sha256) !== undefined) return { kind: 'duplicate' };
    const verdict = (async (): Promise<Outcome> => {
      try {
        const info = await inspectImage(bytes);
        const phash = await storeFiles(ctx, projectId, bytes, sha256, info);
        const image = { projectId, sha256, bytes: bytes.length, width: info.width, height: info.height, format: info.format, phash };
        return { kind: 'ready', image, claim: mine };
      } catch (err) {
        if (err instanceof ImageRejected) return { kind: 'skipped', reason: err.message };
        throw err;
      }
    })();
    seen.set(sha256, { claim: mine, verdict });
    return verdict;
  };

  let next = 0;
  let done = 0;
  job.progress('importing', 0, total);
  const worker = async () => {
    while (!signal.aborted && !projectGone && !diskFull && next < total) {
      const index = next++;
      const c = candidates[index]!;
      let outcome: Outcome;
      try {
        outcome = await processOne(c, index);
      } catch (err) {
        // Unreadable file, permission denied: report it and carry on. A full disk stops the import.
        const e = err as NodeJS.ErrnoException;
        if (isDiskFull(err)) {
          diskFull = true;
          releaseReserves();
          outcome = { kind: 'skipped', reason: DISK_FULL_REASON };
        } else outcome = { kind: 'skipped', reason: e.code ? `could not read or store the file (${e.code})` : (e.message ?? String(err)) };
      }
      if (outcome.kind === 'ready') pending.push(outcome);
      else if (outcome.kind === 'duplicate') duplicates++;
      else skipped.push({ path: c.display, reason: outcome.reason });
      done++;
      if (pending.length >= BATCH_ROWS || Date.now() - lastFlush >= BATCH_MS) flushPending();
      job.progress('importing', done, total);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, Math.max(total, 1)) }, worker));
  // Files that finished before a cancel are complete on disk: keep them rather than orphan them.
  flushPending();
  if (diskFull) for (let i = next; i < total; i++) skipped.push({ path: candidates[i]!.display, reason: DISK_FULL_REASON });
  if (projectGone || projectExists.get(projectId) === undefined) {
    // Every worker has stopped: what they stored after the delete goes too, so a later project
    // inherits nothing.
    await fs.promises.rm(ctx.paths.project(projectId), { recursive: true, force: true, maxRetries: 3 });
    throw new StudioError('cancelled', 'The project was deleted during the import; the import stopped and kept nothing.');
  }

  // Object.fromEntries defines own properties, so even `__proto__` becomes a key.
  const labelCounts = Object.fromEntries(labels);
  return { imported, duplicates, skipped, labels: labelCounts, cancelled: signal.aborted, durationMs: Date.now() - started };
}

/** A webcam frame: the same checks and store as a file import; a bad frame is refused. */
export async function importCaptured(
  ctx: ImportContext,
  projectId: number,
  bytes: Buffer,
  labelId: number | null,
  name: string,
): Promise<{ row: ImageRow; duplicate: boolean }> {
  const sha256 = sha256Of(bytes);
  let info: ImageInfo;
  let phash: string;
  try {
    info = await inspectImage(bytes);
    phash = await storeFiles(ctx, projectId, bytes, sha256, info);
  } catch (err) {
    if (err instanceof ImageRejected) throw new StudioError('invalid', `The captured frame could not be used: ${err.message}.`);
    throw err;
  }
  const { id, duplicate } = ctx.db.transaction(() =>
    insertImage(ctx.db, {
      projectId,
      sha256,
      bytes: bytes.length,
      width: info.width,
      height: info.height,
      format: info.format,
      originalName: name,
      labelId,
      phash,
    }),
  )();
  const d = getImage(ctx.db, projectId, id);
  return { row: { id: d.id, labelId: d.labelId, status: d.status, width: d.width, height: d.height }, duplicate };
}

// Concurrent requests for the same missing cache file share one render.
const rendering = new Map<string, Promise<string>>();

async function cached(ctx: ImportContext, img: StoredImage, file: string, make: typeof makeThumbnail): Promise<string> {
  if (await exists(file)) return file;
  const inFlight = rendering.get(file);
  if (inFlight) return inFlight;
  const work = (async () => {
    const original = ctx.paths.stored(img.projectId, img.sha256, img.format);
    let bytes: Buffer;
    try {
      bytes = await fs.promises.readFile(original);
    } catch {
      throw new StudioError('not_found', `The stored file of image ${img.id} is missing.`);
    }
    try {
      await storeOnce(file, async () => (await make(bytes)).data);
    } catch (err) {
      if (err instanceof ImageRejected) throw new StudioError('invalid', `Image ${img.id} can no longer be decoded: ${err.message}.`);
      throw err;
    }
    return file;
  })().finally(() => rendering.delete(file));
  rendering.set(file, work);
  return work;
}

/** Path of the image's cached thumbnail (WebP, inside 256×256), regenerated if missing. */
export function thumbnailFile(ctx: ImportContext, image: StoredImage): Promise<string> {
  return cached(ctx, image, ctx.paths.thumbnail(image.projectId, image.sha256), makeThumbnail);
}

/** Path of the image's cached preview (WebP, ≤1600 px, EXIF orientation applied), made on first use. */
export function previewFile(ctx: ImportContext, image: StoredImage): Promise<string> {
  return cached(ctx, image, previewPath(ctx.paths, image.projectId, image.sha256), makePreview);
}
