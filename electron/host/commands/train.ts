// `studio train PROJECT [--strategy auto|head|partial|full] [--base ID] [--epochs N] [--lr X]
//  [--boundary LAYER] [--seed N] [--from-run RUN] [--json]`: starts `training.start` like the UI does and follows
// the run through the contract's events: epochs as they come, Ctrl+C cancels; with --json the
// last line is the run summary as one JSON object. The options are checked by the contract's own
// schema, so the CLI accepts exactly what the call accepts, and says which flag was wrong.
import type { Studio } from '../../core/studio.js';
import { calls, StudioError, type Args, type EventPayload } from '../../shared/contract.js';
import { UsageError } from '../cli-args.js';
import { collectEvents, resolveProject, whileCancellable } from './contract-client.js';

export const TRAIN_USAGE = `  train PROJECT [--strategy auto|head|partial|full] [--base ID] [--epochs N] [--lr X]
        [--boundary LAYER] [--seed N] [--from-run RUN]
                                      train a classifier (auto lets the wizard choose); --from-run
                                      starts from that finished run's network and settings`;

export interface TrainArgs {
  positionals: string[];
  flags: Map<string, string | true>;
  json: boolean;
}

/** Flag → field of `training.start`'s overrides. */
const NUMBER_FLAGS = { epochs: 'epochs', lr: 'lr', seed: 'seed' } as const;
/** A contract field → the flag a user typed. */
const FLAG_OF: Record<string, string> = {
  baseId: 'base',
  strategy: 'strategy',
  epochs: 'epochs',
  lr: 'lr',
  seed: 'seed',
  boundary: 'boundary',
  fromRunId: 'from-run',
};

type StartArgs = Omit<Args<'training.start'>, 'projectId'>;

export function parseTrainArgs(args: TrainArgs): { project: string; start: StartArgs } {
  const [, project, ...extra] = args.positionals;
  if (!project || extra.length) throw new UsageError(`Usage: studio train PROJECT [options]\n${TRAIN_USAGE}`);
  const strategy = args.flags.get('strategy') ?? 'auto';
  const base = args.flags.get('base');
  const boundary = args.flags.get('boundary');
  if (typeof boundary === 'string' && strategy !== 'partial' && strategy !== 'auto')
    throw new UsageError('--boundary only applies to --strategy partial.');
  const overrides: Record<string, number | string> = {};
  for (const [flag, field] of Object.entries(NUMBER_FLAGS)) {
    const v = args.flags.get(flag);
    if (v === undefined) continue;
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (!Number.isFinite(n)) throw new UsageError(`--${flag} must be a number, not "${String(v)}".`);
    overrides[field] = n;
  }
  if (typeof boundary === 'string') overrides.boundary = boundary;
  const fromRun = args.flags.get('from-run');
  if (fromRun !== undefined && (typeof fromRun !== 'string' || !/^\d+$/.test(fromRun)))
    throw new UsageError(`--from-run must be a run id, not "${String(fromRun)}".`);
  const start = {
    strategy,
    ...(typeof base === 'string' ? { baseId: base } : {}),
    overrides,
    ...(typeof fromRun === 'string' ? { fromRunId: Number(fromRun) } : {}),
  } as StartArgs;
  // The contract's schema decides what is allowed (ranges, caps, names); the message names the flag.
  const checked = calls['training.start'].args.safeParse({ projectId: 1, ...start });
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    const field = String(issue.path.at(-1) ?? '');
    if (field === 'strategy') throw new UsageError('--strategy must be auto, head, partial or full.');
    throw new UsageError(`--${FLAG_OF[field] ?? field}: ${issue.message}`);
  }
  return { project, start };
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
  const project = await resolveProject(studio, opts.project);
  let runId: number | null = null;
  let lastPhase = '';
  const finished = collectEvents(studio, 'training.finished');
  const off = studio.bus.subscribe((name, payload) => {
    if (name === 'training.progress') {
      const p = payload as EventPayload<'training.progress'>;
      if (p.runId !== runId || (p.phase === lastPhase && p.done !== p.total)) return;
      lastPhase = p.phase;
      if (p.phase === 'caching')
        log(`caching frozen features: ${p.done}/${p.total}${p.etaMs ? `, about ${Math.ceil(p.etaMs / 1000)} s left` : ''}`);
    } else if (name === 'training.epoch') {
      const { runId: id, record: e } = payload as EventPayload<'training.epoch'>;
      if (id !== runId) return;
      write(
        `${e.phase === 'head' ? 'head    ' : 'finetune'} epoch ${e.epoch + 1}: loss ${e.loss.toFixed(4)} acc ${pct(e.acc)}  val loss ${e.valLoss?.toFixed(4) ?? '–'} val acc ${pct(e.valAcc)}  (${(e.ms / 1000).toFixed(1)} s)`,
      );
    }
  });
  try {
    const run = await whileCancellable(
      () => void (runId !== null && studio.call('training.cancel', { runId }).catch(() => {})),
      async () => {
        runId = (await studio.call('training.start', { projectId: project.id, ...opts.start })).runId;
        await finished.next((e) => e.runId === runId);
        return studio.call('runs.get', { runId });
      },
    );
    const m = run.metrics;
    if (run.engine)
      log(
        `engine: ${run.engine}${
          run.backends
            ? ` (${Object.entries(run.backends)
                .map(([k, v]) => `${k}: ${v}`)
                .join('; ')})`
            : ''
        }`,
      );
    if (run.status === 'done') {
      write(
        `Run ${run.id} done: strategy ${run.strategy} on ${run.baseId} (${run.engine}), test accuracy ${pct(m?.testAccuracy)}, validation ${pct(m?.valAccuracy)}, ${((run.durationMs ?? 0) / 1000).toFixed(1)} s.`,
      );
      write(`Export it with: studio export ${run.id} --out DIR`);
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
          featureLayer: run.config.featureLayer ?? null,
          boundary: run.config.boundary ?? null,
          metrics: { valAccuracy: m?.valAccuracy ?? null, testAccuracy: m?.testAccuracy ?? null },
          ...(run.error ? { error: run.error } : {}),
        }),
      );
    return run.status === 'done' ? 0 : 1;
  } catch (err) {
    if (err instanceof StudioError) throw err;
    throw new StudioError('internal', err instanceof Error ? err.message : String(err));
  } finally {
    off();
    finished.stop();
  }
}
