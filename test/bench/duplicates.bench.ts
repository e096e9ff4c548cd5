// npm run bench:duplicates — the near-duplicate finder on clipart-8 (528 pictures): time to hash
// one picture, how many generated copies (resized, recompressed, cropped by 3% or 5% a side, and
// all at once) land in their original's group by the hash alone, and how many of the originals
// are grouped with each other (clipart-8 does hold a few true near-duplicates: the same drawing
// twice, an apple with and without a worm). Prints a table and, last, one JSON line.
// With DUPLICATES_FEATURES=1 it also runs MobileNetV2 (ONNX Runtime, the layer runs on clipart-8
// read from) over all of them and repeats the grouping with features, as after a strategy-3 run.
//   DUPLICATES_EVERY=4   make copies of every 4th picture (default)
//   DUPLICATES_LAYER=block_13_expand_relu
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { hammingDistance, perceptualHash } from '../../electron/core/duplicates/phash.js';
import { nearDuplicateGroups, type Hashed } from '../../electron/core/duplicates/groups.js';
import { CLIPART } from '../fixtures/datasets.js';
import { loadBase, readBaseInfo } from '../fixtures/environment.js';
import { convertToOnnxDetailed, runPipeline } from '../../electron/core/engine/onnx/index.js';
import { createOnnxSession } from '../../native/onnx-runtime.js';
import { decodeForModel } from '../../electron/core/import/preprocess.js';

const every = Number(process.env.DUPLICATES_EVERY ?? 4);
const files: string[] = [];
for (const label of fs.readdirSync(CLIPART).sort()) {
  const dir = path.join(CLIPART, label);
  if (fs.statSync(dir).isDirectory()) for (const f of fs.readdirSync(dir).sort()) files.push(path.join(dir, f));
}
const bytes = files.map((f) => fs.readFileSync(f));
await perceptualHash(bytes[0]!); // warm sharp up
const started = performance.now();
const hashes: string[] = [];
for (const b of bytes) hashes.push(await perceptualHash(b));
const msPerImage = (performance.now() - started) / bytes.length;

const originals: Hashed[] = hashes.map((phash, i) => ({ imageId: i, phash, features: null }));
const groupedOriginals = nearDuplicateGroups(originals).reduce((s, g) => s + g.imageIds.length, 0);

async function copies(b: Buffer): Promise<Record<string, Buffer>> {
  const { width = 0, height = 0 } = await sharp(b).metadata();
  const crop = (f: number) => ({
    left: Math.floor(width * f),
    top: Math.floor(height * f),
    width: Math.floor(width * (1 - 2 * f)),
    height: Math.floor(height * (1 - 2 * f)),
  });
  return {
    'resized 50%': await sharp(b)
      .resize(Math.round(width * 0.5))
      .png()
      .toBuffer(),
    'JPEG quality 30': await sharp(b).flatten({ background: '#fff' }).jpeg({ quality: 30 }).toBuffer(),
    'cropped 3%': await sharp(b).extract(crop(0.03)).png().toBuffer(),
    'cropped 5%': await sharp(b).extract(crop(0.05)).png().toBuffer(),
    'cropped 3% + 70% + JPEG 50': await sharp(b)
      .extract(crop(0.03))
      .resize(Math.round(width * 0.7))
      .flatten({ background: '#fff' })
      .jpeg({ quality: 50 })
      .toBuffer(),
  };
}

let next = files.length;
const withCopies: Hashed[] = [...originals];
const allBytes: Buffer[] = [...bytes];
const copyOf = new Map<number, { original: number; kind: string }>();
for (let i = 0; i < files.length; i += every)
  for (const [kind, b] of Object.entries(await copies(bytes[i]!))) {
    withCopies.push({ imageId: next, phash: await perceptualHash(b), features: null });
    allBytes.push(b);
    copyOf.set(next++, { original: i, kind });
  }
function detection(
  items: Hashed[],
  confirm?: number,
): { found: Record<string, { found: number; total: number }>; groupedOriginals: number } {
  const groupOf = new Map<number, number[]>();
  for (const g of nearDuplicateGroups(items, confirm)) for (const id of g.imageIds) groupOf.set(id, g.imageIds);
  const found: Record<string, { found: number; total: number }> = {};
  for (const [id, { original, kind }] of copyOf) {
    const f = (found[kind] ??= { found: 0, total: 0 });
    f.total++;
    if (groupOf.get(id)?.includes(original)) f.found++;
  }
  const groupedOriginals = nearDuplicateGroups(items.slice(0, files.length), confirm).reduce((s, g) => s + g.imageIds.length, 0);
  return { found, groupedOriginals };
}
const found = detection(withCopies).found;

async function withFeatures(): Promise<ReturnType<typeof detection> & { layer: string }> {
  const info = readBaseInfo('mobilenet_v2');
  const layer = process.env.DUPLICATES_LAYER ?? 'block_13_expand_relu';
  const model = await loadBase('mobilenet_v2');
  const { bytes: onnx } = convertToOnnxDetailed(model, { inputScaling: info.scaling, outputs: [{ layer, pool: 'avg' }] });
  model.dispose();
  const { session } = await createOnnxSession(onnx);
  const decode = async (i: number) => (await decodeForModel(allBytes[i]!, info.inputSize)).data;
  const out = await runPipeline(session, { batchSize: 16, count: allBytes.length, decode });
  await session.release();
  const flat = out.outputs[`${layer}_avg`]!;
  const dim = flat.length / allBytes.length;
  const items = withCopies.map((it, i) => ({ ...it, features: Float32Array.from(flat.slice(i * dim, (i + 1) * dim)) }));
  if (process.env.DUPLICATES_DUMP) {
    dump(items);
    for (const c of [0.7, 0.8, 0.85, 0.9, 0.95]) console.log('confirm', c, JSON.stringify(detection(items, c)));
  }
  return { ...detection(items), layer };
}
const features = process.env.DUPLICATES_FEATURES ? await withFeatures() : null;

console.log(`hash: ${msPerImage.toFixed(2)} ms per picture (${bytes.length} clipart-8 files, one at a time)`);
for (const [kind, f] of Object.entries(found))
  console.log(`${kind.padEnd(28)} ${f.found}/${f.total} found with their original (${Math.round((f.found / f.total) * 100)}%)`);
console.log(`originals grouped with another original: ${groupedOriginals} of ${files.length}`);
if (features) {
  console.log(`with MobileNetV2 ${features.layer} features:`);
  for (const [kind, f] of Object.entries(features.found))
    console.log(`${kind.padEnd(28)} ${f.found}/${f.total} found with their original (${Math.round((f.found / f.total) * 100)}%)`);
  console.log(`originals grouped with another original: ${features.groupedOriginals} of ${files.length}`);
}
console.log(JSON.stringify({ msPerImage: Math.round(msPerImage * 100) / 100, found, groupedOriginals, originals: files.length, features }));

function dump(items: Hashed[]): void {
  const mean = new Float32Array(items[0]!.features!.length);
  for (const it of items) it.features!.forEach((v, k) => (mean[k]! += v / items.length));
  const centred = items.map((it) => it.features!.map((v, k) => v - mean[k]!));
  const cos = (a: Float32Array, b: Float32Array) => {
    let d = 0,
      x = 0,
      y = 0;
    for (let k = 0; k < a.length; k++) {
      d += a[k]! * b[k]!;
      x += a[k]! ** 2;
      y += b[k]! ** 2;
    }
    return d / Math.sqrt(x * y);
  };
  const copies: number[][] = [],
    unrelated: number[][] = [];
  const isCopy = (i: number, j: number) =>
    copyOf.get(j)?.original === i ||
    copyOf.get(i)?.original === j ||
    (copyOf.has(i) && copyOf.has(j) && copyOf.get(i)!.original === copyOf.get(j)!.original);
  for (let i = 0; i < items.length; i++)
    for (let j = i + 1; j < items.length; j++) {
      const d = hammingDistance(items[i]!.phash, items[j]!.phash);
      if (d > 20) continue;
      (isCopy(i, j) ? copies : unrelated).push([d, cos(items[i]!.features!, items[j]!.features!), cos(centred[i]!, centred[j]!)]);
    }
  const q = (xs: number[], p: number) => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor(p * (s.length - 1))]!.toFixed(3);
  };
  for (const [name, rows] of [
    ['copies', copies],
    ['unrelated', unrelated],
  ] as const)
    console.log(
      name,
      rows.length,
      'raw q01/q50/q99',
      q(
        rows.map((r) => r[1]!),
        0.01,
      ),
      q(
        rows.map((r) => r[1]!),
        0.5,
      ),
      q(
        rows.map((r) => r[1]!),
        0.99,
      ),
      'centred q01/q50/q99/max',
      q(
        rows.map((r) => r[2]!),
        0.01,
      ),
      q(
        rows.map((r) => r[2]!),
        0.5,
      ),
      q(
        rows.map((r) => r[2]!),
        0.99,
      ),
      q(
        rows.map((r) => r[2]!),
        1,
      ),
    );
}
