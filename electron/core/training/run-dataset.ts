// The project's labeled images as the engine wants them: samples in content order with classes
// numbered by label name, and how many pictures each label has.
import type { Db } from '../db/connection.js';
import type { DataPaths } from '../paths.js';
import type { SampleRef } from '../engine/protocol.js';
import { StudioError } from '../../shared/contract.js';
import { trainingImages } from './splits.js';

export interface RunDataset {
  labels: string[];
  samples: SampleRef[];
  imageIds: number[];
  perLabel: Record<string, number>;
}

/**
 * Classes are numbered in label-name order (code points), not display order: the importer creates
 * labels as files finish, so display order can differ between two imports of the same folder,
 * and class numbering decides the head's initial weights. Labels in `leaveOut` are not used.
 */
export function runDataset(db: Db, paths: DataPaths, projectId: number, leaveOut: readonly number[] = []): RunDataset {
  // In content order, not row-id order: the engine draws folds, shuffles, augmentations and
  // feature batches by position, so two projects holding the same pictures (imported in any
  // order, at any time) must hand them over in the same order to train the same model.
  const left = new Set(leaveOut);
  const images = trainingImages(db, projectId)
    .filter((i) => !left.has(i.labelId))
    .sort((a, b) => (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : a.id - b.id));
  const labelRows = db.prepare('SELECT id, name FROM labels WHERE project_id = ?').all(projectId) as { id: number; name: string }[];
  labelRows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id - b.id));
  const used = labelRows.filter((l) => images.some((i) => i.labelId === l.id));
  const index = new Map(used.map((l, i) => [l.id, i]));
  const samples = images.map((i) => ({
    key: i.sha256,
    file: paths.stored(projectId, i.sha256, i.format),
    label: index.get(i.labelId)!,
    split: i.split,
  }));
  const perLabel = Object.fromEntries(used.map((l) => [l.name, images.filter((i) => i.labelId === l.id).length]));
  if (used.length < 2)
    throw new StudioError(
      'invalid',
      left.size > 0
        ? 'Training needs images in at least two labels besides the ones left out.'
        : 'Training needs images in at least two labels.',
    );
  return { labels: used.map((l) => l.name), samples, imageIds: images.map((i) => i.id), perLabel };
}
