// A minimal zip writer (deflate, no zip64) so an export folder travels as one file without a
// new dependency. Entries are written in the order given; timestamps are fixed so the same
// folder always gives the same bytes (a checksum of the zip then means something).
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

/** 1980-01-01 00:00 in DOS format: the zip epoch, used for every entry. */
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const LIMIT = 0xffff_fffe;
const BIG = 1 << 20;

export interface ZipEntry {
  /** Path inside the archive, forward slashes. */
  name: string;
  data: Uint8Array;
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}
function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

/** An entry's body as it goes into the archive: deflated, or stored when deflate does not help. */
interface Body {
  crc: number;
  method: 0 | 8;
  data: Buffer;
}

/**
 * Big entries (weights, the demo's inlined model) get the fast level: deflate's higher levels
 * cost seconds on them for a few percent; the small text files get the default.
 */
const levelFor = (e: ZipEntry) => (e.data.length > BIG ? 1 : 6);

function bodyOf(e: ZipEntry, deflated: Buffer): Body {
  // Stored when deflate does not help (weights, already-compressed data).
  const stored = deflated.length >= e.data.length;
  return {
    crc: zlib.crc32(e.data),
    method: stored ? 0 : 8,
    data: stored ? Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength) : deflated,
  };
}

function checkSize(e: ZipEntry): void {
  if (e.data.length > LIMIT) throw new Error(`${e.name} is larger than 4 GB; this zip writer has no zip64.`);
}

function assemble(entries: ZipEntry[], bodies: Body[]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  entries.forEach((e, i) => {
    const { crc, method, data: body } = bodies[i]!;
    const name = Buffer.from(e.name.replace(/\\/g, '/'), 'utf8');
    const common = [
      u16(20),
      u16(0x0800) /* UTF-8 names */,
      u16(method),
      u16(DOS_TIME),
      u16(DOS_DATE),
      u32(crc),
      u32(body.length),
      u32(e.data.length),
      u16(name.length),
    ];
    const local = Buffer.concat([u32(0x04034b50), ...common, u16(0), name]);
    central.push(Buffer.concat([u32(0x02014b50), u16(20), ...common, u16(0), u16(0), u16(0), u16(0), u32(0), u32(offset), name]));
    parts.push(local, body);
    offset += local.length + body.length;
    if (offset > LIMIT) throw new Error('The archive is larger than 4 GB; this zip writer has no zip64.');
  });
  const dir = Buffer.concat(central);
  const end = Buffer.concat([
    u32(0x06054b50),
    u16(0),
    u16(0),
    u16(entries.length),
    u16(entries.length),
    u32(dir.length),
    u32(offset),
    u16(0),
  ]);
  return Buffer.concat([...parts, dir, end]);
}

export function zipBytes(entries: ZipEntry[]): Buffer {
  entries.forEach(checkSize);
  return assemble(
    entries,
    entries.map((e) => bodyOf(e, zlib.deflateRawSync(e.data, { level: levelFor(e) }))),
  );
}

const deflateRaw = (data: Uint8Array, level: number) =>
  new Promise<Buffer>((resolve, reject) => zlib.deflateRaw(data, { level }, (err, out) => (err ? reject(err) : resolve(out))));

/**
 * The same bytes as zipBytes, deflated on libuv's thread pool: the entries compress on every core
 * at once, and the event loop stays free for progress and a Cancel meanwhile.
 */
export async function zipBytesAsync(entries: ZipEntry[]): Promise<Buffer> {
  entries.forEach(checkSize);
  const bodies = await Promise.all(entries.map(async (e) => bodyOf(e, await deflateRaw(e.data, levelFor(e)))));
  return assemble(entries, bodies);
}

/** Every file under `dir`, relative, forward slashes, sorted (the zip's and the manifest's order). */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const d of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) walk(r);
      else if (d.isFile()) out.push(r);
    }
  };
  walk('');
  return out.sort();
}

/**
 * Zips a folder into `file`; entries are prefixed with `root/` so unzipping makes one folder.
 * Writes `file` itself and no temporary beside it: the caller has claimed that name (a
 * `<file>.partial` next to it could be somebody else's).
 */
export function zipFolder(dir: string, file: string, root = path.basename(dir)): number {
  const entries = listFiles(dir).map((rel) => ({ name: `${root}/${rel}`, data: fs.readFileSync(path.join(dir, rel)) }));
  const bytes = zipBytes(entries);
  fs.writeFileSync(file, bytes);
  return bytes.length;
}

/** zipFolder's archive made with zipBytesAsync: the same bytes. */
export async function zipFolderAsync(dir: string, file: string, root = path.basename(dir)): Promise<number> {
  const entries = listFiles(dir).map((rel) => ({ name: `${root}/${rel}`, data: fs.readFileSync(path.join(dir, rel)) }));
  const bytes = await zipBytesAsync(entries);
  await fs.promises.writeFile(file, bytes);
  return bytes.length;
}
