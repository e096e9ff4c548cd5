// A minimal ustar writer and a strict reader, for project backups. Tar rather than the export's zip:
// a tar streams front to back with no central directory and no 4 GB limit on the archive (zip
// needs zip64 for that, which zip.ts does not write), and the reader can verify every byte as it
// goes — headers by their checksum, padding and the end blocks by being zero, contents by the
// manifest's sha256 — so a damaged file is refused before anything is restored.
import fs from 'node:fs';
import { createHash } from 'node:crypto';

const BLOCK = 512;
/** 11 octal digits: the ustar size field's limit (8 GiB per entry; the archive itself is unbounded). */
const MAX_ENTRY = 0o77777777777;
const CHUNK = 1 << 20;
const SMALL_FILE = 256 * 1024;

export class TarFormatError extends Error {}

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

/** Splits a long name into ustar's prefix (155 bytes) and name (100 bytes) at a slash. */
function splitName(name: string): { prefix: string; base: string } {
  if (Buffer.byteLength(name) <= 100) return { prefix: '', base: name };
  for (let i = name.lastIndexOf('/'); i > 0; i = name.lastIndexOf('/', i - 1)) {
    const prefix = name.slice(0, i);
    const base = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(base) <= 100 && base !== '') return { prefix, base };
  }
  throw new TarFormatError(`The archive name ${name} is too long for a tar entry.`);
}

export function tarHeader(name: string, size: number): Buffer {
  if (size > MAX_ENTRY) throw new TarFormatError(`${name} is larger than 8 GB, the limit of one tar entry.`);
  const h = Buffer.alloc(BLOCK);
  const { prefix, base } = splitName(name);
  h.write(base, 0, 100, 'utf8');
  h.write(octal(0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  // A fixed time: the same project gives the same entries (the manifest's date says when).
  h.write(octal(0, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write('0', 156, 'ascii');
  h.write('ustar\u000000', 257, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

export interface WrittenEntry {
  name: string;
  bytes: number;
  sha256: string;
}

/**
 * Appends entries to a file opened by the caller. Files are copied in 1 MB chunks and hashed on
 * the way, so memory stays flat whatever the project's size.
 */
export class TarWriter {
  readonly entries: WrittenEntry[] = [];
  private position = 0;
  constructor(private fd: number) {}

  get bytesWritten(): number {
    return this.position;
  }

  // Small writes (headers, padding, small images) are gathered into one buffer: a syscall per
  // 512-byte header would dominate a project of many small files.
  private pending = Buffer.allocUnsafe(CHUNK);
  private pendingLength = 0;

  private async write(buf: Uint8Array): Promise<void> {
    this.position += buf.length;
    if (this.pendingLength + buf.length <= this.pending.length) {
      this.pending.set(buf, this.pendingLength);
      this.pendingLength += buf.length;
      return;
    }
    await this.flush();
    if (buf.length >= this.pending.length) await this.writeOut(buf);
    else {
      this.pending.set(buf, 0);
      this.pendingLength = buf.length;
    }
  }

  private async flush(): Promise<void> {
    if (this.pendingLength === 0) return;
    await this.writeOut(this.pending.subarray(0, this.pendingLength));
    this.pendingLength = 0;
  }

  private async writeOut(buf: Uint8Array): Promise<void> {
    let off = 0;
    while (off < buf.length) {
      off += await new Promise<number>((resolve, reject) =>
        fs.write(this.fd, buf, off, buf.length - off, null, (err, n) => (err ? reject(err) : resolve(n))),
      );
    }
  }

  async addBuffer(name: string, data: Buffer): Promise<WrittenEntry> {
    await this.write(tarHeader(name, data.length));
    await this.write(data);
    await this.write(Buffer.alloc(padding(data.length)));
    const e = { name, bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') };
    this.entries.push(e);
    return e;
  }

  async addFile(name: string, file: string, signal?: AbortSignal): Promise<WrittenEntry> {
    // A small file in one read (most images): four async calls per file would cost more than its bytes.
    if (fs.statSync(file).size <= SMALL_FILE) return this.addBuffer(name, fs.readFileSync(file));
    const handle = await fs.promises.open(file, 'r');
    try {
      const size = (await handle.stat()).size;
      await this.write(tarHeader(name, size));
      const hash = createHash('sha256');
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(size, 1)));
      let done = 0;
      while (done < size) {
        if (signal?.aborted) throw new Error('cancelled');
        const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, size - done), done);
        if (bytesRead === 0) throw new Error(`${file} shrank while it was being backed up.`);
        const chunk = buf.subarray(0, bytesRead);
        hash.update(chunk);
        await this.write(chunk);
        done += bytesRead;
      }
      await this.write(Buffer.alloc(padding(size)));
      const e = { name, bytes: size, sha256: hash.digest('hex') };
      this.entries.push(e);
      return e;
    } finally {
      await handle.close();
    }
  }

  /** Two zero blocks end a tar. */
  async end(): Promise<void> {
    await this.write(Buffer.alloc(BLOCK * 2));
    await this.flush();
  }
}

export interface ReadEntry {
  name: string;
  size: number;
}

function field(h: Buffer, start: number, length: number): string {
  const raw = h.subarray(start, start + length);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul === -1 ? length : nul).toString('utf8');
}

function parseOctal(h: Buffer, start: number, length: number, what: string): number {
  const s = field(h, start, length).trim();
  if (!/^[0-7]+$/.test(s)) throw new TarFormatError(`a tar header has a bad ${what}`);
  return parseInt(s, 8);
}

function isZero(b: Buffer): boolean {
  for (const x of b) if (x !== 0) return false;
  return true;
}

/**
 * Reads a tar front to back: `onEntry` receives each entry's name and size and then its bytes in
 * chunks through `onData`. Throws TarFormatError for anything that is not a well-formed ustar
 * archive of regular files: bad header checksum, non-zero padding, missing end blocks, data
 * after the end, or a file that ends early.
 */
export async function readTar(
  file: string,
  visit: (entry: ReadEntry) => Promise<(chunk: Buffer) => Promise<void> | void> | ((chunk: Buffer) => Promise<void> | void),
  finishEntry: (entry: ReadEntry) => Promise<void> | void,
  signal?: AbortSignal,
): Promise<void> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const total = (await handle.stat()).size;
    let pos = 0;
    const header = Buffer.alloc(BLOCK);
    const buf = Buffer.allocUnsafe(CHUNK);
    // Reads go through a 1 MB window: three small reads per entry (header, data, padding) would
    // otherwise each be a round trip to the thread pool.
    const window = Buffer.allocUnsafe(CHUNK);
    let windowStart = 0;
    let windowLength = 0;
    const readExactly = async (target: Buffer, length: number) => {
      if (pos + length > total) throw new TarFormatError('the file ends early (it is truncated)');
      let got = 0;
      while (got < length) {
        if (pos < windowStart || pos >= windowStart + windowLength) {
          const { bytesRead } = await handle.read(window, 0, Math.min(window.length, total - pos), pos);
          if (bytesRead === 0) throw new TarFormatError('the file ends early (it is truncated)');
          windowStart = pos;
          windowLength = bytesRead;
        }
        const from = pos - windowStart;
        const n = Math.min(length - got, windowLength - from);
        window.copy(target, got, from, from + n);
        got += n;
        pos += n;
      }
    };
    for (;;) {
      if (signal?.aborted) throw new Error('cancelled');
      await readExactly(header, BLOCK);
      if (isZero(header)) {
        // The end: a second zero block, then nothing but zeros (some tools pad to a record size).
        await readExactly(header, BLOCK);
        if (!isZero(header)) throw new TarFormatError('the end of the archive is damaged');
        while (pos < total) {
          const n = Math.min(buf.length, total - pos);
          await readExactly(buf, n);
          if (!isZero(buf.subarray(0, n))) throw new TarFormatError('there is data after the end of the archive');
        }
        return;
      }
      const stored = parseOctal(header, 148, 8, 'checksum');
      let sum = 0;
      for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : header[i]!;
      if (sum !== stored) throw new TarFormatError('a tar header is damaged (its checksum does not match)');
      if (field(header, 257, 6) !== 'ustar') throw new TarFormatError('it is not a ustar archive');
      const type = String.fromCharCode(header[156]!);
      if (type !== '0' && type !== '\0') throw new TarFormatError('it holds something other than plain files');
      const prefix = field(header, 345, 155);
      const base = field(header, 0, 100);
      const entry = { name: prefix ? `${prefix}/${base}` : base, size: parseOctal(header, 124, 12, 'size') };
      const onData = await visit(entry);
      let left = entry.size;
      while (left > 0) {
        if (signal?.aborted) throw new Error('cancelled');
        const n = Math.min(buf.length, left);
        await readExactly(buf, n);
        await onData(buf.subarray(0, n));
        left -= n;
      }
      const pad = padding(entry.size);
      if (pad > 0) {
        await readExactly(header, pad);
        if (!isZero(header.subarray(0, pad))) throw new TarFormatError(`the padding after ${entry.name} is damaged`);
      }
      await finishEntry(entry);
    }
  } finally {
    await handle.close();
  }
}
