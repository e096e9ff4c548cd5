// The web demo's model.js: written in pieces (a single JSON.stringify of tens of MB of base64 cost
// seconds of every export), yet byte for byte what stringifying the whole payload gives.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { modelJson, writeInlinedModelScript, type TfjsArtifacts } from '../../electron/core/export/tfjs-artifacts.js';

describe('writeInlinedModelScript', () => {
  it('writes exactly the script a JSON.stringify of the payload makes', () => {
    const weightData = Buffer.from(Array.from({ length: 1001 }, (_, i) => (i * 37) % 256));
    const a: TfjsArtifacts = {
      modelTopology: { class_name: 'Model', config: { name: 'm "quoted" \u2028 é' } },
      weightSpecs: [{ name: 'w', shape: [1001], dtype: 'int32' }],
      weightData,
      quantized: false,
    };
    const extra = { labels: ['a "b"', 'ünï'], signature: { input: { size: [2, 2] }, note: 'line\nbreak' } };
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'demo-script-')), 'model.js');
    writeInlinedModelScript(file, a, 'STUDIO_MODEL', '// comment', extra);
    const payload = { modelJson: modelJson(a), weightsBase64: weightData.toString('base64'), ...extra };
    expect(fs.readFileSync(file, 'utf8')).toBe(`// comment\nwindow.STUDIO_MODEL = ${JSON.stringify(payload)};\n`);
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  });
});
