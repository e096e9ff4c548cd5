// Augmentation is seeded (same seed, same image), does nothing when switched off, and a flip
// is a mirror image.
import { it, expect } from 'vitest';
import { augment, DEFAULT_AUGMENTATION, NO_AUGMENTATION } from '../../electron/core/engine/augment.js';

const size = 16;
const src = Uint8Array.from({ length: size * size * 3 }, (_, i) => (i * 37) % 256);

it('is reproducible for a seed and varies across seeds', () => {
  const a = augment(src, size, DEFAULT_AUGMENTATION, 5);
  expect(augment(src, size, DEFAULT_AUGMENTATION, 5)).toEqual(a);
  expect(augment(src, size, DEFAULT_AUGMENTATION, 6)).not.toEqual(a);
});

it('returns the image unchanged when every option is off', () => {
  expect(augment(src, size, NO_AUGMENTATION, 1)).toEqual(src);
});

it('flips horizontally when it flips', () => {
  const flipOnly = { ...NO_AUGMENTATION, flip: true };
  const seeds = [1, 2, 3, 4, 5, 6, 7, 8].map((s) => augment(src, size, flipOnly, s));
  const mirrored = seeds.find((img) => !img.every((v, i) => v === src[i]))!;
  expect(mirrored).toBeDefined();
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++)
      for (let c = 0; c < 3; c++) expect(mirrored[(y * size + x) * 3 + c]).toBe(src[(y * size + (size - 1 - x)) * 3 + c]);
});
