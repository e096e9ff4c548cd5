// A finished run to export, built without the training engine: the built-in MobileNetV2 cut at
// block 3 + the app's own head (pooling, standardisation, Dense softmax; seeded random weights),
// wrapped by `classifierModel` exactly as a run saves it, with a runs row holding test metrics.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Studio } from '../../electron/core/studio.js';
import { baseDir } from '../fixtures/environment.js';
import { loadBaseFolder } from '../../electron/core/engine/base.js';
import { Head } from '../../electron/core/engine/head.js';
import { classifierModel } from '../../electron/core/engine/run.js';
import { saveModelFolder } from '../../electron/core/engine/model-folder.js';
import { defaultConfig } from '../../electron/core/engine/config.js';
import { confusionMetrics } from '../../electron/core/engine/metrics.js';
import { decodeForModel, PREPROCESSING } from '../../electron/core/import/preprocess.js';
import { createRun, markRunning, finishRun } from '../../electron/core/training/runs.js';
import { trainingImages } from '../../electron/core/training/splits.js';
import { makeTrainingProject } from '../fixtures/training-project.js';
import { testEnvironment } from '../fixtures/environment.js';

export const FEATURE_LAYER = 'block_3_project_BN';
export const PER_LABEL = { bird: 14, vehicle: 14, fruit: 14, music: 14 };

export interface ExportFixture {
  studio: Studio;
  runId: number;
  projectId: number;
  modelDir: string;
  labels: string[];
  testFiles: { file: string; label: string }[];
}

/** `featureLayer`: where the base is cut (default block 3, small and quick; 'out_relu' is the whole base). */
export async function makeExportFixture(dataDir: string, featureLayer = FEATURE_LAYER): Promise<ExportFixture> {
  await tf.ready();
  const studio = new Studio({ environment: testEnvironment(dataDir), host: 'cli' });
  const projectId = makeTrainingProject(studio.db, studio.paths, PER_LABEL, 'export clip art');
  const images = trainingImages(studio.db, projectId);
  const names = new Map(
    (studio.db.prepare('SELECT id, name FROM labels WHERE project_id = ?').all(projectId) as { id: number; name: string }[]).map((r) => [
      r.id,
      r.name,
    ]),
  );
  const labels = Object.keys(PER_LABEL);

  const base = await loadBaseFolder(baseDir('mobilenet_v2'));
  const featureDim = (base.model.getLayer(featureLayer).outputShape as number[])[3]!;
  const head = new Head(featureDim, labels.length, { denseUnits: 0, dropout: 0.2 }, 1234);
  const model = classifierModel(base.model, featureLayer, head, base);
  const config = defaultConfig('head', { featureLayer, epochs: 1 });
  const runId = createRun(studio.db, projectId, base.id, config);
  markRunning(studio.db, runId, 'portable-cpu');
  const modelDir = path.join(studio.paths.project(projectId), 'runs', String(runId), 'model');
  await saveModelFolder(model, modelDir);
  fs.writeFileSync(path.join(modelDir, 'labels.json'), JSON.stringify(labels));

  const test = images
    .filter((i) => i.split === 'test')
    .map((i) => ({ file: studio.paths.stored(projectId, i.sha256, i.format), label: names.get(i.labelId)! }));
  const size = base.inputSize;
  const pixels = new Float32Array(test.length * size * size * 3);
  for (let k = 0; k < test.length; k++) pixels.set((await decodeForModel(fs.readFileSync(test[k]!.file), size)).data, k * size * size * 3);
  const probs = tf.tidy(() => (model.predict(tf.tensor4d(pixels, [test.length, size, size, 3])) as tf.Tensor).dataSync() as Float32Array);
  const metrics = confusionMetrics(
    labels,
    test.map((t) => labels.indexOf(t.label)),
    probs,
    null,
  );
  fs.writeFileSync(
    path.join(modelDir, 'config.json'),
    JSON.stringify(
      {
        base: base.id,
        inputSize: size,
        input: 'RGB uint8 pixels as float32 0..255, NHWC; scaling is inside the model',
        preprocessing: PREPROCESSING,
        featureLayer,
        boundary: null,
        config,
        engine: 'portable-cpu',
        metrics,
      },
      null,
      2,
    ),
  );
  finishRun(studio.db, runId, 'done', { modelFolder: modelDir, metrics });
  // The classifier shares the head's and the base's layers; disposing it frees them all.
  model.dispose();
  return { studio, runId, projectId, modelDir, labels, testFiles: test };
}

/**
 * `node --import tsx test/integration/export-fixture.ts WORKDIR`: builds the fixture, exports a
 * bundle to WORKDIR/bundle and prints one JSON line with the app's prediction for each test
 * image (for the web demo's end-to-end test, which cannot import the app's TypeScript).
 */
async function main(work: string): Promise<void> {
  const { exportRun } = await import('../../electron/core/export/bundle.js');
  const { appPredictions } = await import('../../electron/core/export/app-predict.js');
  const fx = await makeExportFixture(path.join(work, 'data'));
  try {
    const result = await exportRun({ ...fx.studio.environment, db: fx.studio.db }, { runId: fx.runId, outDir: path.join(work, 'bundle') });
    if (result.row.status !== 'done') throw new Error(`export ${result.row.status}: ${result.row.error}`);
    const app = await appPredictions(
      fx.studio.db,
      fx.runId,
      fx.testFiles.map((t) => t.file),
    );
    const images = fx.testFiles.map((t, i) => {
      const p = Array.from(app.probs[i]!);
      const order = p.map((v, k) => [v, k] as const).sort((a, b) => b[0] - a[0]);
      return {
        file: t.file,
        truth: t.label,
        label: fx.labels[order[0]![1]]!,
        probability: order[0]![0],
        margin: order[0]![0] - order[1]![0],
      };
    });
    process.stdout.write(`${JSON.stringify({ bundleDir: result.row.dir, labels: fx.labels, images })}\n`);
  } finally {
    fx.studio.close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  await main(process.argv[2] ?? fs.mkdtempSync(path.join((await import('node:os')).tmpdir(), 'export-fixture-')));
}
