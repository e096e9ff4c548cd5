// The perceptual hash and the grouping rules, on pixels made here (no files, no database).
import { describe, it, expect } from 'vitest';
import { hashGrey, hammingDistance } from '../../electron/core/duplicates/phash.js';
import { leakOf, linked, nearDuplicateGroups, HASH_ALONE, type Hashed } from '../../electron/core/duplicates/groups.js';

const SIDE = 32;
const picture = (f: (x: number, y: number) => number) => Array.from({ length: SIDE * SIDE }, (_, i) => f(i % SIDE, Math.floor(i / SIDE)));
const blob = (cx: number, cy: number) => picture((x, y) => ((x - cx) ** 2 + (y - cy) ** 2 < 64 ? 20 : 235));

describe('perceptual hash', () => {
  it('is 16 hex digits, the same for the same pixels, and ignores overall brightness and contrast', () => {
    const a = blob(10, 12);
    const h = hashGrey(a);
    expect(h).toMatch(/^[0-9a-f]{16}$/);
    expect(hashGrey([...a])).toBe(h);
    expect(hashGrey(a.map((v) => v * 0.5 + 40))).toBe(h);
  });

  it('moves a few bits under small noise, and many for a different picture', () => {
    const a = blob(10, 12);
    let s = 1;
    const noisy = a.map((v) => v + (((s = (s * 1103515245 + 12345) % 2 ** 31) % 21) - 10));
    expect(hammingDistance(hashGrey(a), hashGrey(noisy))).toBeLessThanOrEqual(HASH_ALONE);
    expect(hammingDistance(hashGrey(a), hashGrey(blob(22, 20)))).toBeGreaterThan(16);
    expect(hammingDistance(hashGrey(a), hashGrey(picture((x, y) => (((x >> 2) + (y >> 2)) % 2 ? 250 : 10))))).toBeGreaterThan(16);
  });

  it('counts differing bits', () => {
    expect(hammingDistance('0000000000000000', '0000000000000000')).toBe(0);
    expect(hammingDistance('ffffffffffffffff', '0000000000000000')).toBe(64);
    expect(hammingDistance('8000000000000001', '0000000000000000')).toBe(2);
  });

  it('refuses a wrong pixel count', () => {
    expect(() => hashGrey([1, 2, 3])).toThrow(/1024 grey pixels/);
  });
});

describe('near-duplicate groups', () => {
  const f = (...v: number[]) => Float32Array.from(v);
  const item = (imageId: number, phash: string, features: Float32Array | null = null): Hashed => ({ imageId, phash, features });

  it('links a close hash alone, a looser one only when features confirm, and lets features veto', () => {
    const a = item(1, '0000000000000000');
    expect(linked(a, item(2, '000000000000000f'), 4).yes).toBe(true);
    expect(linked(a, item(2, '00000000000000ff'), 8).yes).toBe(false);
    expect(linked(item(1, '0', f(1, 0, 0)), item(2, '0', f(0.99, 0.05, 0)), 12)).toMatchObject({ yes: true });
    expect(linked(item(1, '0', f(1, 0, 0)), item(2, '0', f(0.7, 0.7, 0)), 12).yes).toBe(false);
    expect(linked(item(1, '0', f(1, 0, 0)), item(2, '0', f(0, 1, 0)), 2).yes).toBe(false);
  });

  it('joins chains into one group and leaves unrelated pictures out', () => {
    const groups = nearDuplicateGroups([
      item(5, '0000000000000000'),
      item(9, 'ffffffff00000000'),
      item(7, '000000000000000f'),
      item(3, '00000000000000ff'),
      item(4, 'ffffffffffffffff'),
    ]);
    expect(groups).toEqual([{ imageIds: [3, 5, 7], distance: 4, similarity: null }]);
  });

  it('names a leak only when training shares a group with checking or test pictures, and moves to the majority split', () => {
    expect(leakOf(['train', 'train'])).toBeNull();
    expect(leakOf(['validation', 'test'])).toBeNull();
    expect(leakOf(['train', null])).toBeNull();
    expect(leakOf(['train', 'test'])).toEqual({ splits: ['train', 'test'], moveTo: 'train' });
    expect(leakOf(['test', 'train', 'test', 'validation'])).toEqual({ splits: ['train', 'validation', 'test'], moveTo: 'test' });
  });
});
