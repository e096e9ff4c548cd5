// `studio models import DIR [--scaling '[0,1]'|'[-1,1]'|'[0,255]'] [--json]` and `studio models
// list [--json]`: the model registry from the command line, through the contract (the folder is
// registered as a source token, as the desktop's folder dialog does).
import fs from 'node:fs';
import path from 'node:path';
import type { Studio } from '../../core/studio.js';
import { SCALING_CHOICES, type ModelInfo, type ScalingChoice } from '../../shared/contract-models.js';
import { StudioError } from '../../shared/contract.js';

export const MODELS_VALUED_FLAGS = ['scaling'] as const;
export const MODELS_USAGE = `  models import DIR [--scaling '[0,1]'|'[-1,1]'|'[0,255]']
                                      add a TensorFlow.js model folder as a base model; --scaling
                                      is needed when its metadata.json does not say the pixel range
  models list                         list the base models (built in, imported, downloaded)`;

export interface ModelsArgs {
  positionals: string[];
  flags: Map<string, string | true>;
  json: boolean;
}

export class ModelsUsageError extends Error {}

const CHOICES = SCALING_CHOICES.map((c) => `'${c}'`).join(', ');

function describe(m: ModelInfo): string {
  const range = `[${m.scaling.to.join(',')}]`;
  return `${m.id}  ${m.name}  (${m.origin}, ${m.format}, ${m.inputSize} px, scaling ${range}, strategies ${m.strategies.join(',')})`;
}

/** Runs the command; returns the exit code. `write` is stdout. */
export async function modelsCommand(studio: Studio, args: ModelsArgs, write: (line: string) => void): Promise<number> {
  const [, sub, ...rest] = args.positionals;
  if (sub === 'list') {
    if (rest.length || args.flags.has('scaling')) throw new ModelsUsageError('Usage: studio models list [--json]');
    const models = await studio.call('models.list', {});
    for (const m of models) write(describe(m));
    if (args.json) write(JSON.stringify({ models }));
    return 0;
  }
  if (sub !== 'import') throw new ModelsUsageError(`Usage:\n${MODELS_USAGE}`);
  if (rest.length !== 1) throw new ModelsUsageError(`Usage: studio models import DIR [--scaling ${SCALING_CHOICES.join('|')}] [--json]`);
  const scalingFlag = args.flags.get('scaling');
  if (scalingFlag !== undefined && !(SCALING_CHOICES as readonly unknown[]).includes(scalingFlag))
    throw new ModelsUsageError(`--scaling must be one of ${CHOICES}.`);
  const dir = path.resolve(rest[0]!);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new StudioError('not_found', `No such folder: ${dir}`);
  const source = studio.sources.register({ paths: [dir], displayName: path.basename(dir) });
  const result = await studio.call('models.import', {
    source,
    ...(scalingFlag ? { scaling: scalingFlag as ScalingChoice } : {}),
  });
  if (result.status === 'needsScaling') {
    // The token handed back for a second try stays unused here: a CLI asks in its flags.
    studio.sources.take(result.source).dispose?.();
    throw new StudioError(
      'invalid',
      `${path.basename(dir)} does not say which range its model expects pixels in; run again with --scaling ${CHOICES} (e.g. MobileNet uses '[-1,1]', nsfwjs models '[0,1]').`,
    );
  }
  write(`Imported "${result.model.name}" as ${describe(result.model)}`);
  if (args.json) write(JSON.stringify({ model: result.model }));
  return 0;
}
