// On-disk cache of frozen-pass outputs (pooled features, boundary activations), keyed by what
// determines them: base, layer, image content, augmentation variant. Capped in bytes; the least
// recently used files go first. Owned by the engine process alone, so no locking.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { toFloat16, fromFloat16 } from './float16.js';

export interface CacheOptions {
  capBytes?: number;
}

export const DEFAULT_CACHE_CAP = 2 * 1024 ** 3;

function cacheFile(root: string, key: string, half: boolean): string {
  return path.join(root, key.slice(0, 2), `${key}.${half ? 'f16' : 'f32'}`);
}

export class FeatureCache {
  private bytes = -1;
  readonly capBytes: number;
  hits = 0;
  misses = 0;

  constructor(
    readonly root: string,
    options: CacheOptions = {},
  ) {
    this.capBytes = options.capBytes ?? DEFAULT_CACHE_CAP;
    fs.mkdirSync(root, { recursive: true });
  }

  static key(...parts: (string | number)[]): string {
    return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 40);
  }

  private file(key: string, half: boolean): string {
    return cacheFile(this.root, key, half);
  }

  /**
   * Reads an entry without touching its recency: for readers outside the engine process (the
   * near-duplicate finder), which must not reorder the engine's eviction. Null when absent.
   */
  static peek(root: string, key: string, half: boolean): Float32Array | null {
    let buf: Buffer;
    try {
      buf = fs.readFileSync(cacheFile(root, key, half));
    } catch {
      return null;
    }
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    return half ? fromFloat16(new Uint16Array(ab)) : new Float32Array(ab);
  }

  get(key: string, half: boolean): Float32Array | null {
    const file = this.file(key, half);
    let buf: Buffer;
    try {
      buf = fs.readFileSync(file);
    } catch {
      this.misses++;
      return null;
    }
    this.hits++;
    const now = new Date();
    fs.utimesSync(file, now, now); // recency for eviction
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    return half ? fromFloat16(new Uint16Array(ab)) : new Float32Array(ab);
  }

  put(key: string, data: Float32Array, half: boolean): void {
    const file = this.file(key, half);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const bytes = half ? toFloat16(data) : data;
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      fs.writeFileSync(tmp, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      fs.renameSync(tmp, file);
    } catch (err) {
      // A full disk leaves a partial file: remove it so the space comes back.
      fs.rmSync(tmp, { force: true });
      throw err;
    }
    if (this.bytes < 0) this.bytes = this.scan().reduce((s, f) => s + f.size, 0);
    else this.bytes += bytes.byteLength;
    if (this.bytes > this.capBytes) this.evict();
  }

  size(): number {
    return this.scan().reduce((s, f) => s + f.size, 0);
  }

  private scan(): { file: string; size: number; used: number }[] {
    const out: { file: string; size: number; used: number }[] = [];
    for (const d of fs.existsSync(this.root) ? fs.readdirSync(this.root) : []) {
      const dir = path.join(this.root, d);
      if (!fs.statSync(dir).isDirectory()) continue;
      for (const f of fs.readdirSync(dir)) {
        if (f.endsWith('.tmp')) continue;
        const st = fs.statSync(path.join(dir, f));
        out.push({ file: path.join(dir, f), size: st.size, used: st.mtimeMs });
      }
    }
    return out;
  }

  /** Down to 90% of the cap, so a full cache does not rescan on every write. */
  private evict(): void {
    const files = this.scan().sort((a, b) => a.used - b.used);
    let total = files.reduce((s, f) => s + f.size, 0);
    for (const f of files) {
      if (total <= this.capBytes * 0.9) break;
      fs.rmSync(f.file, { force: true });
      total -= f.size;
    }
    this.bytes = total;
  }
}
