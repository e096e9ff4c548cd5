// npm run bench:library — the dataset library's speed goals in one run:
// import throughput (Debian's openclipart-png, ~8,100 images), grid page query and bulk
// labeling on 100,000 images, and the grid's scroll frame time in Chromium.
import { runImportBench } from './import.bench.js';
import { runDbBench } from './library-db.bench.js';
import { runGridScrollBench } from './grid-scroll.bench.js';

const only = new Set(process.argv.slice(2));
const want = (name: string) => only.size === 0 || only.has(name);
const results: Record<string, unknown> = {};

if (want('import')) {
  const r = await runImportBench();
  results.import = r;
  console.log(`import: ${r.images} images in ${r.seconds.toFixed(1)} s = ${r.imagesPerSecond.toFixed(0)} images/s (target ≥ 150)`);
}
if (want('db')) {
  const r = await runDbBench();
  results.db = r;
  console.log(
    `grid page query p95: ${r.pageQueryP95Ms} ms (target ≤ 5); label 10,000 p95: ${r.label10kP95Ms} ms (target ≤ 300) on ${r.images} images`,
  );
}
if (want('scroll')) {
  const r = await runGridScrollBench();
  results.scroll = r;
  console.log(`grid scroll p95 frame: ${r.p95FrameMs} ms (target < 20), at most ${r.maxImgElements} <img> elements in the page`);
}
console.log(JSON.stringify({ bench: 'library', ...results }));
