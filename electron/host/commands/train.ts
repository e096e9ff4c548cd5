// `studio train PROJECT [--strategy auto|head|partial|full] [--base ID] [--epochs N] [--lr X]
//  [--boundary LAYER] [--seed N] [--json]`: trains in the engine process, prints epochs as they
// come, Ctrl+C cancels; with --json the last line is the run summary as one JSON object.
import type { Studio } from '../../core/studio.js';
import { findProject } from '../../core/library/projects.js';
import { DEFAULT_BASE } from '../../core/training/service.js';
import type { TrainConfig } from '../../core/engine/config.js';
import { StudioError } from '../../shared/contract.js';

/** Flags `train` takes a value for (the CLI's parser must know them as valued). */
export const TRAIN_VALUED_FLAGS = ['strategy', 'base', 'epochs', 'lr', 'boundary', 'seed'] as const;
export const TRAIN_USAGE = `  train PROJECT [--strategy auto|head|partial|full] [--base ID] [--epochs N] [--lr X]
        [--boundary LAYER] [--seed N]  train a classifier (auto lets the wizard choose)`;

export interface TrainArgs {
  positionals: string[];
  flags: Map<string, string | true>;
  json: boolean;
}

export class TrainUsageError extends Error {}

function num(flags: TrainArgs['flags'], name: string, check: (n: number) => boolean, what: string): number | undefined {
  const v = flags.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(n) || !check(n)) throw new TrainUsageError(`--${name} must be ${what}.`);
  return n;
}

export function parseTrainArgs(args: TrainArgs): {
  project: string;
  strategy: 'auto' | 'head' | 'partial' | 'full';
  baseId: string;
  overrides: Partial<TrainConfig>;
} {
  const [, project, ...extra] = args.positionals;
  if (!project || extra.length) throw new TrainUsageError(`Usage: studio train PROJECT [options]\n${TRAIN_USAGE}`);
  const s = args.flags.get('strategy') ?? 'auto';
  if (s !== 'auto' && s !== 'head' && s !== 'partial' && s !== 'full')
    throw new TrainUsageError('--strategy must be auto, head, partial or full.');
  const base = args.flags.get('base');
  const boundary = args.flags.get('boundary');
  const overrides: Partial<TrainConfig> = {
    epochs: num(args.flags, 'epochs', (n) => Number.isInteger(n) && n >= 1 && n <= 10_000, 'a whole number from 1 to 10000'),
    lr: num(args.flags, 'lr', (n) => n > 0 && n < 1, 'a number between 0 and 1, e.g. 0.001'),
    seed: num(args.flags, 'seed', (n) => Number.isInteger(n) && n >= 0, 'a whole number'),
    ...(typeof boundary === 'string' ? { boundary } : {}),
  };
  if (typeof boundary === 'string' && s !== 'partial' && s !== 'auto')
    throw new TrainUsageError('--boundary only applies to --strategy partial.');
  return { project, strategy: s, baseId: typeof base === 'string' ? base : DEFAULT_BASE, overrides };
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)}%`);

/** Runs the command; returns the exit code. `write` is stdout, `log` is stderr. */
export async function trainCommand(
  studio: Studio,
  args: TrainArgs,
  write: (line: string) => void,
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<number> {
  const opts = parseTrainArgs(args);
  const project = findProject(studio.db, opts.project);
  const service = studio.training;
  service.on('engine', (e) => log(`engine: ${e.name} (${e.tried.join('; ')})`));
  let lastPhase = '';
  service.on('progress', (p) => {
    if (p.phase !== lastPhase || p.done === p.total) {
      lastPhase = p.phase;
      if (p.phase === 'caching')
        log(`caching frozen features: ${p.done}/${p.total}${p.etaMs ? `, about ${Math.ceil(p.etaMs / 1000)} s left` : ''}`);
    }
  });
  service.on('epoch', ({ record: e }) =>
    write(
      `${e.phase === 'head' ? 'head    ' : 'finetune'} epoch ${e.epoch + 1}: loss ${e.loss.toFixed(4)} acc ${pct(e.acc)}  val loss ${e.valLoss?.toFixed(4) ?? '–'} val acc ${pct(e.valAcc)}  (${(e.ms / 1000).toFixed(1)} s)`,
    ),
  );
  let runId: number | null = null;
  const onSignal = () => {
    if (runId !== null) service.cancel(runId);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const started = await service.start(project.id, { strategy: opts.strategy, baseId: opts.baseId, overrides: opts.overrides });
    runId = started.runId;
    const run = await started.done;
    const m = run.metrics;
    if (run.status === 'done') {
      write(
        `Run ${run.id} done: strategy ${run.strategy} on ${run.baseId} (${run.engine}), test accuracy ${pct(m?.testAccuracy)}, validation ${pct(m?.valAccuracy)}, ${((run.durationMs ?? 0) / 1000).toFixed(1)} s.`,
      );
      write(`Model: ${run.modelFolder}`);
    } else write(`Run ${run.id} ${run.status}${run.error ? `: ${run.error}` : ''}.`);
    if (args.json)
      write(
        JSON.stringify({
          runId: run.id,
          status: run.status,
          strategy: run.strategy,
          base: run.baseId,
          engine: run.engine,
          epochs: run.epochs.length,
          durationMs: run.durationMs,
          featureLayer: run.config.featureLayer,
          boundary: run.config.boundary,
          modelFolder: run.modelFolder,
          metrics: { valAccuracy: m?.valAccuracy ?? null, testAccuracy: m?.testAccuracy ?? null },
          ...(run.error ? { error: run.error } : {}),
        }),
      );
    return run.status === 'done' ? 0 : 1;
  } catch (err) {
    if (err instanceof StudioError) throw err;
    throw new StudioError('internal', err instanceof Error ? err.message : String(err));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    service.close();
  }
}
