// What prediction needs to know about a run: its finished model folder, labels and input size.
// The UI never sees the folder; errors here say in plain words why a run cannot predict.
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../db/connection.js';
import { getRun } from '../training/runs.js';
import { StudioError } from '../../shared/contract.js';

export interface RunModel {
  runId: number;
  projectId: number;
  folder: string;
  labels: string[];
  inputSize: number;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  } catch (err) {
    throw new StudioError(
      'not_found',
      `The model of this run is damaged or missing (${path.basename(file)}: ${(err as Error).message.split('\n')[0]}).`,
    );
  }
}

/** Reads a saved classifier folder (model.json, labels.json, config.json) without loading weights. */
export function readModelFolder(folder: string): { labels: string[]; inputSize: number } {
  if (!fs.existsSync(path.join(folder, 'model.json')))
    throw new StudioError('not_found', 'The model of this run is missing from the data folder.');
  const labels = readJson(path.join(folder, 'labels.json'));
  if (!Array.isArray(labels) || labels.length < 2 || !labels.every((l) => typeof l === 'string')) {
    throw new StudioError('invalid', 'The model of this run has no valid labels.json (a list of at least two label names).');
  }
  const config = readJson(path.join(folder, 'config.json')) as { inputSize?: unknown };
  const inputSize = config.inputSize;
  if (typeof inputSize !== 'number' || !Number.isInteger(inputSize) || inputSize <= 0)
    throw new StudioError('invalid', 'The model of this run does not say its input size (config.json).');
  return { labels: labels as string[], inputSize };
}

export function runModel(db: Db, runId: number): RunModel {
  const run = getRun(db, runId);
  if (run.status !== 'done' || !run.modelFolder) {
    const why = run.status === 'running' || run.status === 'queued' ? 'is still training' : `ended as ${run.status}`;
    throw new StudioError('conflict', `Run ${runId} has no trained model: it ${why}.`);
  }
  return { runId, projectId: run.projectId, folder: run.modelFolder, ...readModelFolder(run.modelFolder) };
}
