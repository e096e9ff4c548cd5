// `runs.predictFiles`: a batch of local files (registered by a host, named by token) through a
// trained run. Decoding overlaps inference; an unreadable file gets a short reason and the rest
// still run. Results come back by position, so no path crosses the contract.
import fs from 'node:fs/promises';
import type { FilePrediction } from '../../shared/contract-predict.js';
import { decodeForModel } from '../import/preprocess.js';
import { describe } from './classify.js';
import type { PredictCtx } from './context.js';

function reasonOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a folder, not an image';
  if (code === 'EACCES') return 'permission denied';
  return err instanceof Error ? err.message : String(err);
}

export async function predictFiles(
  ctx: PredictCtx,
  runId: number,
  files: string[],
): Promise<{ runtime: string; labels: string[]; inputSize: number; predictions: FilePrediction[] }> {
  return ctx.sessions.use(ctx.db, runId, async (p) => {
    const errors = new Map<number, string>();
    const probs = await p.predictMany({
      count: files.length,
      decode: async (i) => (await decodeForModel(await fs.readFile(files[i]!), p.model.inputSize)).data,
      onDecodeError: (i, err) => errors.set(i, reasonOf(err)),
    });
    const predictions = probs.map((row, index): FilePrediction => {
      if (!row) return { index, error: errors.get(index) ?? 'could not be read' };
      const r = describe(p.model.labels, row, p.runtime);
      return { index, label: r.label, probability: r.probability, probabilities: r.probabilities };
    });
    return { runtime: p.runtime, labels: [...p.model.labels], inputSize: p.model.inputSize, predictions };
  });
}
