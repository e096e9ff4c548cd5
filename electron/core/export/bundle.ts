// One export of a finished run: writes the chosen parts into a staging folder, checks parity
// with the app on the test split, writes manifest.json and a .zip, and records the outcome.
// Only an export that passes is moved to its destination; a failing one is kept in the data
// folder for inspection and marked failed — never shipped silently.
//
// The user's files are never touched: staging and failed exports live in the data folder; outside
// it, an export writes only inside the destination folder (which must be new or empty) and one new
// .zip beside it whose name is free (`DIR.zip`, else `DIR (2).zip`...). Each path outside the data
// folder is recorded in the exports row before it is created, so a later sweep knows it is ours.
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../db/connection.js';
import type { DataPaths } from '../paths.js';
import { StudioError } from '../../shared/contract.js';
import { loadRunSource, type RunSource } from './run-source.js';
import { quantizeUint8, readTfjsFolder, writeTfjsFolder, modelJson } from './tfjs-artifacts.js';
import { appPredictions, runOnnxBytes } from './app-predict.js';
import { previewFor, type QuantizePreview } from './preview.js';
import {
  judge,
  onnxViaNodeExample,
  summarise,
  tfjsFromBundle,
  accuracyOf,
  nodeExampleOf,
  type ArtefactParity,
  type ParityReport,
} from './parity.js';
import { makeSignature, modelCard, writeJson } from './describe.js';
import { writeManifest, MANIFEST, type FileEntry } from './manifest.js';
import { zipFolder } from './zip.js';
import { ExportClock, type ExportPhase, type ExportTick } from './eta.js';
import { claimFreeFile, moveEntriesInto } from './files.js';
import { template, tfjsBrowserRuntime, type TemplateResources } from './templates.js';
import type { ModelRegistry } from '../models/registry.js';
import {
  ALL_PARTS,
  createExport,
  finishExport,
  getExport,
  recordExportPath,
  type ExportFormat,
  type ExportPart,
  type ExportRow,
} from './store.js';
import { isGraphModelFolder } from '../engine/model-folder.js';
import { claimPath, forgetOwner, forgetPath, markCreated } from '../storage/ledger.js';
import { asDiskFull } from '../storage/disk-full.js';
import { GRAPH_NOT_ONNX } from '../predict/onnx-model.js';

/** What an export needs from the studio: its database and data folder, and the environment's resources and model registry. */
export interface ExportEnvironment {
  db: Db;
  paths: DataPaths;
  resources: TemplateResources;
  models: ModelRegistry;
}

export interface ExportRequest {
  runId: number;
  /** Default: everything (a bundle). */
  parts?: ExportPart[];
  quantize?: boolean;
  /** Destination folder; must not exist or be empty. Default: <data>/exports/run-<id>-export-<exportId>. */
  outDir?: string;
  signal?: AbortSignal;
  /** `tick`: how far the whole export is (0..1), the time left (null until known) and what the phase is doing now. */
  onProgress?: (phase: string, done: number, total: number, tick?: ExportProgressTick) => void;
  /** Called once the exports row exists (the UI can show it as running). */
  onCreated?: (exportId: number) => void;
}

export interface ExportProgressTick extends ExportTick {
  /** What the phase is doing right now, in words ("checking the model for websites: 16 of 78 pictures"). */
  detail: string | null;
}

/** A part asked for but not produced, and why (recorded in manifest.json and the model card). */
export interface SkippedPart {
  part: ExportPart;
  reason: string;
}

export interface ExportResult {
  row: ExportRow;
  skipped: SkippedPart[];
  files: FileEntry[];
  parity: ParityReport | null;
  preview: QuantizePreview | null;
}

export function formatOf(parts: readonly ExportPart[]): ExportFormat {
  const set = new Set(parts);
  if (set.size === 1 && set.has('tfjs')) return 'tfjs';
  if (set.size === 1 && set.has('onnx')) return 'onnx';
  return 'bundle';
}

function normaliseParts(parts: ExportPart[] | undefined): ExportPart[] {
  const set = new Set(parts && parts.length ? parts : ALL_PARTS);
  // The web demo runs the TF.js model; the examples run the ONNX one.
  if (set.has('web-demo')) set.add('tfjs');
  if (set.has('examples')) set.add('onnx');
  return ALL_PARTS.filter((p) => set.has(p));
}

/**
 * The asked-for parts this run can give. A run on a graph-model base has no ONNX model (and so
 * no examples, which run it): those are left out with the reason rather than failing the export.
 */
function producibleParts(asked: ExportPart[], graphRun: boolean, runId: number): { parts: ExportPart[]; skipped: SkippedPart[] } {
  if (!graphRun) return { parts: asked, skipped: [] };
  const skipped: SkippedPart[] = [];
  if (asked.includes('onnx')) skipped.push({ part: 'onnx', reason: `no ONNX model: ${GRAPH_NOT_ONNX}` });
  if (asked.includes('examples')) skipped.push({ part: 'examples', reason: `the examples run the ONNX model, and ${GRAPH_NOT_ONNX}` });
  const parts = asked.filter((p) => p !== 'onnx' && p !== 'examples');
  if (parts.length === 0)
    throw new StudioError(
      'unsupported',
      `Run ${runId} cannot be exported as ONNX: ${GRAPH_NOT_ONNX}. Export it for TensorFlow.js instead.`,
    );
  return { parts, skipped };
}

function checkDestination(dir: string): void {
  if (fs.existsSync(dir)) {
    if (!fs.statSync(dir).isDirectory()) throw new StudioError('conflict', `${dir} exists and is not a folder.`);
    if (fs.readdirSync(dir).length > 0)
      throw new StudioError('conflict', `${dir} is not empty; choose a new or empty folder (nothing was overwritten).`);
  }
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function writeWebDemo(
  resources: TemplateResources,
  dir: string,
  src: RunSource,
  tfjsModel: ReturnType<typeof readTfjsFolder>,
  signature: object,
): void {
  const demo = path.join(dir, 'web-demo');
  fs.mkdirSync(demo, { recursive: true });
  // The user's own name for it; the labels are listed under the title.
  const title = src.projectName;
  fs.writeFileSync(
    path.join(demo, 'index.html'),
    fs.readFileSync(template(resources, 'web-demo/index.html'), 'utf8').replaceAll('{{TITLE}}', escapeHtml(title)),
  );
  fs.copyFileSync(tfjsBrowserRuntime(resources), path.join(demo, 'tf.min.js'));
  // A classic script, not JSON: file:// pages cannot fetch(), but they can load scripts.
  const payload = {
    modelJson: modelJson(tfjsModel),
    weightsBase64: tfjsModel.weightData.toString('base64'),
    labels: src.labels,
    signature,
  };
  fs.writeFileSync(
    path.join(demo, 'model.js'),
    `// The exported TF.js model inlined for the offline demo (same as ../tfjs/).\nwindow.STUDIO_MODEL = ${JSON.stringify(payload)};\n`,
  );
}

function writeExamples(resources: TemplateResources, dir: string): void {
  for (const rel of [
    'examples/node/classify.mjs',
    'examples/node/package.json',
    'examples/python/classify.py',
    'examples/python/requirements.txt',
  ]) {
    const to = path.join(dir, rel);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(template(resources, rel), to);
  }
}

/**
 * Staging folders of exports that are no longer running (a killed process, a crash): they are in
 * the data folder and named by export id, so they are ours to remove. A running one is left alone
 * (another process on this data folder may be writing it).
 */
function sweepStaleStaging(db: Db, exportsRoot: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(exportsRoot);
  } catch {
    return; // no exports yet
  }
  const running = db.prepare("SELECT 1 FROM exports WHERE id = ? AND status = 'running'").pluck();
  for (const name of names) {
    const m = /^\.partial-(\d+)$/.exec(name);
    if (m && running.get(Number(m[1])) === undefined) fs.rmSync(path.join(exportsRoot, name), { recursive: true, force: true });
  }
}

/** Undoes what a failed export put at its destination, and nothing else. */
function removeCreated(finalDir: string, created: { dir: boolean; entries: string[]; zip: string | null }): void {
  if (created.zip) fs.rmSync(created.zip, { force: true });
  if (created.dir) fs.rmSync(finalDir, { recursive: true, force: true });
  else for (const e of created.entries) fs.rmSync(path.join(finalDir, e), { recursive: true, force: true });
}

export async function exportRun(env: ExportEnvironment, req: ExportRequest): Promise<ExportResult> {
  const { db, paths, resources } = env;
  // Some backend (wasm, when the engine's modules are loaded) may still be initialising.
  await tf.ready();
  const src = loadRunSource(db, paths, req.runId);
  const { parts, skipped } = producibleParts(normaliseParts(req.parts), isGraphModelFolder(src.modelDir), src.run.id);
  const quantize = !!req.quantize && parts.includes('tfjs');
  const has = (p: ExportPart) => parts.includes(p);
  if (req.outDir) checkDestination(path.resolve(req.outDir));
  const format = formatOf(parts);
  const exportId = createExport(db, src.run.id, format, parts, quantize);
  const exportsRoot = path.join(paths.root, 'exports');
  sweepStaleStaging(db, exportsRoot);
  const finalDir = path.resolve(req.outDir ?? path.join(exportsRoot, `run-${src.run.id}-export-${exportId}`));
  recordExportPath(db, exportId, 'dir', finalDir);
  req.onCreated?.(exportId);
  // In the data folder, never beside the destination (a name there may be the user's).
  const staging = path.join(exportsRoot, `.partial-${exportId}`);
  /** What this export created at the destination, so a failure removes exactly that. */
  const created: { dir: boolean; entries: string[]; zip: string | null } = { dir: false, entries: [], zip: null };
  const steps = 6;
  const clock = new ExportClock([
    'predicting with the app',
    ...(quantize ? (['measuring 8-bit weights'] as const) : []),
    'writing models',
    'checking parity',
    'writing the model card',
    'zipping',
  ]);
  const progress = (phase: ExportPhase, done: number, total: number, within = 0, detail: string | null = null) =>
    req.onProgress?.(phase, done, total, { ...clock.at(phase, within), detail });
  // Yield to the event loop first: the TF.js parity pass keeps this process busy, and a Cancel
  // arriving meanwhile is only read once pending I/O gets a turn (await alone stays in microtasks).
  const check = async () => {
    await new Promise((resolve) => setImmediate(resolve));
    if (req.signal?.aborted) throw new StudioError('cancelled', 'The export was cancelled.');
  };
  let parity: ParityReport | null = null;
  let preview: QuantizePreview | null = null;
  try {
    if (src.testImages.length === 0)
      throw new StudioError(
        'invalid',
        `Run ${src.run.id} has no test images to check the export against; give the project a test split and train again.`,
      );
    fs.rmSync(staging, { recursive: true, force: true });
    fs.mkdirSync(staging, { recursive: true });
    const files = src.testImages.map((i) => i.file);
    const truth = src.testImages.map((i) => i.labelIndex);

    progress('predicting with the app', 0, steps);
    const app = await appPredictions(db, src.run.id, files);
    await check();
    if (quantize) {
      progress('measuring 8-bit weights', 1, steps);
      preview = await previewFor(db, src, true, app);
      await check();
    }

    progress('writing models', 2, steps);
    const float = readTfjsFolder(src.modelDir);
    const tfjsModel = quantize ? quantizeUint8(float) : float;
    if (has('tfjs')) writeTfjsFolder(path.join(staging, 'tfjs'), tfjsModel);
    const onnx = float.format === 'graph-model' ? null : await runOnnxBytes(src.modelDir);
    if (onnx && has('onnx')) fs.writeFileSync(path.join(staging, 'model.onnx'), onnx.bytes);
    writeJson(path.join(staging, 'labels.json'), src.labels);
    const base = env.models.describe(src.run.baseId);
    let signature = makeSignature(
      src,
      exportId,
      base,
      { tfjs: has('tfjs'), onnx: has('onnx'), quantized: quantize, graph: float.format === 'graph-model', skipped },
      onnx?.output ?? '',
    );
    writeJson(path.join(staging, 'signature.json'), signature);
    if (has('examples')) writeExamples(resources, staging);
    if (has('web-demo')) writeWebDemo(resources, staging, src, tfjsModel, signature);
    await check();

    // The shipped Node example's preprocessing, or (for a TF.js-only export) the same template.
    const example = has('examples') ? nodeExampleOf(staging) : template(resources, 'examples/node/classify.mjs');
    const artefacts: ArtefactParity[] = [];
    // ONNX Runtime answers in about a quarter of the time the TF.js model takes on wasm.
    const onnxShare = has('onnx') ? (has('tfjs') ? 0.25 : 1) : 0;
    const pictures = (n: number) => `${n} of ${files.length} test pictures`;
    if (has('onnx')) {
      progress('checking parity', 3, steps, 0, `checking the model for apps on ${files.length} test pictures`);
      const probs = await onnxViaNodeExample(staging, files, example);
      artefacts.push(judge('onnx', false, app.probs, probs, truth, null));
    }
    await check();
    if (has('tfjs')) {
      const tfjsDetail = (n: number) => `checking the model for websites: ${pictures(n)}`;
      progress('checking parity', 3, steps, onnxShare, tfjsDetail(0));
      const { probs } = await tfjsFromBundle(staging, src.config.inputSize, files, example, {
        onImages: (n) => progress('checking parity', 3, steps, onnxShare + ((1 - onnxShare) * n) / files.length, tfjsDetail(n)),
      });
      const minAccuracy = quantize && preview ? preview.quantizedAccuracy : null;
      artefacts.push(judge('tfjs', quantize, app.probs, probs, truth, minAccuracy));
    }
    parity = summarise(artefacts, accuracyOf(app.probs, truth), files.length);
    await check();

    progress('writing the model card', 4, steps);
    signature = {
      ...signature,
      ...{ parity: { images: parity.images, maxAbsDiff: parity.maxAbsDiff, agreement: parity.agreement, appRuntime: app.runtime } },
    };
    writeJson(path.join(staging, 'signature.json'), signature);
    fs.writeFileSync(
      path.join(staging, 'README.md'),
      modelCard(src, signature, parity, {
        tfjs: has('tfjs'),
        onnx: has('onnx'),
        demo: has('web-demo'),
        examples: has('examples'),
        quantized: quantize,
      }),
    );
    const entries = writeManifest(staging, skipped);
    const manifestSha256 = createHash('sha256')
      .update(fs.readFileSync(path.join(staging, MANIFEST)))
      .digest('hex');
    const bytes = entries.reduce((s, f) => s + f.bytes, 0);

    if (!parity.passed) {
      const failedDir = path.join(exportsRoot, `run-${src.run.id}-export-${exportId}.failed`);
      fs.rmSync(failedDir, { recursive: true, force: true }); // ours: inside the data folder
      fs.renameSync(staging, failedDir);
      const reasons = parity.artefacts.filter((a) => !a.passed).map((a) => `${a.artefact}: ${a.reason}`);
      finishExport(db, exportId, {
        status: 'failed',
        dir: failedDir,
        manifestSha256,
        bytes,
        parity,
        accuracyDelta: preview?.accuracyDelta ?? null,
        error: `Parity check failed (${reasons.join('; ')}).`,
      });
      return { row: getExport(db, exportId), files: entries, parity, preview, skipped };
    }

    // Last chance before anything is committed: a Cancel that came during the model card and
    // manifest is still honoured.
    await check();
    progress('zipping', 5, steps, 0, 'packing the folder into one .zip file');
    // Checked at the start, but someone may have put files there since.
    checkDestination(finalDir);
    // Every path made outside the data folder goes on the ledger first (storage/ledger.ts): if this
    // process dies from here on, the next start removes exactly what it made and nothing else.
    if (!fs.existsSync(finalDir)) {
      const entry = claimPath(db, 'export', exportId, finalDir, 'dir');
      fs.mkdirSync(finalDir, { recursive: true });
      markCreated(db, entry);
      created.dir = true;
    }
    // Entry by entry, so a destination that existed (empty) keeps its own permissions.
    created.entries = fs.readdirSync(staging);
    moveEntriesInto(staging, finalDir, (dest) => {
      const entry = claimPath(db, 'export', exportId, dest, 'tree');
      return () => markCreated(db, entry);
    });
    fs.rmSync(staging, { recursive: true, force: true });
    let zipEntry: number | null = null;
    const zipPath = claimFreeFile(
      finalDir,
      '.zip',
      (candidate) => {
        // A name taken by someone else between our check and our create is not ours: off the record.
        if (zipEntry !== null) forgetPath(db, zipEntry);
        recordExportPath(db, exportId, 'zip', candidate);
        zipEntry = claimPath(db, 'export', exportId, candidate, 'file');
      },
      () => markCreated(db, zipEntry!),
    );
    created.zip = zipPath;
    zipFolder(finalDir, zipPath);
    progress('done', steps, steps);
    finishExport(db, exportId, {
      status: 'done',
      dir: finalDir,
      zipPath,
      manifestSha256,
      bytes,
      parity,
      accuracyDelta: preview?.accuracyDelta ?? null,
    });
    // Shipped: the folder and zip are the user's now, never a sweep's.
    forgetOwner(db, 'export', exportId);
    return { row: getExport(db, exportId), files: entries, parity, preview, skipped };
  } catch (err) {
    fs.rmSync(staging, { recursive: true, force: true });
    let leftOver = false;
    try {
      removeCreated(finalDir, created);
      forgetOwner(db, 'export', exportId);
    } catch {
      leftOver = true; // stays on record (dir, zip, ledger) for a later sweep
    }
    const cancelled = err instanceof StudioError && err.code === 'cancelled';
    // A full disk in the user's words (the reserve is given back so this row can still be written).
    const shown = asDiskFull(err, 'The export was not saved; what it had written was removed.');
    finishExport(db, exportId, {
      status: cancelled ? 'cancelled' : 'failed',
      ...(leftOver ? { dir: finalDir, zipPath: created.zip } : {}),
      parity,
      error: shown instanceof Error ? shown.message : String(shown),
    });
    throw shown;
  }
}
