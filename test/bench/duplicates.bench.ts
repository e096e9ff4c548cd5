// npm run bench:duplicates — the near-duplicate finder on clipart-8 (528 pictures): time to hash
// one picture, how many generated copies (resized, recompressed, cropped by 3% or 5% a side, and
// all at once) land in their original's group by the hash alone, and how many of the originals
// are grouped with each other (clipart-8 does hold a few true near-duplicates: the same drawing
// twice, an apple with and without a worm). Prints a table and, last, one JSON line.
//   DUPLICATES_EVERY=4   make copies of every 4th picture (default)
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { perceptualHash } from '../../electron/core/duplicates/phash.js';
import { nearDuplicateGroups, type Hashed } from '../../electron/core/duplicates/groups.js';
import { CLIPART } from '../fixtures/datasets.js';

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

const found: Record<string, { found: number; total: number }> = {};
let next = files.length;
const withCopies: Hashed[] = [...originals];
const copyOf = new Map<number, { original: number; kind: string }>();
for (let i = 0; i < files.length; i += every)
  for (const [kind, b] of Object.entries(await copies(bytes[i]!))) {
    withCopies.push({ imageId: next, phash: await perceptualHash(b), features: null });
    copyOf.set(next++, { original: i, kind });
  }
const groupOf = new Map<number, number[]>();
for (const g of nearDuplicateGroups(withCopies)) for (const id of g.imageIds) groupOf.set(id, g.imageIds);
for (const [id, { original, kind }] of copyOf) {
  const f = (found[kind] ??= { found: 0, total: 0 });
  f.total++;
  if (groupOf.get(id)?.includes(original)) f.found++;
}
console.log(`hash: ${msPerImage.toFixed(2)} ms per picture (${bytes.length} clipart-8 files, one at a time)`);
for (const [kind, f] of Object.entries(found))
  console.log(`${kind.padEnd(28)} ${f.found}/${f.total} found with their original (${Math.round((f.found / f.total) * 100)}%)`);
console.log(`originals grouped with another original: ${groupedOriginals} of ${files.length}`);
console.log(JSON.stringify({ msPerImage: Math.round(msPerImage * 100) / 100, found, groupedOriginals, originals: files.length }));
