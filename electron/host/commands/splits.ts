// `studio splits PROJECT [--seed N] [--json]`: shows the project's train/validation/test split, or
// with --seed re-draws it (stratified per label) from that split seed, through the same contract
// calls as the desktop's split settings. `train --seed` is the training seed, not this one.
import type { Studio } from '../../core/studio.js';
import { resolveProject } from './contract-client.js';

export const SPLITS_USAGE = `  splits PROJECT [--seed N]           show the train/validation/test split; --seed N re-draws it
                                      (stratified per label) from split seed N`;

export interface SplitsArgs {
  positionals: string[];
  flags: Map<string, string | true>;
  json: boolean;
}

export class SplitsUsageError extends Error {}

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;

/** Runs the command; returns the exit code. `write` is stdout. */
export async function splitsCommand(studio: Studio, args: SplitsArgs, write: (line: string) => void): Promise<number> {
  const [, ref, ...extra] = args.positionals;
  if (!ref || extra.length) throw new SplitsUsageError(`Usage: studio splits PROJECT [--seed N] [--json]`);
  for (const name of args.flags.keys())
    if (name !== 'seed' && name !== 'json' && name !== 'data-dir') throw new SplitsUsageError(`splits does not take --${name}.`);
  const seedFlag = args.flags.get('seed');
  let seed: number | undefined;
  if (seedFlag !== undefined) {
    seed = Number(seedFlag);
    // The stored seed is a SQLite integer; keep it within what JSON and SQLite both hold exactly.
    if (typeof seedFlag !== 'string' || !/^\d+$/.test(seedFlag) || !Number.isSafeInteger(seed))
      throw new SplitsUsageError('--seed must be a whole number, 0 or more.');
  }
  const projectId = (await resolveProject(studio, ref)).id;
  const { settings, counts } =
    seed === undefined
      ? await studio.call('splits.get', { projectId })
      : await studio.call('splits.set', { projectId, settings: { seed } });
  write(
    `${seed === undefined ? 'Split' : 'Re-drew the split'} with split seed ${settings.seed} (${pct(settings.train)} / ${pct(settings.validation)} / ${pct(settings.test)}): ` +
      `${counts.train} to learn from, ${counts.validation} to check each epoch, ${counts.test} kept aside for the final test.`,
  );
  if (args.json)
    write(
      JSON.stringify({
        projectId,
        seed: settings.seed,
        fractions: { train: settings.train, validation: settings.validation, test: settings.test },
        counts: { train: counts.train, validation: counts.validation, test: counts.test },
      }),
    );
  return 0;
}
