// The near-duplicate finder behind `duplicates.find`: hashes what was imported before hashes
// existed, reads a run's cached features where there are some, groups, and names the leaks.
import fs from 'node:fs';
import type { Db } from '../db/connection.js';
import type { DataPaths } from '../paths.js';
import { FeatureCache } from '../engine/feature-cache.js';
import { getProject } from '../library/projects.js';
import { getRun } from '../training/runs.js';
import type { NearDuplicates } from '../../shared/contract-duplicates.js';
import { StudioError } from '../../shared/contract.js';
import { perceptualHash } from './phash.js';
import { leakOf, nearDuplicateGroups, type Hashed, type SplitName } from './groups.js';
import type { ImageFormat } from '../import/sniff.js';

/** The words the app uses for the splits (the renderer's training words say the same). */
const SPLIT_WORDS: Record<SplitName, string> = { train: 'learning', validation: 'checking', test: 'test' };

export interface FinderContext {
  db: Db;
  paths: DataPaths;
  /** The engine's feature cache folder (TrainingService.cacheDir). */
  featureCacheDir: string;
}

interface Row {
  id: number;
  sha256: string;
  format: string;
  original_name: string;
  width: number;
  height: number;
  status: string;
  split: SplitName | null;
  label: string | null;
  phash: string | null;
}

/** Hashes the project's images that have none yet; returns how many it hashed. Undecodable files stay unhashed (and ungrouped). */
export async function backfillHashes(ctx: FinderContext, projectId: number): Promise<number> {
  const missing = ctx.db
    .prepare('SELECT id, sha256, format FROM images WHERE project_id = ? AND phash IS NULL ORDER BY id')
    .all(projectId) as { id: number; sha256: string; format: string }[];
  const update = ctx.db.prepare('UPDATE images SET phash = ? WHERE id = ? AND sha256 = ?');
  let hashed = 0;
  // A few at a time: sharp decodes on libuv's threads, and this shares the machine with the UI.
  for (let i = 0; i < missing.length; i += 4)
    await Promise.all(
      missing.slice(i, i + 4).map(async (m) => {
        try {
          const bytes = await fs.promises.readFile(ctx.paths.stored(projectId, m.sha256, m.format));
          update.run(await perceptualHash(bytes, m.format as ImageFormat), m.id, m.sha256);
          hashed++;
        } catch {
          // A missing or damaged stored file: the Images tab already reports it; nothing to compare.
        }
      }),
    );
  return hashed;
}

/**
 * Pooled features of the project's latest finished run that cached them (any strategy but
 * "fine-tune the top", whose cache holds activation maps), or the given run's. A reader by
 * content hash, or null when there is no such run.
 */
function featureReader(ctx: FinderContext, projectId: number, runId?: number): ((sha256: string) => Float32Array | null) | null {
  const ids =
    runId !== undefined
      ? [runId]
      : (ctx.db
          .prepare("SELECT id FROM runs WHERE project_id = ? AND status = 'done' ORDER BY id DESC LIMIT 5")
          .pluck()
          .all(projectId) as number[]);
  for (const id of ids) {
    const run = getRun(ctx.db, id);
    if (run.strategy === 'partial' || !run.config.featureLayer) continue;
    const name = `${run.baseId}/${run.config.featureLayer}`;
    return (sha256) => FeatureCache.peek(ctx.featureCacheDir, FeatureCache.key(name, 'pooled', sha256, 'original'), false);
  }
  return null;
}

export async function findNearDuplicates(ctx: FinderContext, projectId: number, runId?: number): Promise<NearDuplicates> {
  getProject(ctx.db, projectId);
  let recorded: Map<number, SplitName> | null = null;
  if (runId !== undefined) {
    const run = getRun(ctx.db, runId);
    if (run.projectId !== projectId) throw new StudioError('invalid', `Run ${runId} belongs to another project.`);
    const rows = ctx.db.prepare('SELECT image_id, split FROM run_images WHERE run_id = ? AND split IS NOT NULL').all(runId) as {
      image_id: number;
      split: SplitName;
    }[];
    recorded = new Map(rows.map((r) => [r.image_id, r.split]));
  }
  const hashedNow = await backfillHashes(ctx, projectId);
  const rows = ctx.db
    .prepare(
      `SELECT i.id, i.sha256, i.format, i.original_name, i.width, i.height, i.status, i.split, i.phash, l.name AS label
       FROM images i LEFT JOIN labels l ON l.id = i.label_id WHERE i.project_id = ? AND i.phash IS NOT NULL ORDER BY i.id`,
    )
    .all(projectId) as Row[];
  const read = featureReader(ctx, projectId, runId);
  const items: Hashed[] = rows.map((r) => ({ imageId: r.id, phash: r.phash!, features: read ? read(r.sha256) : null }));
  const byId = new Map(rows.map((r) => [r.id, r]));
  // Only a picture training uses has a split that matters: labeled and included (or, for a run, the split it recorded).
  const splitOf = (r: Row): SplitName | null =>
    recorded ? (recorded.get(r.id) ?? null) : r.status === 'active' && r.label !== null ? r.split : null;
  const groups: NearDuplicates['groups'] = [];
  const leaks: NearDuplicates['leaks'] = [];
  for (const g of nearDuplicateGroups(items)) {
    const members = g.imageIds.map((id) => {
      const r = byId.get(id)!;
      return { imageId: id, originalName: r.original_name, label: r.label, split: splitOf(r), width: r.width, height: r.height };
    });
    const leak = leakOf(members.map((m) => m.split));
    if (leak) {
      const moving = members.filter((m) => m.split !== null && m.split !== leak.moveTo);
      leaks.push({
        group: groups.length,
        splits: leak.splits,
        moveTo: leak.moveTo,
        imageIds: moving.map((m) => m.imageId),
        warning: `${members.length} near-identical pictures are split across ${leak.splits.map((x) => SPLIT_WORDS[x]).join(' and ')} pictures: the model is checked on pictures it has in effect learned. Moving ${moving.length === 1 ? 'one' : moving.length} to the ${SPLIT_WORDS[leak.moveTo]} pictures keeps them together.`,
      });
    }
    groups.push({ members, distance: g.distance, similarity: g.similarity, leak: !!leak });
  }
  return { groups, leaks, hashedNow, featuresUsed: items.some((i) => i.features !== null) };
}
