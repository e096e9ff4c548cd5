// Where the studio keeps its data. One folder: the database plus a content-addressed image
// store and thumbnail cache per project. Paths never leave the Node side.
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';

/** The OS user-data folder an Electron app named "Transfer Studio" would get. */
export function defaultDataDir(): string {
  const home = os.homedir();
  if (process.platform === 'win32') return path.join(process.env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Transfer Studio');
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Transfer Studio');
  return path.join(process.env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'Transfer Studio');
}

/** `--data-dir` wins, then the STUDIO_DATA_DIR setting, then the OS default. */
export function resolveDataDir(flag: string | undefined, setting: string | null): string {
  const chosen = flag ?? setting ?? defaultDataDir();
  const abs = path.resolve(chosen);
  fs.mkdirSync(abs, { recursive: true });
  return abs;
}

export class DataPaths {
  constructor(readonly root: string) {}
  get database(): string {
    return path.join(this.root, 'studio.db');
  }
  project(projectId: number): string {
    return path.join(this.root, 'projects', String(projectId));
  }
  /** Content-addressed: the file's sha256 is its name, split by its first two hex digits. */
  stored(projectId: number, sha256: string, ext: string): string {
    return path.join(this.project(projectId), 'store', sha256.slice(0, 2), `${sha256}.${ext}`);
  }
  thumbnail(projectId: number, sha256: string): string {
    return path.join(this.project(projectId), 'thumbs', sha256.slice(0, 2), `${sha256}.webp`);
  }
  /** Imported and downloaded base models (the model registry's store). */
  models(): string {
    return path.join(this.root, 'models');
  }
  staging(): string {
    return path.join(this.root, 'staging');
  }
}
