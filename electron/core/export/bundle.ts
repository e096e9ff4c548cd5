// One export of a finished run: writes the chosen parts into a staging folder, checks parity
// with the app on the test split, writes manifest.json and a .zip, and records the outcome.
// Only an export that passes is moved to its destination; a failing one is kept in the data
// folder for inspection and marked failed — never shipped silently. The user's files are never
// touched: where an export may write, and how it undoes that, is destination.ts.
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../db/connection.js';
import type { DataPaths } from '../paths.js';
import { StudioError } from '../../shared/contract.js';
import { loadRunSource } from './run-source.js';
import { quantizeUint8, readTfjsFolder, writeTfjsFolder } from './tfjs-artifacts.js';
import { appPredictions, recordedPredictions, runOnnxBytes } from './app-predict.js';
import { runParityCheck, type Reference } from './parity-run.js';
import { previewFor, type QuantizePreview } from './preview.js';
import { nodeExampleOf, type ParityReport } from './parity.js';
import { makeSignature, modelCard, writeJson } from './describe.js';
import { writeManifest, MANIFEST, type FileEntry } from './manifest.js';
import { ExportClock, PhaseTimes, type ExportPhase, type ExportTick } from './eta.js';
import { template, type TemplateResources } from './templates.js';
import { writeExamples, writeWebDemo } from './template-parts.js';
import { formatOf, normaliseParts, producibleParts, type SkippedPart } from './parts.js';
import { checkDestination, removeCreated, shipToDestination, sweepStaleStaging, type Created } from './destination.js';
import type { ModelRegistry } from '../models/registry.js';
import { createExport, finishExport, getExport, recordExportPath, type ExportPart, type ExportRow } from './store.js';
import { isGraphModelFolder } from '../engine/model-folder.js';
import { forgetOwner } from '../storage/ledger.js';
import { asDiskFull } from '../storage/disk-full.js';

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

export interface ExportResult {
  row: ExportRow;
  skipped: SkippedPart[];
  files: FileEntry[];
  parity: ParityReport | null;
  preview: QuantizePreview | null;
  /** What the artefacts were judged against: the run's recorded answers, or the app's made during the export. */
  reference?: Reference['source'];
  /** Each phase's duration (parts of the parity check too), for the benchmark. */
  timings?: { phase: string; ms: number }[];
  /** Where the TF.js check ran ('wasm ×2': two worker threads on tfjs-wasm). */
  tfjsBackend?: string | null;
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
  const created: Created = { dir: false, entries: [], zip: null };
  const steps = 6;
  // The run's own record of its test answers, when it has one for every test picture: the
  // artefacts are judged against it (parity-run.ts), so the app need not predict them first.
  const recorded = recordedPredictions(db, src.run.id, src.testImages, src.labels.length);
  const clock = new ExportClock([
    ...(recorded ? [] : (['predicting with the app'] as const)),
    ...(quantize ? (['measuring 8-bit weights'] as const) : []),
    'writing models',
    'checking parity',
    'writing the model card',
    'zipping',
  ]);
  const times = new PhaseTimes();
  const progress = (phase: ExportPhase, done: number, total: number, within = 0, detail: string | null = null) => {
    times.enter(phase);
    req.onProgress?.(phase, done, total, { ...clock.at(phase, within), detail });
  };
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

    // Without a record the app predicts now; with one, only should an artefact disagree with it.
    const predictWithApp = async (): Promise<Reference> => ({ ...(await appPredictions(db, src.run.id, files)), source: 'app' });
    if (!recorded) progress('predicting with the app', 0, steps);
    let app: Reference = recorded
      ? { probs: recorded, runtime: `recorded by run ${src.run.id} when it finished`, source: 'recorded' }
      : await predictWithApp();
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
    const checked = await runParityCheck({
      bundleDir: staging,
      exampleFile: example,
      files,
      truth,
      size: src.config.inputSize,
      onnx: has('onnx'),
      tfjs: has('tfjs'),
      quantized: quantize,
      minAccuracy: quantize && preview ? preview.quantizedAccuracy : null,
      reference: app,
      predictWithApp,
      ...(req.signal ? { signal: req.signal } : {}),
      onProgress: (within, detail) => progress('checking parity', 3, steps, within, detail),
    });
    parity = checked.parity;
    app = checked.reference;
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
      return { row: getExport(db, exportId), files: entries, parity, preview, skipped, reference: app.source, timings: times.list };
    }

    // Last chance before anything is committed: a Cancel that came during the model card and
    // manifest is still honoured.
    await check();
    progress('zipping', 5, steps, 0, 'packing the folder into one .zip file');
    const zipPath = await shipToDestination(db, exportId, staging, finalDir, created);
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
    return {
      row: getExport(db, exportId),
      files: entries,
      parity,
      preview,
      skipped,
      reference: app.source,
      timings: [...times.list, ...checked.timings],
      tfjsBackend: checked.tfjsBackend,
    };
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
