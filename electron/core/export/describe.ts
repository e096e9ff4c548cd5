// signature.json and the README.md model card of an export: what goes in, what comes out, what
// it was trained on and how well it did, in words a person who did not train it can use.
import fs from 'node:fs';
import path from 'node:path';
import { PREPROCESSING } from '../import/preprocess.js';
import type { RunSource } from './run-source.js';
import type { ParityReport } from './parity.js';
import { recipeWords, warmupWords } from '../../shared/recipe-words.js';

export const SIGNATURE_VERSION = 1;

export interface BaseDescription {
  id: string;
  name: string;
  source: string;
}

export interface SignatureParts {
  tfjs: boolean;
  onnx: boolean;
  quantized: boolean;
  /** The TF.js model is a graph model (a run on a graph-model base): tf.loadGraphModel loads it. */
  graph?: boolean;
  /** Parts asked for but not produced, and why. */
  skipped?: { part: string; reason: string }[];
}

export interface Signature {
  formatVersion: number;
  runId: number;
  exportId: number;
  createdAt: string;
  classes: string[];
  input: {
    size: [number, number];
    shape: (number | null)[];
    dtype: 'uint8';
    layout: 'NHWC';
    channelOrder: 'RGB';
    scaling: string;
  };
  preprocessing: typeof PREPROCESSING & { placement: string };
  output: { kind: 'probabilities'; shape: (number | null)[]; classOrder: string };
  onnx: { file: string; input: string; output: string } | null;
  tfjs: {
    file: string;
    input: string;
    inputDtype: string;
    weights: 'float32' | 'uint8-quantized';
    /** 'graph-model' loads with tf.loadGraphModel, 'layers-model' with tf.loadLayersModel. */
    format: 'layers-model' | 'graph-model';
  } | null;
  /** Parts asked for but not produced, and why (present only when some were). */
  skipped?: { part: string; reason: string }[];
  base: BaseDescription;
  strategy: string;
  dataset: { hash: string; hashOf: string; images: number; perSplit: Record<string, number> };
  metrics: unknown;
}

export function makeSignature(
  src: RunSource,
  exportId: number,
  base: BaseDescription,
  parts: SignatureParts,
  onnxOutput: string,
): Signature {
  const size = src.config.inputSize;
  const perSplit: Record<string, number> = { train: 0, validation: 0, test: 0 };
  for (const i of src.images) perSplit[i.split] = (perSplit[i.split] ?? 0) + 1;
  return {
    formatVersion: SIGNATURE_VERSION,
    runId: src.run.id,
    exportId,
    createdAt: new Date().toISOString(),
    classes: src.labels,
    input: {
      size: [size, size],
      shape: [null, size, size, 3],
      dtype: 'uint8',
      layout: 'NHWC',
      channelOrder: 'RGB',
      scaling: 'inside the model: feed raw 0..255 pixels, do not normalise',
    },
    preprocessing: { ...PREPROCESSING, placement: 'resized size = round(side × scale); offset = floor((input − resized) / 2)' },
    output: { kind: 'probabilities', shape: [null, src.labels.length], classOrder: 'as in "classes" and labels.json' },
    onnx: parts.onnx ? { file: 'model.onnx', input: 'image', output: onnxOutput } : null,
    tfjs: parts.tfjs
      ? {
          file: 'tfjs/model.json',
          input: 'pixels',
          inputDtype: 'float32 holding the 0..255 pixel values (tfjs layers models take float input)',
          weights: parts.quantized ? 'uint8-quantized' : 'float32',
          format: parts.graph ? 'graph-model' : 'layers-model',
        }
      : null,
    ...(parts.skipped?.length ? { skipped: parts.skipped } : {}),
    base,
    strategy: src.run.strategy,
    dataset: {
      hash: src.datasetHash,
      hashOf: 'sha256 over the sorted lines "image sha256<TAB>label<TAB>split" of every image the run used',
      images: src.images.length,
      perSplit,
    },
    metrics: src.run.metrics,
  };
}

const STRATEGY_WORDS: Record<string, string> = {
  head: 'Train a new classifier only (the pretrained base stays frozen)',
  partial: 'Fine-tune the top (layers above a boundary train, the rest stays frozen)',
  full: 'Train the whole network',
};

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)}%`);

export function modelCard(
  src: RunSource,
  sig: Signature,
  parity: ParityReport | null,
  files: { tfjs: boolean; onnx: boolean; demo: boolean; examples: boolean; quantized: boolean },
): string {
  const m = src.run.metrics;
  const cfg = src.run.config;
  const perLabel = new Map<string, Record<string, number>>();
  for (const i of src.images) {
    const row = perLabel.get(i.label) ?? { train: 0, validation: 0, test: 0 };
    row[i.split] = (row[i.split] ?? 0) + 1;
    perLabel.set(i.label, row);
  }
  const lines: string[] = [];
  lines.push(`# Image classifier: ${src.labels.join(', ')}`, '');
  lines.push(
    `This model sorts a photo or picture into one of ${src.labels.length} labels: ${src.labels.map((l) => `**${l}**`).join(', ')}. ` +
      'It always answers with one of these, even for an image that shows none of them; look at the probability before trusting an answer.',
    '',
  );
  lines.push(`Exported from Transfer Studio run ${src.run.id} (export ${sig.exportId}, ${sig.createdAt}).`, '');
  lines.push('## What is in this folder', '');
  if (files.onnx)
    lines.push('- `model.onnx` — the model for ONNX Runtime (any language). Input `image`: uint8 RGB pixels, shape [N, H, W, 3].');
  if (files.tfjs)
    lines.push(
      sig.tfjs?.format === 'graph-model'
        ? `- \`tfjs/\` — the TensorFlow.js graph model (\`tf.loadGraphModel('tfjs/model.json')\`): the base network and the trained classifier in one${files.quantized ? ', weights quantized to 8 bits' : ''}.`
        : `- \`tfjs/\` — the TensorFlow.js layers model (\`tf.loadLayersModel('tfjs/model.json')\`)${files.quantized ? ', weights quantized to 8 bits' : ''}.`,
    );
  lines.push(
    "- `labels.json` — class names, in the order of the model's output.",
    '- `signature.json` — the input contract, class order, dataset hash and metrics, for programs.',
  );
  if (files.demo)
    lines.push(
      '- `web-demo/index.html` — open it in a browser (straight from disk is fine) and drop an image or use the webcam. Nothing is uploaded.',
    );
  if (files.examples)
    lines.push(
      '- `examples/node/` — `npm install && node classify.mjs photo.jpg` (onnxruntime-node + sharp).',
      '- `examples/python/` — `pip install -r requirements.txt && python3 classify.py photo.jpg` (onnxruntime + Pillow).',
    );
  lines.push('- `manifest.json` — size and sha256 of every file (`studio verify-export DIR` checks them).', '');
  for (const s of sig.skipped ?? []) lines.push(`Not included: ${s.part} — ${s.reason}.`, '');
  lines.push('## Input', '');
  lines.push(
    `RGB pixels, ${sig.input.size[0]}×${sig.input.size[1]}, uint8 (0–255), NHWC. Scaling to the network's range is **inside the model**: do not normalise. ` +
      'Prepare images exactly like this (the app trained and tested with these steps; the examples and the web demo do the same):',
    '',
    '1. apply the EXIF orientation;',
    '2. flatten transparency onto white; convert CMYK or grey to sRGB;',
    `3. scale the whole image to fit inside ${sig.input.size[0]}×${sig.input.size[1]} keeping its aspect ratio (${PREPROCESSING.kernel} resampling), centre it and pad with white ("letterbox").`,
    '',
    'Cropping or stretching instead of letterboxing, or feeding BGR or normalised floats, gives worse answers without an error.',
    '',
  );
  lines.push('## How well it does', '');
  if (m) {
    lines.push(
      `On the held-out test split (${m.testCount} images never used in training): accuracy **${pct(m.testAccuracy)}**; validation accuracy ${pct(m.valAccuracy)}.`,
      '',
    );
    lines.push('| class | precision | recall | test images |', '|---|---|---|---|');
    for (const c of m.perClass) lines.push(`| ${c.label} | ${pct(c.precision)} | ${pct(c.recall)} | ${c.support} |`);
    lines.push(
      '',
      'Precision: of the images the model called this class, how many were. Recall: of the images of this class, how many it found.',
      '',
    );
  } else lines.push('The run recorded no test metrics.', '');
  if (parity) {
    lines.push('### Agreement with the app', '');
    for (const a of parity.artefacts) {
      lines.push(
        `- ${a.artefact === 'onnx' ? 'ONNX (through the Node example)' : `TF.js${a.quantized ? ' (8-bit weights)' : ''}`}: same top label as the app on ${pct(a.agreement)} of ${a.images} test images, largest probability difference ${a.maxAbsDiff.toExponential(2)}${a.accuracy !== null ? `, test accuracy ${pct(a.accuracy)}` : ''}.`,
      );
    }
    lines.push('');
  }
  lines.push('## Training data', '');
  lines.push(`${src.images.length} labeled images (dataset hash \`${src.datasetHash.slice(0, 16)}…\`, see signature.json):`, '');
  lines.push('| class | train | validation | test |', '|---|---|---|---|');
  for (const l of src.labels) {
    const r = perLabel.get(l) ?? { train: 0, validation: 0, test: 0 };
    lines.push(`| ${l} | ${r.train ?? 0} | ${r.validation ?? 0} | ${r.test ?? 0} |`);
  }
  lines.push('');
  lines.push('## How it was made', '');
  lines.push(`- Base model: **${sig.base.name}** (\`${sig.base.id}\`) — ${sig.base.source}.`);
  if (sig.base.id === 'mobilenet_v2' || sig.base.id === 'inception_v3') {
    lines.push(
      '  The built-in bases come from the npm package nsfwjs (MIT licence): ImageNet-initialised networks that the nsfwjs project fine-tuned on its own 5-class content task; their classifier was removed and a new one trained here.',
    );
  }
  lines.push(`- Strategy: ${STRATEGY_WORDS[src.run.strategy] ?? src.run.strategy}.`);
  const fused = (src.config.fused as { trunks?: { base: string; layers: string[]; inputSize: number }[] } | undefined)?.trunks;
  if (fused?.length) {
    // One model holds every trunk: say which, and that a smaller trunk resizes the picture itself.
    lines.push(
      `- Features fused from ${fused.map((t) => `\`${t.base}\` (layers ${t.layers.map((l) => `\`${l}\``).join(', ')}${t.inputSize !== src.config.inputSize ? `; the model resizes the picture to ${t.inputSize} px for it` : ''})`).join(' and ')}: each layer's average and strongest response, concatenated. Every one of these networks is inside the model files.`,
    );
  } else if (src.config.featureLayer)
    lines.push(
      `- Features taken from layer \`${String(src.config.featureLayer)}\`${src.config.boundary ? `; layers above \`${String(src.config.boundary)}\` were fine-tuned` : ''}.`,
    );
  lines.push(
    `- Settings: ${cfg.epochs} epoch${cfg.epochs === 1 ? '' : 's'}${src.run.strategy !== 'head' && cfg.warmupEpochs ? ` after ${warmupWords(src.run.strategy, cfg)}` : ''}, learning rate ${cfg.lr}, batch ${cfg.batchSize}, dropout ${cfg.dropout}, ` +
      `augmentation ${cfg.augmentedVariants > 0 ? `(${cfg.augmentedVariants} variants: flip ${cfg.augmentation.flip ? 'on' : 'off'}, rotate ±${cfg.augmentation.rotateDeg}°, zoom ${cfg.augmentation.zoom})` : 'off'}, labels balanced by weight ${cfg.classWeights ? 'on' : 'off'}, seed ${cfg.seed}.`,
  );
  const recipe = src.run.strategy === 'head' ? null : recipeWords(cfg);
  if (recipe) lines.push(`- Fine-tuning: ${recipe}.`);
  if (src.run.engine)
    lines.push(`- Trained on the ${src.run.engine} engine${src.run.durationMs ? ` in ${Math.round(src.run.durationMs / 1000)} s` : ''}.`);
  lines.push('');
  lines.push('## Known limits', '');
  const small = src.labels.filter((l) => (perLabel.get(l)?.train ?? 0) < 20);
  lines.push('- It knows only the labels above and will force any image into one of them.');
  lines.push(
    '- It learned from the images listed above; pictures unlike them (other styles, lighting, cameras, backgrounds) may be classified worse than the test accuracy suggests.',
  );
  if (m && m.testCount < 50) lines.push(`- The test split is small (${m.testCount} images): the accuracy above is a rough estimate.`);
  if (small.length) lines.push(`- Few training images for: ${small.join(', ')} (under 20 each).`);
  if (files.quantized) lines.push('- The TF.js weights are stored in 8 bits; the ONNX model keeps float weights.');
  lines.push('- The base model was pretrained by others on their data; its biases carry over.');
  lines.push('');
  return lines.join('\n');
}

export function writeJson(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}
