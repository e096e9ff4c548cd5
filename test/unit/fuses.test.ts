// The Electron fuses the package sets (build/electron-builder.yml) and the ones build/README.md
// says it sets are the same, and runAsNode is off: nothing of ours runs the binary as plain Node.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** `electronFuses:` block of the builder config: `  name: true|false` lines until the next top-level key. */
function configuredFuses(): Record<string, boolean> {
  const lines = fs.readFileSync(path.join(ROOT, 'build/electron-builder.yml'), 'utf8').split('\n');
  const start = lines.findIndex((l) => /^electronFuses:\s*$/.test(l));
  expect(start, 'electronFuses block in build/electron-builder.yml').toBeGreaterThanOrEqual(0);
  const fuses: Record<string, boolean> = {};
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line)) break;
    const m = /^\s+(\w+):\s*(true|false)\s*(#.*)?$/.exec(line);
    if (m) fuses[m[1]!] = m[2] === 'true';
  }
  return fuses;
}

/** Rows of build/README.md's fuse table: | `name` | on/off | … | */
function documentedFuses(): Record<string, boolean> {
  const text = fs.readFileSync(path.join(ROOT, 'build/README.md'), 'utf8');
  return Object.fromEntries([...text.matchAll(/^\| `(\w+)` \| (on|off) \|/gm)].map((m) => [m[1]!, m[2] === 'on']));
}

describe('Electron fuses', () => {
  it('are documented exactly as configured', () => {
    const configured = configuredFuses();
    expect(Object.keys(configured).length).toBeGreaterThan(0);
    expect(documentedFuses()).toEqual(configured);
  });

  it('keep runAsNode off', () => {
    expect(configuredFuses().runAsNode).toBe(false);
  });
});
