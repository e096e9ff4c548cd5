// `studio train … --json` on a tiny base through the real engine process.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Studio } from '../../electron/core/studio.js';
import { trainCommand, parseTrainArgs } from '../../electron/host/commands/train.js';
import { installTinyBase } from '../fixtures/tiny-base.js';
import { makeTrainingProject } from '../fixtures/training-project.js';
import { testEnvironment } from '../fixtures/environment.js';

let dir: string;
let studio: Studio;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'train-cli-'));
  studio = new Studio({ environment: testEnvironment(dir), host: 'cli' });
  await installTinyBase(studio.environment.models, path.join(dir, 'bases'));
  makeTrainingProject(studio.db, studio.paths, { bird: 10, vehicle: 10, fruit: 10 }, 'clip art');
});
afterAll(() => {
  studio.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const args = (...a: string[]) => {
  const flags = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.startsWith('--')) flags.set(a[i]!.slice(2), a[++i]!);
    else positionals.push(a[i]!);
  }
  return { positionals, flags, json: true };
};

describe('studio train', () => {
  it('trains and ends with one JSON line holding the run summary', async () => {
    const lines: string[] = [];
    const code = await trainCommand(
      studio,
      args('train', 'clip art', '--strategy', 'head', '--base', 'tiny', '--epochs', '3', '--seed', '7', '--lr', '0.01'),
      (l) => lines.push(l),
      () => {},
    );
    expect(code).toBe(0);
    const last = JSON.parse(lines[lines.length - 1]!);
    expect(last).toMatchObject({ strategy: 'head', base: 'tiny', engine: 'portable-wasm', status: 'done' });
    expect(last.runId).toBeGreaterThan(0);
    expect(last.epochs).toBeGreaterThanOrEqual(1);
    expect(last.durationMs).toBeGreaterThan(0);
    expect(typeof last.metrics.valAccuracy).toBe('number');
    expect(typeof last.metrics.testAccuracy).toBe('number');
    expect(lines.some((l) => /epoch 1: loss/.test(l))).toBe(true);
    const run = studio.db.prepare('SELECT config FROM runs WHERE id = ?').get(last.runId) as { config: string };
    expect(JSON.parse(run.config)).toMatchObject({ seed: 7, lr: 0.01, epochs: 3 });
    // Where the frozen pass ran is recorded with the run and reaches the UI through runs.get.
    const wire = await studio.call('runs.get', { runId: last.runId });
    expect(wire.backends?.frozen).toMatch(/^onnx-/);
    expect(wire.backends?.head).toBeTruthy();
  });

  it('says what is wrong with bad options', () => {
    expect(() => parseTrainArgs(args('train', 'p', '--strategy', 'magic'))).toThrow(/auto, head, partial or full/);
    expect(() => parseTrainArgs(args('train', 'p', '--epochs', '0'))).toThrow(/--epochs/);
    expect(() => parseTrainArgs(args('train', 'p', '--lr', 'fast'))).toThrow(/--lr/);
    expect(() => parseTrainArgs(args('train'))).toThrow(/Usage/);
    expect(() => parseTrainArgs(args('train', 'p', '--strategy', 'head', '--boundary', 'x'))).toThrow(/partial/);
  });

  it('accepts exactly what training.start accepts: the caps are the contract’s', () => {
    // The CLI used to take any seed ≥ 0; the contract caps it at 2^31 − 1.
    expect(() => parseTrainArgs(args('train', 'p', '--seed', String(2 ** 31)))).toThrow(/^--seed: Too big/);
    expect(parseTrainArgs(args('train', 'p', '--seed', String(2 ** 31 - 1))).start.overrides).toEqual({ seed: 2 ** 31 - 1 });
    expect(() => parseTrainArgs(args('train', 'p', '--epochs', '10001'))).toThrow(/^--epochs: Too big/);
    expect(() => parseTrainArgs(args('train', 'p', '--base', 'no/such'))).toThrow(/^--base: Not a base model id/);
  });
});
