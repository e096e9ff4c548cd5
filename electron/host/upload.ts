// Browser uploads stand in for the native folder dialog: files are staged under
// <dataDir>/staging/<session>/<relative path>, then registered as an import source whose root
// is the uploaded top folder, so its sub-folders become labels exactly as with a native folder.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import type { SourceRegistry } from '../core/sources.js';
import { asDiskFull, isDiskFull } from '../core/storage/disk-full.js';

export const MAX_FILE_BYTES = 256 * 1024 * 1024;
const MAX_PATH_CHARS = 1024;
const MAX_SEGMENT_CHARS = 255;
/** A session nobody has touched for this long is deleted with its files. */
export const SESSION_TTL_MS = 60 * 60 * 1000;

const FINISHED_TTL_MS = 24 * 60 * 60 * 1000;
/** Unfinished sessions at once: enough for several tabs, not enough to fill the disk with empty staging folders. */
export const MAX_OPEN_SESSIONS = 16;
/** Files in one session (the contract's selection limit, so an import of them stays addressable). */
export const MAX_SESSION_FILES = 200_000;

export class UploadError extends Error {
  constructor(
    public readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The header value as a safe relative path (forward slashes), or an UploadError(400).
 * Rejects absolute paths, drive letters, `..`/`.`/empty segments, NUL and control characters,
 * backslashes and characters Windows cannot store, and over-long names.
 */
export function sanitiseRelativePath(header: string | undefined): string {
  if (!header) throw new UploadError(400, 'Missing X-Relative-Path header.');
  // Node hands header bytes over as latin1 characters, so raw UTF-8 (a client that did not
  // percent-encode) would be stored as mojibake ('Ã©' for 'é'): read those bytes as UTF-8, strictly.
  if (/[\u0080-\u00ff]/.test(header)) {
    try {
      header = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(header, 'latin1'));
    } catch {
      throw new UploadError(400, 'X-Relative-Path is neither percent-encoded nor valid UTF-8.');
    }
  }
  let rel: string;
  try {
    rel = decodeURIComponent(header);
  } catch {
    throw new UploadError(400, 'X-Relative-Path is not valid percent-encoding.');
  }
  if (rel.length === 0 || rel.length > MAX_PATH_CHARS) throw new UploadError(400, 'The relative path is empty or too long.');
  if (/[\u0000-\u001f\u007f]/.test(rel)) throw new UploadError(400, 'The relative path contains control characters.');
  if (rel.includes('\\')) throw new UploadError(400, 'Use forward slashes in the relative path.');
  if (rel.startsWith('/') || /^[A-Za-z]:/.test(rel)) throw new UploadError(400, 'The relative path must not be absolute.');
  const segments = rel.split('/');
  for (const s of segments) {
    if (s === '' || s === '.' || s === '..') throw new UploadError(400, 'The relative path has an empty, "." or ".." part.');
    if (s.length > MAX_SEGMENT_CHARS) throw new UploadError(400, 'A name in the relative path is too long.');
    if (/[<>:"|?*]/.test(s)) throw new UploadError(400, 'The relative path contains a character files cannot have (<>:"|?*).');
    // Windows silently drops trailing dots and spaces, which would let two names collide.
    if (/[. ]$/.test(s)) throw new UploadError(400, 'A name in the relative path ends with a dot or space.');
  }
  return segments.join('/');
}

interface Session {
  dir: string;
  files: Set<string>;
  touched: number;
  finished: boolean;
}

export class UploadSessions {
  private sessions = new Map<string, Session>();
  private sweeper: NodeJS.Timeout;

  constructor(
    private stagingRoot: string,
    private sources: SourceRegistry,
    private ttlMs = SESSION_TTL_MS,
  ) {
    fs.mkdirSync(stagingRoot, { recursive: true });
    this.removeStale();
    this.sweeper = setInterval(() => this.expire(), Math.min(ttlMs, 60_000));
    this.sweeper.unref();
  }

  create(): string {
    this.expire();
    const open = [...this.sessions.values()].filter((s) => !s.finished).length;
    if (open >= MAX_OPEN_SESSIONS)
      throw new UploadError(429, `Too many uploads in progress (${MAX_OPEN_SESSIONS}); finish or wait for one, then try again.`);
    const id = randomBytes(18).toString('base64url');
    const dir = path.join(this.stagingRoot, id);
    fs.mkdirSync(dir, { recursive: true });
    this.sessions.set(id, { dir, files: new Set(), touched: Date.now(), finished: false });
    return id;
  }

  /** Streams one request body to the staged file; refuses bodies over MAX_FILE_BYTES. */
  async put(sessionId: string, relHeader: string | undefined, body: IncomingMessage): Promise<{ path: string; bytes: number }> {
    const session = this.open(sessionId);
    const rel = sanitiseRelativePath(relHeader);
    if (session.files.size >= MAX_SESSION_FILES && !session.files.has(rel))
      throw new UploadError(
        413,
        `One upload can hold at most ${MAX_SESSION_FILES.toLocaleString('en')} files; import these, then upload the rest.`,
      );
    const declared = Number(body.headers['content-length'] ?? 0);
    if (declared > MAX_FILE_BYTES) throw new UploadError(413, 'A file can be at most 256 MB.');
    const target = path.join(session.dir, ...rel.split('/'));
    // Belt and braces: the sanitiser already guarantees this.
    if (!target.startsWith(session.dir + path.sep)) throw new UploadError(400, 'Bad relative path.');
    fs.mkdirSync(path.dirname(target), { recursive: true });
    let bytes = 0;
    const limit = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        bytes += chunk.length;
        if (bytes > MAX_FILE_BYTES) cb(new UploadError(413, 'A file can be at most 256 MB.'));
        else cb(null, chunk);
      },
    });
    try {
      await pipeline(body, limit, fs.createWriteStream(target));
    } catch (err) {
      fs.rmSync(target, { force: true });
      if (err instanceof UploadError) throw err;
      // 507 Insufficient Storage, in the words every other full-disk message uses.
      if (isDiskFull(err))
        throw new UploadError(507, (asDiskFull(err, 'The upload stopped; the files uploaded before are kept.') as Error).message);
      throw new UploadError(400, 'The upload was interrupted.');
    }
    session.files.add(rel);
    session.touched = Date.now();
    return { path: rel, bytes };
  }

  /** Registers the staged files as an import source; the staging folder goes once the import is done. */
  finish(sessionId: string, body: unknown): { source: string; displayName: string } {
    const session = this.open(sessionId);
    if (session.files.size === 0) throw new UploadError(400, 'Nothing was uploaded in this session.');
    const opts = (body ?? {}) as { csv?: unknown };
    let csv: string | undefined;
    if (opts.csv !== undefined) {
      if (typeof opts.csv !== 'string') throw new UploadError(400, '"csv" must be the relative path of an uploaded file.');
      const rel = sanitiseRelativePath(encodeURIComponent(opts.csv));
      if (!session.files.has(rel)) throw new UploadError(400, 'The CSV named in "csv" was not uploaded in this session.');
      csv = path.join(session.dir, ...rel.split('/'));
    }
    const tops = [...new Set([...session.files].map((f) => f.split('/')[0]!))].sort();
    const files = [...session.files].filter((f) => !f.includes('/'));
    const oneFolder = tops.length === 1 && files.length === 0;
    const paths = tops.map((t) => path.join(session.dir, t)).filter((p) => p !== csv);
    const displayName = oneFolder ? tops[0]! : `${session.files.size} file${session.files.size === 1 ? '' : 's'}`;
    session.finished = true;
    const source = this.sources.register({
      paths,
      ...(csv ? { csv } : {}),
      displayName,
      dispose: () => this.remove(sessionId),
    });
    return { source, displayName };
  }

  has(sessionId: string): boolean {
    return this.sessions.has(sessionId);
  }

  remove(sessionId: string): void {
    const s = this.sessions.get(sessionId);
    this.sessions.delete(sessionId);
    if (s) fs.rmSync(s.dir, { recursive: true, force: true });
  }

  /** Drops sessions idle for longer than the TTL. A finished one normally goes with its import's dispose; a day is for a source never imported. */
  expire(now = Date.now()): void {
    for (const [id, s] of this.sessions) if (now - s.touched > (s.finished ? FINISHED_TTL_MS : this.ttlMs)) this.remove(id);
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  private open(sessionId: string): Session {
    const s = /^[A-Za-z0-9_-]{16,64}$/.test(sessionId) ? this.sessions.get(sessionId) : undefined;
    if (!s) throw new UploadError(404, 'This upload session does not exist or has expired; start the upload again.');
    if (s.finished) throw new UploadError(409, 'This upload session is already finished.');
    return s;
  }

  /** Staging folders left by a host that died more than a day ago. */
  private removeStale(): void {
    const dayAgo = Date.now() - 24 * 60 * 60 * 1000;
    for (const name of fs.readdirSync(this.stagingRoot)) {
      const p = path.join(this.stagingRoot, name);
      try {
        if (fs.statSync(p).mtimeMs < dayAgo) fs.rmSync(p, { recursive: true, force: true });
      } catch {
        // Another host may be removing it at the same moment.
      }
    }
  }
}
