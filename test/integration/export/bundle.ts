// The bundle of every format: its files, manifest and zip, the parity stored with it, the
// signature and model card, and each artefact round-tripping (tfjs loads it, ONNX Runtime runs
// it, the Node example classifies like the app, the Python example where it can run).
import { describe, it, expect } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { judge, tfjsFromBundle } from '../../../electron/core/export/parity.js';
import { loadModelFolder } from '../../../electron/core/engine/model-folder.js';
import { decodeForModel } from '../../../electron/core/import/preprocess.js';
import { getExport } from '../../../electron/core/export/store.js';
import { app, bundle, dir, fx, installedCopy } from './fixture.js';

describe('studio export --format bundle', () => {
  it('ends with one JSON line naming every file with its size and sha256, and the parity', () => {
    expect(bundle).toMatchObject({ format: 'bundle', status: 'done', dir: path.join(dir, 'bundle'), zip: path.join(dir, 'bundle.zip') });
    const paths = bundle.files.map((f) => f.path);
    for (const p of [
      'model.onnx',
      'tfjs/model.json',
      'tfjs/group1-shard1of1.bin',
      'labels.json',
      'signature.json',
      'README.md',
      'web-demo/index.html',
      'web-demo/tf.min.js',
      'web-demo/model.js',
      'examples/node/classify.mjs',
      'examples/node/package.json',
      'examples/python/classify.py',
      'examples/python/requirements.txt',
    ]) {
      expect(paths).toContain(p);
    }
    for (const f of bundle.files) expect(fs.statSync(path.join(bundle.dir, f.path)).size).toBe(f.bytes);
    expect(bundle.parity.images).toBe(fx.testFiles.length);
    expect(bundle.parity.agreement).toBe(1);
    expect(bundle.parity.maxAbsDiff).toBeLessThanOrEqual(1e-4);
  });

  it('stores the parity result in the exports table', () => {
    const row = getExport(fx.studio.db, bundle.exportId);
    expect(row).toMatchObject({
      runId: fx.runId,
      status: 'done',
      format: 'bundle',
      quantized: false,
      agreement: 1,
      imagesChecked: fx.testFiles.length,
    });
    expect(row.maxAbsDiff).toBeLessThanOrEqual(1e-4);
    expect(row.parity!.artefacts.map((a) => a.artefact).sort()).toEqual(['onnx', 'tfjs']);
    expect(row.manifestSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('writes a signature with the input contract, class order, dataset hash and metrics', () => {
    const sig = JSON.parse(fs.readFileSync(path.join(bundle.dir, 'signature.json'), 'utf8'));
    expect(sig).toMatchObject({
      formatVersion: 1,
      runId: fx.runId,
      classes: fx.labels,
      input: { size: [224, 224], dtype: 'uint8', layout: 'NHWC', channelOrder: 'RGB' },
    });
    expect(sig.preprocessing).toMatchObject({ fit: 'letterbox', background: '#ffffff', kernel: 'lanczos3' });
    expect(sig.dataset.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(sig.metrics.perClass).toHaveLength(fx.labels.length);
    expect(JSON.parse(fs.readFileSync(path.join(bundle.dir, 'labels.json'), 'utf8'))).toEqual(fx.labels);
  });

  it('writes a model card with per-class test metrics, the base model and its origin', () => {
    const card = fs.readFileSync(path.join(bundle.dir, 'README.md'), 'utf8');
    for (const l of fx.labels) expect(card).toMatch(new RegExp(`\\| ${l} \\| `));
    expect(card).toMatch(/nsfwjs/);
    expect(card).toMatch(/MIT/);
    expect(card).toMatch(/Known limits/);
    expect(card).toMatch(/letterbox/);
  });

  it('titles the web demo with the project’s name and speaks of labels, not classes', () => {
    const demo = fs.readFileSync(path.join(bundle.dir, 'web-demo', 'index.html'), 'utf8');
    expect(demo).toMatch(/<title>export clip art — /);
    const card = fs.readFileSync(path.join(bundle.dir, 'README.md'), 'utf8');
    expect(card).toMatch(new RegExp(`one of ${fx.labels.length} labels`));
    expect(card).not.toMatch(/\bclasses\b/);
  });

  it('makes a zip that holds the same files', () => {
    const zipped = spawnSync(
      'python3',
      [
        '-c',
        'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print("\\n".join(i.filename + " " + str(i.file_size) for i in z.infolist()))',
        bundle.zip,
      ],
      { encoding: 'utf8' },
    );
    if (zipped.error) return console.log(`zip contents not checked: python3 is not available (${zipped.error.message})`);
    expect(zipped.status, zipped.stderr).toBe(0);
    const listed = zipped.stdout.trim().split('\n');
    expect(listed).toContain(`bundle/manifest.json ${fs.statSync(path.join(bundle.dir, 'manifest.json')).size}`);
    for (const f of bundle.files) expect(listed).toContain(`bundle/${f.path} ${f.bytes}`);
  });

  it('tfjs loads the exported model and onnxruntime runs model.onnx, both agreeing with the app', async () => {
    const size = 224;
    const pixels = await Promise.all(fx.testFiles.slice(0, 2).map(async (t) => (await decodeForModel(fs.readFileSync(t.file), size)).data));
    const model = await loadModelFolder(path.join(bundle.dir, 'tfjs'));
    const viaTfjs = tf.tidy(
      () =>
        (
          model.predict(tf.tensor4d(Float32Array.from([...pixels[0]!, ...pixels[1]!]), [2, size, size, 3])) as tf.Tensor
        ).dataSync() as Float32Array,
    );
    model.dispose();
    const session = await ort.InferenceSession.create(path.join(bundle.dir, 'model.onnx'));
    expect(session.inputNames).toEqual(['image']);
    const out = await session.run({ image: new ort.Tensor('uint8', Uint8Array.from([...pixels[0]!, ...pixels[1]!]), [2, size, size, 3]) });
    const viaOnnx = out[session.outputNames[0]!]!.data as Float32Array;
    await session.release();
    const k = fx.labels.length;
    for (let i = 0; i < 2; i++) {
      for (let c = 0; c < k; c++) {
        expect(Math.abs(viaTfjs[i * k + c]! - app[i]![c]!)).toBeLessThanOrEqual(1e-4);
        expect(Math.abs(viaOnnx[i * k + c]! - app[i]![c]!)).toBeLessThanOrEqual(1e-4);
      }
    }
  });

  it('the TF.js check runs on tfjs-wasm (not the plain-JS backend) and meets the same thresholds', async () => {
    const files = fx.testFiles.map((t) => t.file);
    const before = tf.getBackend();
    const { probs, backend } = await tfjsFromBundle(bundle.dir, 224, files);
    expect(backend).toBe('wasm');
    const verdict = judge(
      'tfjs',
      false,
      app,
      probs,
      fx.testFiles.map((t) => fx.labels.indexOf(t.label)),
      null,
    );
    expect(verdict.reason).toBeNull();
    expect(verdict.maxAbsDiff).toBeLessThanOrEqual(1e-4);
    expect(tf.getBackend()).toBe(before); // the process's own backend is given back
  });

  it('the Node example classifies the test images and agrees with the app', () => {
    const copy = installedCopy(bundle.dir);
    const files = fx.testFiles.map((t) => t.file);
    const out = execFileSync(process.execPath, ['classify.mjs', ...files, '--json'], {
      cwd: path.join(copy, 'examples', 'node'),
      encoding: 'utf8',
    });
    const lines = out.trim().split('\n');
    const results = JSON.parse(lines[lines.length - 1]!) as { file: string; label: string; probabilities: Record<string, number> }[];
    expect(results).toHaveLength(files.length);
    results.forEach((r, i) => {
      const best = app[i]!.indexOf(Math.max(...app[i]!));
      expect(r.label).toBe(fx.labels[best]);
      fx.labels.forEach((l, c) => expect(Math.abs(r.probabilities[l]! - app[i]![c]!)).toBeLessThanOrEqual(1e-4));
    });
    expect(lines[0]).toMatch(/: \w+ \(\d+\.\d%\)$/);
  });

  it('the Python example runs where onnxruntime for Python is installed', () => {
    const script = path.join(bundle.dir, 'examples', 'python', 'classify.py');
    const compiled = spawnSync('python3', ['-c', 'import ast, sys; ast.parse(open(sys.argv[1]).read())', script], { encoding: 'utf8' });
    if (!compiled.error) expect(compiled.status, compiled.stderr).toBe(0);
    const probe = spawnSync('python3', ['-c', 'import onnxruntime, numpy, PIL'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      const why = probe.error ? probe.error.message : (probe.stderr.trim().split('\n').pop() ?? `exit ${probe.status}`);
      console.log(`Python example skipped: python3 cannot import onnxruntime, numpy and Pillow here (${why}).`);
      return;
    }
    const files = fx.testFiles.map((t) => t.file);
    const out = execFileSync('python3', [script, ...files, '--json'], { encoding: 'utf8' });
    const lines = out.trim().split('\n');
    const results = JSON.parse(lines[lines.length - 1]!) as { label: string }[];
    expect(results).toHaveLength(files.length);
    // Pillow's Lanczos is not libvips': labels must mostly agree, probabilities need not to 1e-4.
    const agree = results.filter((r, i) => r.label === fx.labels[app[i]!.indexOf(Math.max(...app[i]!))]).length;
    expect(agree / files.length).toBeGreaterThanOrEqual(0.75);
  });
});
