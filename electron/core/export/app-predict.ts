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
export async function runOnnxBytes(modelDir: string): Promise<{ bytes: Uint8Array; output: string; input: string }> {
  const model = await loadModelFolder(modelDir);
  try {
    const output = model.outputs[0]!.sourceLayer.name;
    const cached = path.join(modelDir, ONNX_FILE);
    let ok = false;
    try {
      ok = (JSON.parse(fs.readFileSync(path.join(modelDir, ONNX_STATUS_FILE), 'utf8')) as { ok?: boolean }).ok === true;
    } catch {
      ok = false;
    }
    if (ok && fs.existsSync(cached)) return { bytes: fs.readFileSync(cached), output, input: 'image' };
    const converted = convertToOnnxDetailed(model, { inputScaling: { from: [0, 255], to: [0, 255] } });
    return { bytes: converted.bytes, output: converted.outputs[0]!.name, input: converted.input.name };
  } finally {
    model.dispose();
  }
}
