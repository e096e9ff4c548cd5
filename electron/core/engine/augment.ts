// Augmentation on RGB uint8 pixels (the one input contract), so strategy 1 augments exactly what
// the model sees and strategies 2–3 cache a fixed number of augmented variants per image.
// One inverse affine map (flip, rotation, zoom, offset) with bilinear sampling, white outside
// (matching the letterbox fill), then brightness and contrast.
import { rng } from './seeded.js';

export interface Augmentation {
  flip: boolean;
  /** Max rotation either way, degrees. */
  rotateDeg: number;
  /** Max zoom-in, as a fraction (0.15 = up to 15% crop). */
  zoom: number;
  /** Max brightness change, as a fraction of the range. */
  brightness: number;
  /** Max contrast change, as a fraction. */
  contrast: number;
}

export const DEFAULT_AUGMENTATION: Augmentation = { flip: true, rotateDeg: 10, zoom: 0.1, brightness: 0.1, contrast: 0.1 };
export const NO_AUGMENTATION: Augmentation = { flip: false, rotateDeg: 0, zoom: 0, brightness: 0, contrast: 0 };

/** A new image, size×size×3, drawn from `seed`. The same seed gives the same image. */
export function augment(src: Uint8Array, size: number, a: Augmentation, seed: number): Uint8Array {
  const r = rng(seed);
  const flip = a.flip && r() < 0.5 ? -1 : 1;
  const angle = ((r() * 2 - 1) * a.rotateDeg * Math.PI) / 180;
  const zoom = 1 + r() * a.zoom;
  const slack = (1 - 1 / zoom) * size; // room to move the crop inside the image
  const dx = (r() - 0.5) * slack;
  const dy = (r() - 0.5) * slack;
  const bright = (r() * 2 - 1) * a.brightness * 255;
  const contrast = 1 + (r() * 2 - 1) * a.contrast;
  const cos = Math.cos(angle) / zoom;
  const sin = Math.sin(angle) / zoom;
  const c = (size - 1) / 2;
  const out = new Uint8Array(size * size * 3);
  // The four neighbours' weights and offsets are found once per pixel and shared by its three
  // channels (strategy 1 augments every image of every batch: this loop is on its critical path).
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const u = (x - c) * flip;
      const v = y - c;
      const sx = cos * u - sin * v + c + dx;
      const sy = sin * u + cos * v + c + dy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const i00 = offset(size, x0, y0);
      const i10 = offset(size, x0 + 1, y0);
      const i01 = offset(size, x0, y0 + 1);
      const i11 = offset(size, x0 + 1, y0 + 1);
      const o = (y * size + x) * 3;
      for (let ch = 0; ch < 3; ch++) {
        const p00 = i00 < 0 ? 255 : src[i00 + ch]!;
        const p10 = i10 < 0 ? 255 : src[i10 + ch]!;
        const p01 = i01 < 0 ? 255 : src[i01 + ch]!;
        const p11 = i11 < 0 ? 255 : src[i11 + ch]!;
        // Bilinear, white outside the image (the letterbox fill).
        const value = (p00 * (1 - fx) + p10 * fx) * (1 - fy) + (p01 * (1 - fx) + p11 * fx) * fy;
        out[o + ch] = clamp((value - 127.5) * contrast + 127.5 + bright);
      }
    }
  return out;
}

/** Where pixel (x, y) starts in the RGB buffer, or −1 outside the image. */
function offset(size: number, x: number, y: number): number {
  return x < 0 || y < 0 || x >= size || y >= size ? -1 : (y * size + x) * 3;
}

const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));
