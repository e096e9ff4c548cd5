// `studio predict RUN [IMAGE|FOLDER]... [--files-from FILE|-] [--json]`: classifies image files
// with a trained run. Folders are walked recursively for images; --files-from reads one path per
// line (from standard input with `-`). The files are registered with the Studio as a batch (the
// CLI is a trusted host) and `runs.predictFiles` runs on its token, so the call is the same one
// any client makes and no path crosses the contract. An unreadable image is listed with its error
// and the rest still run; the exit code is then 1. With --json the last stdout line is
// {"predictions":[{"path","label","probability","probabilities"} | {"path","error"}],"runtime"}.
import fs from 'node:fs';
import path from 'node:path';
import type { Studio } from '../../core/studio.js';
import { StudioError } from '../../shared/contract.js';
import { UsageError } from '../cli-args.js';

export const PREDICT_USAGE = `  predict RUN [IMAGE|FOLDER]... [--files-from FILE|-]
                                      classify image files with a trained run (RUN is its id);
                                      folders are searched recursively, --files-from reads one
                                      path per line (- for standard input)`;

export interface PredictArgs {
  positionals: string[];
  flags: Map<string, string | true>;
  json: boolean;
}

/** What a folder walk picks up; a file named explicitly is always tried (and its error reported). */
const IMAGE_EXT = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.bmp', '.heic', '.heif', '.avif']);

/** Image files under `dir`, sorted, as `dir` joined with their relative path (symlinked folders are not followed). */
function walk(dir: string, out: string[]): void {
  const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if ((e.isFile() || e.isSymbolicLink()) && IMAGE_EXT.has(path.extname(e.name).toLowerCase())) out.push(p);
  }
}

function isFolder(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false; // missing: reported per file by the prediction itself
  }
}

/** Lines of a --files-from list; blank lines are skipped, nothing else is trimmed away but the line end. */
function readList(source: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(source === '-' ? 0 : source, 'utf8');
  } catch (err) {
    throw new StudioError(
      'not_found',
      `Cannot read the list of files ${source === '-' ? 'from standard input' : source}: ${(err as Error).message}`,
    );
  }
  return text.split(/\r?\n/).filter((l) => l.trim() !== '');
}

/** The files to classify, in order, as the user named them (folders expanded). */
export function collectFiles(inputs: string[], filesFrom?: string): string[] {
  const named = [...inputs, ...(filesFrom !== undefined ? readList(filesFrom) : [])];
  const files: string[] = [];
  for (const n of named) {
    if (!isFolder(n)) {
      files.push(n);
      continue;
    }
    const found: string[] = [];
    walk(n, found);
    if (found.length === 0) throw new StudioError('not_found', `No image files in the folder ${n}.`);
    files.push(...found);
  }
  return files;
}

const pct = (p: number) => `${(p * 100).toFixed(1)}%`;

/** Runs the command; returns the exit code. `write` is stdout, `log` is stderr. */
export async function predictCommand(
  studio: Studio,
  args: PredictArgs,
  write: (line: string) => void,
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<number> {
  const [, runRef, ...inputs] = args.positionals;
  const filesFrom = args.flags.get('files-from');
  if (!runRef || (inputs.length === 0 && typeof filesFrom !== 'string'))
    throw new UsageError(`Usage: studio predict RUN IMAGE... [--json]\n${PREDICT_USAGE}`);
  const runId = Number(runRef);
  if (!Number.isSafeInteger(runId) || runId <= 0) throw new UsageError(`RUN must be a run id (a whole number), got "${runRef}".`);
  const files = collectFiles(inputs, typeof filesFrom === 'string' ? filesFrom : undefined);
  if (files.length === 0) throw new StudioError('invalid', 'The list of files is empty; nothing to classify.');

  const token = studio.sources.registerFiles(files.map((f) => path.resolve(f)));
  const result = await studio.call('runs.predictFiles', { runId, files: token });
  log(`run ${runId}: ${result.labels.length} labels, ${result.inputSize} px, runtime ${result.runtime}`);
  const entries = result.predictions.map((p) => {
    const file = files[p.index]!;
    return 'error' in p
      ? { path: file, error: p.error }
      : { path: file, label: p.label, probability: p.probability, probabilities: p.probabilities };
  });
  const width = Math.min(60, Math.max(...files.map((f) => f.length)));
  for (const e of entries) {
    if ('error' in e) log(`${e.path}: cannot read: ${e.error}`);
    else write(`${e.path.padEnd(width)}  ${e.label} (${pct(e.probability)})`);
  }
  if (args.json) write(JSON.stringify({ predictions: entries, runtime: result.runtime }));
  return entries.some((e) => 'error' in e) ? 1 : 0;
}
