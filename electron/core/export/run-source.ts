// What an export needs to know about a finished run: its model folder, labels, config, and the
// images it was trained and tested on (from the project, as splits stand now), with the
// dataset hash that identifies that data.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../db/connection.js';
import type { DataPaths } from '../paths.js';
import { getRun, type RunRow } from '../training/runs.js';
import { trainingImages, type Split } from '../training/splits.js';
import { StudioError } from '../../shared/contract.js';

export interface RunImage {
  sha256: string;
  file: string;
  label: string;
  /** Index into the run's labels. */
  labelIndex: number;
  split: Split;
}

export interface RunModelConfig {
  base: string;
  inputSize: number;
  preprocessing: Record<string, string>;
  featureLayer?: string;
  boundary?: string | null;
  engine?: string;
  [k: string]: unknown;
}

export interface RunSource {
  run: RunRow;
  /** What the user called the project: the exported demo's title. */
  projectName: string;
  modelDir: string;
  labels: string[];
  config: RunModelConfig;
  images: RunImage[];
  testImages: RunImage[];
  /** sha256 over the sorted lines `sha256<TAB>label<TAB>split` of every image the run used. */
  datasetHash: string;
}

function readJson<T>(file: string, what: string): T {
  if (!fs.existsSync(file)) throw new StudioError('not_found', `The run's model folder has no ${what} (${file}).`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

export function datasetHash(images: Pick<RunImage, 'sha256' | 'label' | 'split'>[]): string {
  const lines = images.map((i) => `${i.sha256}\t${i.label}\t${i.split}`).sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

/**
 * The run as an export sees it. Images are the project's labeled, active images in the run's
 * labels; a label renamed or images relabeled since training change them (and the hash says so).
 */
export function loadRunSource(db: Db, paths: DataPaths, runId: number): RunSource {
  const run = getRun(db, runId);
  if (run.status !== 'done') throw new StudioError('invalid', `Run ${runId} is ${run.status}; only a finished run can be exported.`);
  if (!run.modelFolder || !fs.existsSync(path.join(run.modelFolder, 'model.json'))) {
    throw new StudioError('not_found', `Run ${runId} has no saved model (looked in ${run.modelFolder ?? 'nowhere'}).`);
  }
  const modelDir = run.modelFolder;
  const labels = readJson<string[]>(path.join(modelDir, 'labels.json'), 'labels.json');
  const config = readJson<RunModelConfig>(path.join(modelDir, 'config.json'), 'config.json');
  if (!Array.isArray(labels) || labels.length < 2)
    throw new StudioError('invalid', `Run ${runId}'s labels.json does not list at least two labels.`);
  if (!Number.isInteger(config.inputSize) || config.inputSize <= 0)
    throw new StudioError('invalid', `Run ${runId}'s config.json does not say the input size.`);
  const labelIndex = new Map(labels.map((l, i) => [l, i]));
  const names = new Map(
    (db.prepare('SELECT id, name FROM labels WHERE project_id = ?').all(run.projectId) as { id: number; name: string }[]).map((r) => [
      r.id,
      r.name,
    ]),
  );
  const images: RunImage[] = [];
  for (const img of trainingImages(db, run.projectId)) {
    const label = names.get(img.labelId);
    if (label === undefined || !labelIndex.has(label)) continue;
    images.push({
      sha256: img.sha256,
      file: paths.stored(run.projectId, img.sha256, img.format),
      label,
      labelIndex: labelIndex.get(label)!,
      split: img.split,
    });
  }
  const testImages = images.filter((i) => i.split === 'test' && fs.existsSync(i.file));
  const project = db.prepare('SELECT name FROM projects WHERE id = ?').get(run.projectId) as { name: string } | undefined;
  return {
    run,
    projectName: project?.name ?? `Run ${runId}`,
    modelDir,
    labels,
    config,
    images,
    testImages,
    datasetHash: datasetHash(images),
  };
}
