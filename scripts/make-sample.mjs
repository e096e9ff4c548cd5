// Draws the sample project's pictures (resources/sample/images/<label>/*.png): simple scenes of a
// sun, a tree or a house, each with its own colours, size, place and background, from a seeded
// random generator so the same files come out every time. Made here, not downloaded: the app must
// work offline and their licence is ours to give (CC0, see resources/sample/LICENSE.txt).
//   node scripts/make-sample.mjs
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

const OUT = path.resolve(import.meta.dirname, '..', 'resources', 'sample', 'images');
const SIZE = 160;
const PER_LABEL = 30;

// mulberry32: small, seeded, good enough for drawing.
function rng(seed) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const between = (r, a, b) => a + (b - a) * r();
const hsl = (h, s, l) => `hsl(${Math.round(h)},${Math.round(s)}%,${Math.round(l)}%)`;

function sun(r, cx, cy, k) {
  const radius = 26 * k;
  const colour = hsl(between(r, 38, 55), between(r, 85, 100), between(r, 50, 60));
  const rays = Math.round(between(r, 8, 13));
  const turn = between(r, 0, Math.PI);
  let s = '';
  for (let i = 0; i < rays; i++) {
    const a = turn + (i / rays) * 2 * Math.PI;
    const x1 = cx + Math.cos(a) * radius * 1.25;
    const y1 = cy + Math.sin(a) * radius * 1.25;
    const x2 = cx + Math.cos(a) * radius * 1.8;
    const y2 = cy + Math.sin(a) * radius * 1.8;
    s += `<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="${colour}" stroke-width="${4 * k}" stroke-linecap="round"/>`;
  }
  return `${s}<circle cx="${cx}" cy="${cy}" r="${radius}" fill="${colour}"/>`;
}

function tree(r, cx, cy, k) {
  const trunk = hsl(between(r, 20, 32), 45, between(r, 25, 35));
  const leaves = hsl(between(r, 95, 140), between(r, 45, 70), between(r, 28, 42));
  const t = `<rect x="${cx - 6 * k}" y="${cy + 10 * k}" width="${12 * k}" height="${40 * k}" fill="${trunk}"/>`;
  if (r() < 0.5) {
    // A round crown of three circles.
    return `${t}<circle cx="${cx}" cy="${cy - 8 * k}" r="${26 * k}" fill="${leaves}"/><circle cx="${cx - 18 * k}" cy="${cy + 6 * k}" r="${18 * k}" fill="${leaves}"/><circle cx="${cx + 18 * k}" cy="${cy + 6 * k}" r="${18 * k}" fill="${leaves}"/>`;
  }
  // A pine: stacked triangles.
  let s = t;
  for (let i = 0; i < 3; i++) {
    const top = cy - 40 * k + i * 18 * k;
    const w = (22 + i * 8) * k;
    s += `<polygon points="${cx},${top} ${cx - w},${top + 30 * k} ${cx + w},${top + 30 * k}" fill="${leaves}"/>`;
  }
  return s;
}

function house(r, cx, cy, k) {
  const wall = hsl(between(r, 0, 360), between(r, 20, 60), between(r, 55, 75));
  const roof = hsl(between(r, 0, 25), between(r, 50, 75), between(r, 30, 45));
  const w = 30 * k;
  const top = cy - 5 * k;
  return (
    `<rect x="${cx - w}" y="${top}" width="${2 * w}" height="${44 * k}" fill="${wall}" stroke="#333" stroke-width="${1.5 * k}"/>` +
    `<polygon points="${cx - w - 6 * k},${top} ${cx},${top - 32 * k} ${cx + w + 6 * k},${top}" fill="${roof}"/>` +
    `<rect x="${cx - 7 * k}" y="${top + 20 * k}" width="${14 * k}" height="${24 * k}" fill="#5b3a1e"/>` +
    `<rect x="${cx + 12 * k}" y="${top + 8 * k}" width="${12 * k}" height="${10 * k}" fill="#bfe3ff" stroke="#333" stroke-width="${k}"/>`
  );
}

const DRAW = { sun, tree, house };

fs.rmSync(OUT, { recursive: true, force: true });
let total = 0;
for (const [n, [label, draw]] of Object.entries(DRAW).entries()) {
  fs.mkdirSync(path.join(OUT, label), { recursive: true });
  for (let i = 0; i < PER_LABEL; i++) {
    const r = rng(1000 * (n + 1) + i);
    const k = between(r, 0.8, 1.35);
    const cx = between(r, 55, SIZE - 55);
    const cy = between(r, 60, SIZE - 60);
    const sky = hsl(between(r, 0, 360), between(r, 10, 45), between(r, 82, 95));
    const ground =
      r() < 0.5 ? `<rect x="0" y="${SIZE * 0.8}" width="${SIZE}" height="${SIZE * 0.2}" fill="${hsl(between(r, 60, 120), 30, 70)}"/>` : '';
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${SIZE}" height="${SIZE}"><rect width="100%" height="100%" fill="${sky}"/>${ground}${draw(r, cx, cy, k)}</svg>`;
    const file = path.join(OUT, label, `${label}-${String(i + 1).padStart(2, '0')}.png`);
    await sharp(Buffer.from(svg)).png({ palette: true, colours: 64, compressionLevel: 9 }).toFile(file);
    total += fs.statSync(file).size;
  }
}
console.log(`wrote ${Object.keys(DRAW).length * PER_LABEL} pictures, ${(total / 1024).toFixed(0)} KB, to ${OUT}`);
