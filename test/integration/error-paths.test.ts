// An unexpected error that names a file of the installation reaches the client with the file's
// name only; the full message stays in the diagnostics ring.
import { it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Studio } from '../../electron/core/studio.js';
import { checkoutRoot, testEnvironment } from '../fixtures/environment.js';

it('an internal error names installed files by their file name only', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-paths-'));
  const studio = new Studio({ environment: testEnvironment(path.join(tmp, 'data')), host: 'web' });
  try {
    const handlers = studio.handlers as unknown as Record<string, (a: unknown) => unknown>;
    const installed = path.join(checkoutRoot, 'build', 'models', 'bases', 'mobilenet-v2', 'model.json');
    handlers['app.info'] = () => {
      throw Object.assign(new Error(`ENOENT: no such file or directory, open '${installed}'`), { code: 'ENOENT' });
    };
    const err = (await studio.call('app.info', {}).catch((e: unknown) => e)) as Error;
    expect(err.message).toBe("ENOENT: no such file or directory, open 'model.json'");
    expect(err.message).not.toContain(checkoutRoot);
  } finally {
    studio.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
