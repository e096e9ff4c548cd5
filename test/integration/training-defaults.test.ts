// Training defaults live once (engine/config.ts): a run started the way the Train tab starts it
// (training.defaults, the wizard's answer, then training.start with every value) and a run of
// `studio train` with the same settings record the same configuration.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Studio } from '../../electron/core/studio.js';
import { trainCommand } from '../../electron/host/commands/train.js';
import { defaultConfig } from '../../electron/core/engine/config.js';
import { overridesOf, recommendedValues, strategyValues } from '../../renderer/src/lib/state/planValues.js';
import { installTinyBase } from '../fixtures/tiny-base.js';
import { testEnvironment } from '../fixtures/environment.js';
import { makeTrainingProject } from '../fixtures/training-project.js';

let dir: string;
let studio: Studio;
let projectId: number;
const PROJECT = 'few pictures';

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'training-defaults-'));
  studio = new Studio({ environment: testEnvironment(dir), host: 'cli' });
  await installTinyBase(studio.environment.models, path.join(dir, 'bases'));
  // Fewer than 20 pictures per label: the wizard recommends strategy 3 whatever the timing says.
  projectId = makeTrainingProject(studio.db, studio.paths, { bird: 8, vehicle: 8 }, PROJECT);
});
afterAll(() => {
  studio.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const configOf = (runId: number) =>
  JSON.parse((studio.db.prepare('SELECT config FROM runs WHERE id = ?').get(runId) as { config: string }).config);

/** `studio train PROJECT --base tiny [more…] --json`, returning the run id. */
async function cliRun(...more: string[]): Promise<number> {
  const flags = new Map<string, string | true>([['base', 'tiny']]);
  for (let i = 0; i < more.length; i += 2) flags.set(more[i]!.slice(2), more[i + 1]!);
  const lines: string[] = [];
  const code = await trainCommand(
    studio,
    { positionals: ['train', PROJECT], flags, json: true },
    (l) => lines.push(l),
    () => {},
  );
  expect(code, lines.join('\n')).toBe(0);
  return JSON.parse(lines.at(-1)!).runId;
}

/** training.start with the arguments the Train tab builds, through the contract; waits for the run. */
async function uiRun(values: ReturnType<typeof recommendedValues>): Promise<number> {
  const finished = new Promise<number>((resolve) => studio.training.once('finished', (r) => resolve(r.id)));
  const { runId } = await studio.call('training.start', {
    projectId,
    baseId: 'tiny',
    strategy: values.strategy,
    overrides: overridesOf(values),
  });
  expect(await finished).toBe(runId);
  expect((await studio.call('runs.get', { runId })).status).toBe('done');
  return runId;
}

describe('training defaults, once', () => {
  it('reach the Train tab through training.defaults, as the engine has them', async () => {
    const defaults = await studio.call('training.defaults', {});
    expect(defaults.baseId).toBe('mobilenet_v2');
    for (const s of ['head', 'partial', 'full'] as const) expect(defaults.byStrategy[s]).toEqual(defaultConfig(s));
    // The table the Train tab used to keep had batch 32 / patience 8 for strategy 3.
    expect(strategyValues(defaults, 'head', null)).toMatchObject({ batchSize: 64, patience: 12 });
  });

  it('a recommended run started in the UI and `studio train` record the same configuration', async () => {
    const defaults = await studio.call('training.defaults', {});
    const wizard = await studio.call('training.wizard', { projectId, baseId: 'tiny' });
    expect(wizard.recommendation.strategy).toBe('head');
    const ui = configOf(await uiRun(recommendedValues(defaults, wizard)));
    const cli = configOf(await cliRun());
    expect(ui).toEqual(cli);
    expect(ui).toMatchObject({ strategy: 'head', batchSize: 64, patience: 12, epochs: 80, lr: 2e-3 });
  });

  it('so does a chosen strategy with a changed setting', async () => {
    const defaults = await studio.call('training.defaults', {});
    const values = { ...recommendedValues(defaults, null), ...strategyValues(defaults, 'head', null), epochs: 5, seed: 3 };
    const ui = configOf(await uiRun(values));
    const cli = configOf(await cliRun('--strategy', 'head', '--epochs', '5', '--seed', '3'));
    expect(ui).toEqual(cli);
  });

  it("a fine-tuning plan carries its strategy's recipe, and a changed one reaches the run as set", async () => {
    const defaults = await studio.call('training.defaults', {});
    // Chosen under Advanced: strategy 2 brings its own schedule, layer rates and smoothing.
    expect(strategyValues(defaults, 'partial', null)).toMatchObject({ lrSchedule: 'cosine', lowestLayerLr: 0.3, labelSmoothing: 0.1 });
    const values = {
      ...recommendedValues(defaults, null),
      strategy: 'partial' as const,
      ...strategyValues(defaults, 'partial', null),
      epochs: 1,
      warmupEpochs: 1,
      lrSchedule: 'constant' as const,
      lowestLayerLr: 0.5,
      labelSmoothing: 0.05,
    };
    expect(configOf(await uiRun(values))).toMatchObject({
      strategy: 'partial',
      lrSchedule: 'constant',
      lowestLayerLr: 0.5,
      labelSmoothing: 0.05,
    });
  });
});
