// `studio export RUN --format bundle|tfjs|onnx --out DIR [--quantize] [--json]`: exports a
// finished run, checks parity with the app on its test split, and prints where it went; with
// --json the last line is {exportId, format, status, dir, zip, files, parity}. Exit 1 when the
// parity check fails (the export is then kept as DIR.failed, not at DIR).
import path from 'node:path';
import type { Studio } from '../../core/studio.js';
import { exportRun, partsOf } from '../../core/export/bundle.js';
import type { ExportFormat } from '../../core/export/store.js';
import { StudioError } from '../../shared/contract.js';

export interface CommandArgs {
  positionals: string[];
  flags: Map<string, string | true>;
  json: boolean;
}

export class ExportUsageError extends Error {}

export function parseExportArgs(args: CommandArgs): { runId: number; format: ExportFormat; out: string; quantize: boolean } {
  const [, run, ...extra] = args.positionals;
  if (!run || extra.length) throw new ExportUsageError(`Usage: studio export RUN --out DIR [--format bundle|tfjs|onnx] [--quantize]`);
  const runId = Number(run);
  if (!Number.isInteger(runId) || runId <= 0)
    throw new ExportUsageError(`RUN must be a run id (a whole number), not "${run}"; \`studio train\` prints it.`);
  const format = args.flags.get('format') ?? 'bundle';
  if (format !== 'bundle' && format !== 'tfjs' && format !== 'onnx') throw new ExportUsageError('--format must be bundle, tfjs or onnx.');
  const out = args.flags.get('out');
  if (typeof out !== 'string' || out === '') throw new ExportUsageError('--out DIR is required: the folder to export into (new or empty).');
  const quantize = args.flags.get('quantize');
  if (quantize !== undefined && quantize !== true) throw new ExportUsageError('--quantize takes no value.');
  if (quantize && format === 'onnx') throw new ExportUsageError('--quantize applies to the TF.js model; use --format bundle or tfjs.');
  return { runId, format, out: path.resolve(out), quantize: quantize === true };
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)}%`);
const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;

export async function exportCommand(
  studio: Studio,
  args: CommandArgs,
  write: (line: string) => void,
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<number> {
  const opts = parseExportArgs(args);
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const result = await exportRun(
      { ...studio.environment, db: studio.db },
      {
        runId: opts.runId,
        parts: partsOf(opts.format),
        quantize: opts.quantize,
        outDir: opts.out,
        signal: controller.signal,
        onProgress: (phase, done, total) => log(`${phase} (${done}/${total})`),
      },
    );
    const { row, parity, preview } = result;
    if (preview) {
      write(
        `8-bit TF.js weights: ${mb(preview.sizes.tfjsFloatBytes)} → ${mb(preview.sizes.tfjsQuantizedBytes)}, test accuracy ${pct(preview.floatAccuracy)} → ${pct(preview.quantizedAccuracy)} (${preview.accuracyDelta === null ? '–' : `${preview.accuracyDelta >= 0 ? '+' : ''}${(preview.accuracyDelta * 100).toFixed(1)} points`}).`,
      );
    }
    for (const a of parity?.artefacts ?? []) {
      write(
        `parity ${a.artefact}${a.quantized ? ' (8-bit)' : ''}: ${pct(a.agreement)} same top label on ${a.images} test images, max |Δp| ${a.maxAbsDiff.toExponential(2)}${a.passed ? '' : ` — FAILED: ${a.reason}`}`,
      );
    }
    if (row.status === 'done') write(`Export ${row.id} of run ${row.runId} done: ${row.dir} (${mb(row.bytes ?? 0)}), zip ${row.zipPath}.`);
    else
      write(
        `Export ${row.id} of run ${row.runId} ${row.status}: ${row.error ?? ''}${row.dir ? ` Kept for inspection at ${row.dir}.` : ''}`,
      );
    if (args.json) {
      write(
        JSON.stringify({
          exportId: row.id,
          format: row.format,
          status: row.status,
          dir: row.dir,
          zip: row.zipPath,
          quantized: row.quantized,
          files: result.files.map((f) => ({ path: f.path, bytes: f.bytes, sha256: f.sha256 })),
          parity: parity
            ? { maxAbsDiff: parity.maxAbsDiff, agreement: parity.agreement, images: parity.images, passed: parity.passed }
            : null,
          ...(preview
            ? {
                quantization: {
                  accuracyDelta: preview.accuracyDelta,
                  tfjsFloatBytes: preview.sizes.tfjsFloatBytes,
                  tfjsQuantizedBytes: preview.sizes.tfjsQuantizedBytes,
                },
              }
            : {}),
          ...(row.error ? { error: row.error } : {}),
        }),
      );
    }
    return row.status === 'done' ? 0 : 1;
  } catch (err) {
    if (err instanceof StudioError) throw err;
    throw new StudioError('internal', err instanceof Error ? err.message : String(err));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
