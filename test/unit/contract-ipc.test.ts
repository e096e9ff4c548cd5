// The desktop transport's gatekeeping, testable without Electron: which page may call the core,
// and the CSP every window response carries.
import { describe, expect, it } from 'vitest';
import { CSP, isTrustedPageUrl } from '../../electron/main/security.js';
import { coreArgs, readCoreArgs } from '../../electron/main/core-messages.js';
import { parseImagePath } from '../../electron/shared/image-path.js';

describe('IPC sender check', () => {
  it('trusts only pages of app://studio/', () => {
    expect(isTrustedPageUrl('app://studio/index.html')).toBe(true);
    expect(isTrustedPageUrl('app://studio/')).toBe(true);
    for (const url of [
      'app://evil/index.html',
      'https://studio/index.html',
      'file:///app/dist/renderer/index.html',
      'http://127.0.0.1:5173/',
      'studio-image://img/thumb/1',
      'app://studio.evil/x',
      'app://user@studio.evil/',
      '',
      null,
      undefined,
      'not a url',
    ]) {
      expect(isTrustedPageUrl(url), String(url)).toBe(false);
    }
  });
});

describe('desktop CSP', () => {
  it('allows only our own scripts and our image scheme', () => {
    expect(CSP).toContain("script-src 'self'");
    expect(CSP).not.toMatch(/script-src[^;]*(unsafe|http|\*)/);
    expect(CSP).toMatch(/img-src[^;]*studio-image:/);
    expect(CSP).toContain("object-src 'none'");
  });
});

describe('image URLs', () => {
  it('accepts only /img/<thumb|full>/<positive id>', () => {
    expect(parseImagePath('/img/thumb/12')).toEqual({ variant: 'thumb', id: 12 });
    expect(parseImagePath('/img/full/1')).toEqual({ variant: 'full', id: 1 });
    for (const p of [
      '/img/thumb/0',
      '/img/thumb/-1',
      '/img/thumb/1.5',
      '/img/thumb/1/',
      '/img/raw/1',
      '/img/thumb/../1',
      '/img/thumb/9999999999999999',
      '/img/thumb/1?x',
      '/img/thumb/%31',
    ]) {
      expect(parseImagePath(p), p).toBeNull();
    }
  });
});

describe('core process arguments', () => {
  it('round-trip, and refuse a start without a data folder', () => {
    expect(readCoreArgs(['node', 'x', ...coreArgs('/d', '/n.node')])).toEqual({ dataDir: '/d', nativeBinding: '/n.node' });
    expect(readCoreArgs(['node', 'x', ...coreArgs('/d', null)])).toEqual({ dataDir: '/d', nativeBinding: null });
    expect(() => readCoreArgs(['node', 'x'])).toThrow(/data-dir/);
  });
});
