#!/usr/bin/env node
// Classifies images with the exported ONNX model (../../model.onnx), using exactly the
// preprocessing the app trained with (see ../../signature.json, "preprocessing"):
// EXIF orientation applied, transparency flattened on white, sRGB, the whole image
// letterboxed into the model's square input on white with Lanczos-3 resampling, RGB uint8
// pixels in NHWC order. Scaling to the network's range happens inside the model.
//
//   npm install
//   node classify.mjs photo.jpg [more.jpg ...] [--json]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sharp from 'sharp';
import * as ort from 'onnxruntime-node';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The export folder this example ships in. */
export const BUNDLE_DIR = path.resolve(HERE, '..', '..');

/** Image file (or bytes) → size×size×3 RGB uint8, the model's input contract. */
export async function preprocess(input, size) {
  const data = await sharp(input, { failOn: 'truncated' })
    .rotate() // EXIF orientation
    .flatten({ background: { r: 255, g: 255, b: 255 } }) // transparency onto white
    .toColourspace('srgb') // CMYK and grey to sRGB
    .resize(size, size, { fit: 'contain', background: { r: 255, g: 255, b: 255 }, kernel: 'lanczos3', fastShrinkOnLoad: false })
    .removeAlpha()
    .raw()
    .toBuffer();
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Loads model.onnx, labels.json and signature.json from an export folder. */
export async function loadModel(dir = BUNDLE_DIR) {
  const signature = JSON.parse(fs.readFileSync(path.join(dir, 'signature.json'), 'utf8'));
  const labels = JSON.parse(fs.readFileSync(path.join(dir, 'labels.json'), 'utf8'));
  const session = await ort.InferenceSession.create(path.join(dir, signature.onnx.file), { executionProviders: ['cpu'] });
  return { signature, labels, session };
}

/** Class probabilities for each input, in labels.json order, with the best label. */
export async function classify(model, inputs, batchSize = 8) {
  const [height, width] = model.signature.input.size;
  const results = [];
  for (let start = 0; start < inputs.length; start += batchSize) {
    const batch = inputs.slice(start, start + batchSize);
    const pixels = new Uint8Array(batch.length * height * width * 3);
    // Decoded together: sharp works on its own threads, so the batch's pictures decode side by side.
    const decoded = await Promise.all(batch.map((input) => preprocess(input, height)));
    decoded.forEach((p, i) => pixels.set(p, i * height * width * 3));
    const feeds = { [model.signature.onnx.input]: new ort.Tensor('uint8', pixels, [batch.length, height, width, 3]) };
    const output = (await model.session.run(feeds))[model.signature.onnx.output];
    const k = model.labels.length;
    for (let i = 0; i < batch.length; i++) {
      const probabilities = Float32Array.from(output.data.subarray(i * k, (i + 1) * k));
      let best = 0;
      for (let c = 1; c < k; c++) if (probabilities[c] > probabilities[best]) best = c;
      results.push({ input: batch[i], label: model.labels[best], probability: probabilities[best], probabilities });
    }
  }
  return results;
}

async function main(argv) {
  const json = argv.includes('--json');
  const files = argv.filter((a) => a !== '--json');
  if (files.length === 0) {
    console.error('Usage: node classify.mjs IMAGE... [--json]');
    return 2;
  }
  const model = await loadModel();
  const results = await classify(model, files);
  for (const r of results) console.log(`${r.input}: ${r.label} (${(r.probability * 100).toFixed(1)}%)`);
  if (json) {
    console.log(JSON.stringify(results.map((r) => ({ file: r.input, label: r.label, probability: r.probability, probabilities: Object.fromEntries(model.labels.map((l, i) => [l, r.probabilities[i]])) }))));
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 1;
    },
  );
}
