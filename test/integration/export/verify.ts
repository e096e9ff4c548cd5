// verify-export: an untouched export passes; a changed, missing or extra file is listed and fails.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { bundle, dir, verify } from './fixture.js';

describe('studio verify-export', () => {
  it('passes an untouched export and the zip leaves it untouched', () => {
    const r = verify(bundle.dir);
    expect(r.code, r.lines.join('\n')).toBe(0);
    expect(r.lines.join('\n')).toMatch(/OK: all \d+ files match/);
  });

  it('catches a changed byte, a missing file and an extra file, and exits non-zero with the list', () => {
    const copy = fs.mkdtempSync(path.join(dir, 'tampered-'));
    fs.cpSync(bundle.dir, copy, { recursive: true });
    const onnx = path.join(copy, 'model.onnx');
    const bytes = fs.readFileSync(onnx);
    const at = bytes.length >> 1;
    bytes[at] = bytes[at]! ^ 0x01;
    fs.writeFileSync(onnx, bytes);
    let r = verify(copy);
    expect(r.code).toBe(1);
    expect(r.lines).toContain('changed: model.onnx (contents differ (sha256 mismatch))');

    fs.rmSync(path.join(copy, 'labels.json'));
    fs.writeFileSync(path.join(copy, 'web-demo', 'extra.js'), 'alert(1)');
    r = verify(copy);
    expect(r.code).toBe(1);
    expect(r.lines).toEqual(
      expect.arrayContaining([
        'missing: labels.json',
        'not in the manifest: web-demo/extra.js',
        'changed: model.onnx (contents differ (sha256 mismatch))',
      ]),
    );
    const last = JSON.parse(r.lines[r.lines.length - 1]!);
    expect(last).toMatchObject({ ok: false, missing: ['labels.json'], extra: ['web-demo/extra.js'] });
  });

  it('says so when there is no manifest', () => {
    const empty = fs.mkdtempSync(path.join(dir, 'empty-'));
    const r = verify(empty);
    expect(r.code).toBe(1);
    expect(r.lines[0]).toMatch(/no manifest\.json/);
  });
});
