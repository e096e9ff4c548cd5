// The app's own prediction path for a run (electron/core/predict: the run's model in ONNX
// Runtime, or tfjs when it does not convert), fed by the app's one preprocessing step. Every
// export is compared with this.
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../db/connection.js';
import { runModel } from '../predict/run-model.js';
import { loadPredictor } from '../predict/predictor.js';
import { pixelsFor } from '../predict/classify.js';
import { ONNX_FILE, ONNX_STATUS_FILE } from '../predict/onnx-model.js';
import { loadModelFolder } from '../engine/model-folder.js';
import { convertToOnnxDetailed } from '../engine/onnx/index.js';

export interface AppPredictions {
  probs: Float32Array[];
  /** 'onnx-cpu', or 'tfjs (fallback: …)'. */
  runtime: string;
}

/**
 * What the run itself recorded for these pictures when it finished (run_images, written by
 * training's evaluation): the final model's held-out answers, in the run's label order. That is
 * the app's own output for the same model, so the parity check can compare the artefacts with it
 * instead of predicting every test picture once more. Null unless every picture has one (a test
 * picture that was a training picture then has only an out-of-fold answer, from another model).
 * Stored rounded to RECORDED_DECIMALS (eval/run-evaluation.ts), which the check allows for.
 */
export function recordedPredictions(db: Db, runId: number, images: { sha256: string }[], classes: number): Float32Array[] | null {
  const rows = db
    .prepare("SELECT sha256, probabilities FROM run_images WHERE run_id = ? AND kind = 'held-out' AND probabilities IS NOT NULL")
    .all(runId) as { sha256: string; probabilities: string }[];
  const bySha = new Map<string, Float32Array | null>();
  for (const r of rows) {
    let p: unknown;
    try {
      p = JSON.parse(r.probabilities);
    } catch {
      p = null;
    }
    const ok = Array.isArray(p) && p.length === classes && p.every((v) => typeof v === 'number' && Number.isFinite(v));
    // The same picture twice with different answers: neither can be trusted.
    const prev = bySha.get(r.sha256);
    const next = ok ? Float32Array.from(p as number[]) : null;
    bySha.set(r.sha256, prev === undefined ? next : prev && next && prev.every((v, i) => v === next[i]) ? prev : null);
  }
  const out: Float32Array[] = [];
  for (const img of images) {
    const p = bySha.get(img.sha256);
    if (!p) return null;
    out.push(p);
  }
  return out;
}

export async function appPredictions(db: Db, runId: number, files: string[], batchSize = 16): Promise<AppPredictions> {
  const model = runModel(db, runId);
  const predictor = await loadPredictor(model, { providers: ['cpu'] });
  try {
    const probs: Float32Array[] = [];
    for (let i = 0; i < files.length; i += batchSize) {
      const batch: Uint8Array[] = [];
      for (const f of files.slice(i, i + batchSize)) batch.push(await pixelsFor(fs.readFileSync(f), model.inputSize));
      probs.push(...(await predictor.predict(batch)));
    }
    return { probs, runtime: predictor.runtime };
  } finally {
    await predictor.dispose();
  }
}

/**
 * The run's model as ONNX bytes (uint8 NHWC `image` in, probabilities out): the very file the
 * app predicts with when it has one (checked against tfjs by the predict module), else a fresh
 * conversion. The Rescaling layer inside the model does the scaling, so the input adds none.
 */
/** The output layer's name from model.json alone (no weights loaded); null when the topology does not say. */
function outputLayerName(modelDir: string): string | null {
  try {
    const json = JSON.parse(fs.readFileSync(path.join(modelDir, 'model.json'), 'utf8')) as {
      modelTopology?: { model_config?: { config?: { output_layers?: unknown[][] } }; config?: { output_layers?: unknown[][] } };
    };
    const t = json.modelTopology;
    const layers = t?.model_config?.config?.output_layers ?? t?.config?.output_layers;
    return Array.isArray(layers) && layers.length === 1 && typeof layers[0]?.[0] === 'string' ? layers[0][0] : null;
  } catch {
    return null;
  }
}

export async function runOnnxBytes(modelDir: string): Promise<{ bytes: Uint8Array; output: string; input: string }> {
  const cached = path.join(modelDir, ONNX_FILE);
  const ok = (() => {
    try {
      return (JSON.parse(fs.readFileSync(path.join(modelDir, ONNX_STATUS_FILE), 'utf8')) as { ok?: boolean }).ok === true;
    } catch {
      return false;
    }
  })();
  // The app's own file: its output is the model's output layer, read without loading the weights.
  const named = ok && fs.existsSync(cached) ? outputLayerName(modelDir) : null;
  if (named) return { bytes: fs.readFileSync(cached), output: named, input: 'image' };
  const model = await loadModelFolder(modelDir);
  try {
    const output = model.outputs[0]!.sourceLayer.name;
    if (ok && fs.existsSync(cached)) return { bytes: fs.readFileSync(cached), output, input: 'image' };
    const converted = convertToOnnxDetailed(model, { inputScaling: { from: [0, 255], to: [0, 255] } });
    return { bytes: converted.bytes, output: converted.outputs[0]!.name, input: converted.input.name };
  } finally {
    model.dispose();
  }
}
