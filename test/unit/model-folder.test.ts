// The pure parts of model folder checking: manifest paths and input scaling.
import { describe, expect, it } from 'vitest';
import { safeRelativePath } from '../../electron/core/models/validate.js';
import { readScaling, scalingFromChoice } from '../../electron/core/models/scaling.js';
import { ModelStoreError } from '../../electron/core/models/errors.js';

function reason(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    return err instanceof ModelStoreError ? err.reason : `other: ${(err as Error).message}`;
  }
}

describe('manifest paths', () => {
  it.each([
    ['weights.bin', 'weights.bin'],
    ['./group1-shard1of2.bin', 'group1-shard1of2.bin'],
    ['sub/dir/w.bin', 'sub/dir/w.bin'],
    ['sub\\w.bin', 'sub/w.bin'],
  ])('accepts %s as %s', (p, want) => {
    expect(safeRelativePath(p, 'Weight file')).toBe(want);
  });

  it.each([
    ['../weights.bin', 'unsafePath'],
    ['a/../../weights.bin', 'unsafePath'],
    ['..\\weights.bin', 'unsafePath'],
    ['/etc/passwd', 'unsafePath'],
    ['C:\\Windows\\win.ini', 'unsafePath'],
    ['c:weights.bin', 'unsafePath'],
    ['\\\\server\\share\\w.bin', 'unsafePath'],
    ['https://example.com/w.bin', 'unsafePath'],
    ['file:///etc/passwd', 'unsafePath'],
    ['w\0.bin', 'unsafePath'],
    ['', 'badManifest'],
    ['./', 'badManifest'],
    ['model.json', 'badManifest'],
    ['metadata.json', 'badManifest'],
  ])('refuses %j (%s)', (p, want) => {
    expect(reason(() => safeRelativePath(p, 'Weight file'))).toBe(want);
  });

  it('refuses non-strings', () => {
    expect(reason(() => safeRelativePath(42, 'Weight file'))).toBe('badManifest');
  });
});

describe('input scaling', () => {
  it('maps the three dialog choices', () => {
    expect(scalingFromChoice('[0,1]')).toEqual({ from: [0, 255], to: [0, 1] });
    expect(scalingFromChoice('[-1,1]')).toEqual({ from: [0, 255], to: [-1, 1] });
    expect(scalingFromChoice('[0,255]')).toEqual({ from: [0, 255], to: [0, 255] });
  });

  it('reads what folders write', () => {
    expect(readScaling(undefined)).toBeUndefined();
    expect(readScaling(' [-1, 1] ')).toEqual({ from: [0, 255], to: [-1, 1] });
    expect(readScaling([0, 1])).toEqual({ from: [0, 255], to: [0, 1] });
    expect(readScaling({ min: -1, max: 1 })).toEqual({ from: [0, 255], to: [-1, 1] });
    expect(readScaling({ from: [0, 255], to: [0, 1] })).toEqual({ from: [0, 255], to: [0, 1] });
  });

  it.each([['[0,2]'], ['imagenet'], [[1, 1]], [{ min: 0 }], [{ from: [0, 255] }], [7]])('refuses %j rather than guessing', (v) => {
    expect(() => readScaling(v)).toThrow(/not one we can read/);
  });
});
