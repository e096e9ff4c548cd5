// The export's small parts on their own: migration 004, uint8 weight quantization, the parity
// verdicts, the zip writer, and the manifest check's handling of hostile manifests.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { migrate } from '../../electron/core/db/connection.js';
import { migrations } from '../../electron/core/db/migrations/index.js';
import { quantizeUint8, MIN_QUANTIZED_ELEMENTS, type TfjsArtifacts } from '../../electron/core/export/tfjs-artifacts.js';
import { judge, summarise } from '../../electron/core/export/parity.js';
import { zipBytes } from '../../electron/core/export/zip.js';
import { verifyExport, writeManifest } from '../../electron/core/export/manifest.js';
import { datasetHash } from '../../electron/core/export/run-source.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'export-parts-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('migration 004', () => {
  it('adds the exports table on top of 003, with its checks, and cascades with the run', () => {
    const db = new Database(path.join(dir, 'm.db'));
    db.pragma('foreign_keys = ON');
    migrate(
      db,
      migrations.filter((m) => m.version < 4),
    );
    db.prepare("INSERT INTO projects (name) VALUES ('p')").run();
    db.prepare("INSERT INTO runs (project_id, base_id, strategy, config, status) VALUES (1, 'b', 'head', '{}', 'done')").run();
    migrate(
      db,
      migrations.filter((m) => m.version <= 4),
    );
    expect(db.pragma('user_version', { simple: true })).toBe(4);
    db.prepare("INSERT INTO exports (run_id, format, parts, quantized) VALUES (1, 'bundle', '[]', 0)").run();
    expect(() => db.prepare("INSERT INTO exports (run_id, format, parts) VALUES (1, 'zip', '[]')").run()).toThrow(/CHECK/);
    expect(() => db.prepare("INSERT INTO exports (run_id, format, parts, status) VALUES (1, 'onnx', '[]', 'shipped')").run()).toThrow(
      /CHECK/,
    );
    expect(db.prepare('SELECT status FROM exports').get()).toEqual({ status: 'running' });
    db.prepare('DELETE FROM runs').run();
    expect(db.prepare('SELECT COUNT(*) AS n FROM exports').get()).toEqual({ n: 0 });
    db.close();
  });
});

describe('uint8 weight quantization', () => {
  const artifacts = (values: Float32Array[], dtype: 'float32' | 'int32' = 'float32'): TfjsArtifacts => ({
    modelTopology: {},
    weightSpecs: values.map((v, i) => ({ name: `w${i}`, shape: [v.length], dtype })),
    weightData: Buffer.concat(values.map((v) => Buffer.from(v.buffer))),
    quantized: false,
  });

  it('stores large float tensors as one byte a value with min/scale, within half a step', () => {
    const n = MIN_QUANTIZED_ELEMENTS * 2;
    const w = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 0.7 - 0.1);
    const small = Float32Array.from([1.5, -2, 3]);
    const q = quantizeUint8(artifacts([w, small]));
    expect(q.weightData.length).toBe(n + small.length * 4);
    const spec = q.weightSpecs[0]!;
    expect(spec.quantization).toMatchObject({ dtype: 'uint8' });
    expect(q.weightSpecs[1]!.quantization).toBeUndefined();
    const { min, scale } = spec.quantization as { min: number; scale: number };
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(min + q.weightData[i]! * scale - w[i]!));
    expect(worst).toBeLessThanOrEqual(scale / 2 + 1e-7);
    expect(new Float32Array(q.weightData.buffer.slice(q.weightData.byteOffset + n, q.weightData.byteOffset + n + 12))).toEqual(small);
  });

  it('leaves a constant tensor exact and int32 tensors alone', () => {
    const c = new Float32Array(MIN_QUANTIZED_ELEMENTS).fill(0.25);
    const q = quantizeUint8(artifacts([c]));
    const { min, scale } = q.weightSpecs[0]!.quantization as { min: number; scale: number };
    expect(min + q.weightData[5]! * scale).toBe(0.25);
    const ints = quantizeUint8(artifacts([new Float32Array(MIN_QUANTIZED_ELEMENTS)], 'int32'));
    expect(ints.weightSpecs[0]!.quantization).toBeUndefined();
  });
});

describe('parity verdicts', () => {
  const p = (...v: number[]) => Float32Array.from(v);
  const app = [p(0.7, 0.2, 0.1), p(0.1, 0.3, 0.6)];

  it('passes a float artefact only with every top-1 label equal and |Δp| ≤ 1e-4', () => {
    expect(judge('onnx', false, app, [p(0.70005, 0.19995, 0.1), p(0.1, 0.3, 0.6)], [0, 2], null).passed).toBe(true);
    const drift = judge('onnx', false, app, [p(0.7002, 0.1998, 0.1), p(0.1, 0.3, 0.6)], [0, 2], null);
    expect(drift.passed).toBe(false);
    expect(drift.reason).toMatch(/differ from the app's by up to 2\.\d+e-4/);
    const flipped = judge('tfjs', false, app, [p(0.7, 0.2, 0.1), p(0.1, 0.6, 0.3)], [0, 2], null);
    expect(flipped).toMatchObject({ passed: false, agreement: 0.5, accuracy: 0.5 });
    expect(flipped.reason).toMatch(/1 of 2 test images/);
  });

  it('passes a quantized artefact that keeps the accuracy it showed, fails one below it', () => {
    const worse = [p(0.2, 0.7, 0.1), p(0.1, 0.3, 0.6)];
    expect(judge('tfjs', true, app, worse, [0, 2], 0.5).passed).toBe(true);
    expect(judge('tfjs', true, app, worse, [0, 2], 1).reason).toMatch(/below the 100\.0% shown/);
    const s = summarise([judge('onnx', false, app, app, [0, 2], null), judge('tfjs', true, app, worse, [0, 2], 0.5)], 1, 2);
    expect(s).toMatchObject({ passed: true, agreement: 0.5, images: 2 });
    expect(s.maxAbsDiff).toBeCloseTo(0.5, 6);
  });
});

describe('zip writer', () => {
  it('writes entries any unzip reads: stored or deflated, with CRCs', () => {
    const text = Buffer.from('hello hello hello hello hello\n'.repeat(50));
    const noise = randomBytes(300); // incompressible: stored as is
    const zip = zipBytes([
      { name: 'a/text.txt', data: text },
      { name: 'noise.bin', data: noise },
    ]);
    // Local header of the first entry: deflated (method 8), sizes and CRC as written.
    expect(zip.readUInt32LE(0)).toBe(0x04034b50);
    expect(zip.readUInt16LE(8)).toBe(8);
    expect(zip.readUInt32LE(14)).toBe(zlib.crc32(text));
    const compressed = zip.readUInt32LE(18);
    expect(zlib.inflateRawSync(zip.subarray(30 + 'a/text.txt'.length, 30 + 'a/text.txt'.length + compressed))).toEqual(text);
    const file = path.join(dir, 't.zip');
    fs.writeFileSync(file, zip);
    const py = spawnSync(
      'python3',
      [
        '-c',
        'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(",".join(f"{i.filename}:{i.compress_type}:{i.file_size}" for i in z.infolist()))',
        file,
      ],
      { encoding: 'utf8' },
    );
    if (py.error) return console.log('zip not cross-checked: no python3');
    expect(py.stdout.trim()).toBe(`a/text.txt:8:${text.length},noise.bin:0:300`);
  });
});

describe('manifest', () => {
  it('rejects a manifest that points outside the folder, and an unreadable one', () => {
    fs.writeFileSync(path.join(dir, 'a.txt'), 'a');
    writeManifest(dir);
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    m.files.push({ path: '../outside.txt', bytes: 1, sha256: '0'.repeat(64) });
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(m));
    expect(verifyExport(dir).changed).toEqual([{ path: '../outside.txt', reason: 'path points outside the folder' }]);
    fs.writeFileSync(path.join(dir, 'manifest.json'), '{');
    expect(verifyExport(dir)).toMatchObject({ ok: false, error: expect.stringMatching(/unreadable/) });
  });

  it('catches an added symbolic link (to a file, a folder or nowhere) and a listed file replaced by a link', () => {
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'a.txt'), 'a');
    fs.writeFileSync(path.join(dir, 'sub', 'b.txt'), 'b');
    writeManifest(dir);
    expect(verifyExport(dir)).toMatchObject({ ok: true, checked: 2 });
    fs.symlinkSync('/etc/hostname', path.join(dir, 'sub', 'link.txt'));
    fs.symlinkSync('/etc', path.join(dir, 'etc'));
    fs.symlinkSync('nowhere', path.join(dir, 'dangling'));
    const added = verifyExport(dir);
    expect(added.ok).toBe(false);
    expect(added.extra).toEqual(['dangling', 'etc', 'sub/link.txt']);
    // Same bytes, but a link: still not the file the manifest lists.
    const copy = path.join(dir, '..', `${path.basename(dir)}-a.txt`);
    fs.renameSync(path.join(dir, 'a.txt'), copy);
    fs.symlinkSync(copy, path.join(dir, 'a.txt'));
    try {
      expect(verifyExport(dir).changed).toEqual([{ path: 'a.txt', reason: 'is a symbolic link, not a file' }]);
    } finally {
      fs.rmSync(copy);
    }
  });

  it('dataset hashes ignore order but not labels or splits', () => {
    const a = { sha256: 'a'.repeat(64), label: 'bird', split: 'train' as const };
    const b = { sha256: 'b'.repeat(64), label: 'fruit', split: 'test' as const };
    expect(datasetHash([a, b])).toBe(datasetHash([b, a]));
    expect(datasetHash([a, { ...b, label: 'bird' }])).not.toBe(datasetHash([a, b]));
    expect(datasetHash([a, { ...b, split: 'train' }])).not.toBe(datasetHash([a, b]));
  });
});
