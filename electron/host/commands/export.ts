// `studio export RUN --format bundle|tfjs|onnx --out DIR [--quantize] [--json]`: registers DIR as
// an output folder (the CLI is a trusted host) and runs `exports.start` on its token, like any
// client; progress and the outcome come as the contract's export events. The export checks parity
// with the app on the run's test split; with --json the last line is {exportId, format, status,
// dir, zip, files, parity}. Exit 1 when the parity check fails (the export is then not shipped).
import fs from 'node:fs';
import path from 'node:path';
import type { Studio } from '../../core/studio.js';
import { StudioError } from '../../shared/contract.js';
import type { z } from 'zod';
import type { ExportPart } from '../../shared/contract-export.js';
import { UsageError } from '../cli-args.js';
import { collectEvents, whileCancellable } from './contract-client.js';

export interface CommandArgs {
  positionals: string[];
  flags: Map<string, string | true>;
  json: boolean;
}

type Format = 'bundle' | 'tfjs' | 'onnx';
const PARTS: Record<Format, z.output<typeof ExportPart>[]> = {
  bundle: ['tfjs', 'onnx', 'web-demo', 'examples'],
  tfjs: ['tfjs'],
  onnx: ['onnx'],
};

export function parseExportArgs(args: CommandArgs): { runId: number; format: Format; out: string; quantize: boolean } {
  const [, run, ...extra] = args.positionals;
  if (!run || extra.length) throw new UsageError(`Usage: studio export RUN --out DIR [--format bundle|tfjs|onnx] [--quantize]`);
  const runId = Number(run);
  if (!Number.isInteger(runId) || runId <= 0)
    throw new UsageError(`RUN must be a run id (a whole number), not "${run}"; \`studio train\` prints it.`);
  const format = args.flags.get('format') ?? 'bundle';
  if (format !== 'bundle' && format !== 'tfjs' && format !== 'onnx') throw new UsageError('--format must be bundle, tfjs or onnx.');
  const out = args.flags.get('out');
  if (typeof out !== 'string' || out === '') throw new UsageError('--out DIR is required: the folder to export into (new or empty).');
  const quantize = args.flags.get('quantize');
  if (quantize !== undefined && quantize !== true) throw new UsageError('--quantize takes no value.');
  if (quantize && format === 'onnx') throw new UsageError('--quantize applies to the TF.js model; use --format bundle or tfjs.');
  return { runId, format, out: path.resolve(out), quantize: quantize === true };
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)}%`);
const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;

/** The files and checksums the export wrote, from its manifest (the CLI reads the folder it chose). */
function manifestFiles(dir: string | null): { path: string; bytes: number; sha256: string }[] {
  if (!dir) return [];
  try {
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as {
      files: { path: string; bytes: number; sha256: string }[];
    };
    return m.files.map((f) => ({ path: f.path, bytes: f.bytes, sha256: f.sha256 }));
  } catch {
    return [];
  }
}

export async function exportCommand(
  studio: Studio,
  args: CommandArgs,
  write: (line: string) => void,
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<number> {
  const opts = parseExportArgs(args);
  const destination = studio.sources.registerOutputFolder(opts.out);
  let jobId: string | null = null;
  const finished = collectEvents(studio, 'export.finished');
  const off = studio.bus.subscribe((name, payload) => {
    const p = payload as { jobId: string; phase: string; done: number; total: number };
    if (name === 'export.progress' && p.jobId === jobId) log(`${p.phase} (${p.done}/${p.total})`);
  });
  try {
    const ev = await whileCancellable(
      () => void (jobId !== null && studio.call('exports.cancel', { jobId }).catch(() => {})),
      async () => {
        jobId = (
          await studio.call('exports.start', { runId: opts.runId, formats: PARTS[opts.format], quantize: opts.quantize, destination })
        ).jobId;
        return finished.next((e) => e.jobId === jobId);
      },
    );
    const info = ev.export;
    // Failed before anything was written (a folder that is not empty, a run without test images…).
    if (!info) throw new StudioError(ev.status === 'cancelled' ? 'cancelled' : 'invalid', ev.message ?? `The export ${ev.status}.`);
    // The contract names files, not paths; a finished export and its zip are beside the --out folder
    // this host chose, and one that failed its parity check is kept in the data folder's exports/.
    const beside = (name: string | null) => (name === null ? null : path.join(path.dirname(opts.out), name));
    const dir =
      info.status === 'done' || info.folderName === null
        ? beside(info.folderName)
        : path.join(studio.paths.root, 'exports', info.folderName);
    const zip = info.hasZip ? beside(info.zipName) : null;
    const q = ev.quantization ?? null;
    if (q) {
      write(
        `8-bit TF.js weights: ${mb(q.sizes.tfjsFloatBytes)} → ${mb(q.sizes.tfjsQuantizedBytes)}, test accuracy ${pct(q.floatAccuracy)} → ${pct(q.quantizedAccuracy)} (${q.accuracyDelta === null ? '–' : `${q.accuracyDelta >= 0 ? '+' : ''}${(q.accuracyDelta * 100).toFixed(1)} points`}).`,
      );
    }
    const parity = info.parity;
    for (const a of parity?.artefacts ?? []) {
      write(
        `parity ${a.artefact}${a.quantized ? ' (8-bit)' : ''}: ${pct(a.agreement)} same top label on ${a.images} test images, max |Δp| ${a.maxAbsDiff.toExponential(2)}${a.passed ? '' : ` — FAILED: ${a.reason}`}`,
      );
    }
    for (const s of info.skipped) write(`${s.part} not included: ${s.reason}.`);
    if (info.status === 'done') write(`Export ${info.id} of run ${info.runId} done: ${dir} (${mb(info.bytes ?? 0)}), zip ${zip}.`);
    else write(`Export ${info.id} of run ${info.runId} ${info.status}: ${info.error ?? ''}${dir ? ` Kept for inspection at ${dir}.` : ''}`);
    if (args.json) {
      write(
        JSON.stringify({
          exportId: info.id,
          format: info.format,
          status: info.status,
          dir,
          zip,
          quantized: info.quantized,
          files: manifestFiles(dir),
          parity: parity
            ? { maxAbsDiff: parity.maxAbsDiff, agreement: parity.agreement, images: parity.images, passed: parity.passed }
            : null,
          ...(q
            ? {
                quantization: {
                  accuracyDelta: q.accuracyDelta,
                  tfjsFloatBytes: q.sizes.tfjsFloatBytes,
                  tfjsQuantizedBytes: q.sizes.tfjsQuantizedBytes,
                },
              }
            : {}),
          ...(info.skipped.length ? { skipped: info.skipped } : {}),
          ...(info.error ? { error: info.error } : {}),
        }),
      );
    }
    return info.status === 'done' ? 0 : 1;
  } finally {
    off();
    finished.stop();
  }
}
