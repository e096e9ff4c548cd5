// The text of a diagnostics file a user can send: versions, which engines and ONNX Runtime
// providers can load here and why others cannot, the data folder's size per project, and the
// last internal errors. Never image contents; file names, folder paths and project names only
// when the user asks (`includeFileNames`) — otherwise anything that looks like a path or an image
// file's name is replaced in error messages too.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Db } from '../db/connection.js';
import type { DataPaths } from '../paths.js';
import { recentErrors } from './recent-errors.js';

export interface DiagnosticsInput {
  db: Db;
  paths: DataPaths;
  appVersion: string;
  host: string;
  includeFileNames: boolean;
}

const require = createRequire(import.meta.url);

/** The tfjs engines the training process chooses among (backend.ts), as installed packages: present, or why not. */
const ENGINE_PACKAGES: [string, string][] = [
  ['tfjs-node-gpu', '@tensorflow/tfjs-node-gpu'],
  ['tfjs-node', '@tensorflow/tfjs-node'],
  ['portable-wasm', '@tensorflow/tfjs-backend-wasm'],
  ['portable-cpu', '@tensorflow/tfjs'],
];

function packageVersion(pkg: string): string | null {
  try {
    return (JSON.parse(fs.readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')) as { version: string }).version;
  } catch {
    return null;
  }
}

function folderBytes(dir: string): number {
  let total = 0;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += folderBytes(p);
    else if (e.isFile()) total += fs.statSync(p, { throwIfNoEntry: false })?.size ?? 0;
  }
  return total;
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/** Paths and image/CSV file names out of free text (error messages may quote them). */
export function redact(text: string): string {
  return text
    .replace(/(?:[A-Za-z]:\\|\\\\|\/)[^\s'"`,;)]*/g, '<path>')
    .replace(/[^\s'"`/\\,;()]+\.(?:jpe?g|jpe|png|webp|gif|tiff?|bmp|csv|zip|json)\b/gi, '<file>');
}

async function providerLines(): Promise<string[]> {
  try {
    const { providerTrials } = await import('../../../native/onnx-runtime.js');
    return providerTrials().map((t) => `  ${t.provider}: ${t.available ? 'can load' : `not used — ${t.reason}`}`);
  } catch (err) {
    return [`  ONNX Runtime did not load: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`];
  }
}

export async function diagnosticsText(input: DiagnosticsInput): Promise<string> {
  const names = input.includeFileNames;
  const clean = (s: string) => (names ? s : redact(s));
  const lines: string[] = [];
  lines.push('Transfer Studio diagnostics', `written ${new Date().toISOString()}`, '');
  lines.push(
    `app ${input.appVersion} (${input.host}), Node ${process.versions.node}${process.versions.electron ? `, Electron ${process.versions.electron}` : ''}`,
    `system ${os.platform()} ${os.release()} ${os.arch()}, ${os.availableParallelism()} cores, ${mb(os.totalmem())} memory`,
    `file names, paths and project names: ${names ? 'included (the user asked)' : 'left out'}`,
    '',
  );
  lines.push('Training engines (tfjs; the engine process takes the first that loads):');
  for (const [engine, pkg] of ENGINE_PACKAGES) {
    const v = packageVersion(pkg);
    lines.push(`  ${engine}: ${v ? `${pkg} ${v} installed` : `not installed (${pkg})`}`);
  }
  const ortVersion = packageVersion('onnxruntime-node');
  lines.push('', `ONNX Runtime execution providers (onnxruntime-node ${ortVersion ?? 'not installed'}):`, ...(await providerLines()));
  const lastRun = input.db.prepare('SELECT id, engine, status FROM runs ORDER BY id DESC LIMIT 1').get() as
    { id: number; engine: string | null; status: string } | undefined;
  lines.push(
    `last run: ${lastRun ? `run ${lastRun.id} (${lastRun.status}) on ${clean(lastRun.engine ?? 'unknown engine')}` : 'none yet'}`,
    '',
  );

  lines.push(`Data folder${names ? ` ${input.paths.root}` : ''}:`);
  const projects = input.db.prepare('SELECT id, name, image_count AS images FROM projects ORDER BY id').all() as {
    id: number;
    name: string;
    images: number;
  }[];
  for (const p of projects)
    lines.push(`  project ${p.id}${names ? ` "${p.name}"` : ''}: ${p.images} images, ${mb(folderBytes(input.paths.project(p.id)))}`);
  if (projects.length === 0) lines.push('  no projects');
  lines.push(
    `  database ${mb(fs.statSync(input.paths.database, { throwIfNoEntry: false })?.size ?? 0)}, models ${mb(folderBytes(input.paths.models()))}`,
    '',
  );

  const errors = recentErrors();
  lines.push(`Last errors (${errors.length}, this session):`);
  for (const e of errors) lines.push(`  ${e.at} ${e.where}: ${clean(e.message)}`);
  if (errors.length === 0) lines.push('  none');
  return `${lines.join('\n')}\n`;
}
