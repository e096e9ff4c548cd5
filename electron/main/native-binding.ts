// Where the better-sqlite3 binding compiled for Electron's ABI lives (scripts/rebuild-electron-sqlite.mjs
// writes it). The Node build in node_modules cannot load in Electron, and is left alone for the CLI.
import fs from 'node:fs';
import path from 'node:path';

export function electronSqliteBinding(appPath: string): string | null {
  const candidates = [
    // Packaged: native/ is unpacked next to app.asar (asarUnpack in build/electron-builder.yml).
    path.join(appPath.replace(/app\.asar$/, 'app.asar.unpacked'), 'native', 'electron', 'better_sqlite3.node'),
    path.join(appPath, 'native', 'electron', 'better_sqlite3.node'),
  ];
  return candidates.find((p) => fs.existsSync(p)) ?? null;
}
