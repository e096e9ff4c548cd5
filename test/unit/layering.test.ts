// The import rules of eslint.config.js (the README's folder table) catch a crossing: ESLint's
// own API lints in-memory files at paths inside each folder.
import path from 'node:path';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
let eslint: ESLint;

beforeAll(() => {
  eslint = new ESLint({ cwd: ROOT });
});

/** The import-rule messages for `source` as if it were the file at `file`. */
async function crossings(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: path.join(ROOT, file) });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const use = (specifier: string) => `import * as x from '${specifier}';\nexport const y = x;\n`;

describe('layering', () => {
  it('keeps Node, Electron and the Node side out of the renderer', async () => {
    expect(await crossings('renderer/src/lib/probe.ts', use('node:fs'))).toEqual([expect.stringMatching(/Node built-ins/)]);
    expect(await crossings('renderer/src/lib/probe.ts', use('fs/promises'))).toHaveLength(1);
    expect(await crossings('renderer/src/lib/probe.ts', use('electron'))).toHaveLength(1);
    expect(await crossings('renderer/src/lib/probe.ts', use('../../../electron/core/studio.js'))).toEqual([
      expect.stringMatching(/only through the contract/),
    ]);
    expect(
      await crossings('renderer/src/components/Probe.svelte', `<script lang="ts">\n${use('../../../electron/host/cli.js')}</script>\n`),
    ).toHaveLength(1);
    expect(await crossings('renderer/src/lib/probe.ts', use('../../../electron/shared/contract.js'))).toEqual([]);
  });

  it('keeps the contract free of Node, Electron and the processes that use it', async () => {
    expect(await crossings('electron/shared/probe.ts', use('node:path'))).toHaveLength(1);
    expect(await crossings('electron/shared/probe.ts', use('path'))).toHaveLength(1);
    expect(await crossings('electron/shared/probe.ts', use('../core/studio.js'))).toHaveLength(1);
    expect(await crossings('electron/shared/probe.ts', use('zod'))).toEqual([]);
  });

  it('keeps the core from importing main, the hosts or Electron', async () => {
    expect(await crossings('electron/core/training/probe.ts', use('../../main/engine-relay.js'))).toHaveLength(1);
    expect(await crossings('electron/core/probe.ts', use('../host/cli.js'))).toHaveLength(1);
    expect(await crossings('electron/core/probe.ts', use('electron'))).toHaveLength(1);
    expect(await crossings('electron/core/training/probe.ts', use('../engine/protocol.js'))).toEqual([]);
    expect(await crossings('electron/core/probe.ts', use('./host-process.js'))).toEqual([]);
  });

  it('keeps Electron main off the web host, and the web host off Electron', async () => {
    expect(await crossings('electron/main/probe.ts', use('../host/images.js'))).toEqual([
      expect.stringMatching(/electron\/core or electron\/shared/),
    ]);
    expect(await crossings('electron/main/probe.ts', use('../core/studio.js'))).toEqual([]);
    expect(await crossings('electron/main/probe.ts', use('electron'))).toEqual([]);
    expect(await crossings('electron/host/probe.ts', use('electron'))).toHaveLength(1);
    expect(await crossings('electron/host/probe.ts', use('../main/core-client.js'))).toHaveLength(1);
    expect(await crossings('electron/preload/probe.ts', use('../core/studio.js'))).toHaveLength(1);
  });
});
