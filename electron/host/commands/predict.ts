// `studio predict RUN IMAGE… [--json]`: classifies image files with a trained run (ONNX Runtime,
// or tfjs where the model does not convert — printed either way). An unreadable image is listed
// with its error and the rest still run; the exit code is then 1. With --json the last stdout
// line is {"predictions":[{"path","label","probability","probabilities"} | {"path","error"}],"runtime"}.
import fs from 'node:fs/promises';
import type { Studio } from '../../core/studio.js';
import { createPredictCtx, closePredictCtx } from '../../core/predict/context.js';
import { describe } from '../../core/predict/classify.js';
import { decodeForModel } from '../../core/import/preprocess.js';
import { UsageError } from '../cli-args.js';

export const PREDICT_USAGE = `  predict RUN IMAGE... [--json]       classify image files with a trained run (RUN is its id)`;

export interface PredictArgs {
  positionals: string[];
  json: boolean;
}

type Entry = { path: string; label: string; probability: number; probabilities: Record<string, number> } | { path: string; error: string };

function reasonOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a folder, not an image';
  if (code === 'EACCES') return 'permission denied';
  return err instanceof Error ? err.message : String(err);
}

const pct = (p: number) => `${(p * 100).toFixed(1)}%`;

/** Runs the command; returns the exit code. `write` is stdout, `log` is stderr. */
export async function predictCommand(
  studio: Studio,
  args: PredictArgs,
  write: (line: string) => void,
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<number> {
  const [, runRef, ...files] = args.positionals;
  if (!runRef || files.length === 0) throw new UsageError(`Usage: studio predict RUN IMAGE... [--json]\n${PREDICT_USAGE}`);
  const runId = Number(runRef);
  if (!Number.isSafeInteger(runId) || runId <= 0) throw new UsageError(`RUN must be a run id (a whole number), got "${runRef}".`);
  const ctx = createPredictCtx({ db: studio.db, paths: studio.paths, jobs: studio.jobs, emit: () => {} });
  try {
    const { entries, runtime } = await ctx.sessions.use(studio.db, runId, async (p) => {
      log(`run ${runId}: ${p.model.labels.length} labels, ${p.model.inputSize} px, runtime ${p.runtime}`);
      const errors = new Map<number, string>();
      const probs = await p.predictMany({
        count: files.length,
        decode: async (i) => (await decodeForModel(await fs.readFile(files[i]!), p.model.inputSize)).data,
        onDecodeError: (i, err) => errors.set(i, reasonOf(err)),
      });
      const entries: Entry[] = probs.map((row, i) => {
        const file = files[i]!;
        if (!row) return { path: file, error: errors.get(i) ?? 'could not be read' };
        const r = describe(p.model.labels, row, p.runtime);
        return { path: file, label: r.label, probability: r.probability, probabilities: r.probabilities };
      });
      return { entries, runtime: p.runtime };
    });
    const width = Math.min(60, Math.max(...files.map((f) => f.length)));
    for (const e of entries) {
      if ('error' in e) log(`${e.path}: cannot read: ${e.error}`);
      else write(`${e.path.padEnd(width)}  ${e.label} (${pct(e.probability)})`);
    }
    if (args.json) write(JSON.stringify({ predictions: entries, runtime }));
    return entries.some((e) => 'error' in e) ? 1 : 0;
  } finally {
    await closePredictCtx(ctx);
  }
}
