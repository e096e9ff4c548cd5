// Stratified train/validation/test splits, stored per image. Stable by construction: an image
// keeps its split for life; images that have none yet are dealt, per label, to whichever split
// is furthest below its target share, in an order drawn from the project's seed. Changing the
// seed or the fractions redraws everything, on purpose and only then.
import { createHash } from 'node:crypto';
import type { Db } from '../db/connection.js';
import { StudioError } from '../../shared/contract.js';

export type Split = 'train' | 'validation' | 'test';
export const SPLITS: readonly Split[] = ['train', 'validation', 'test'];

export interface SplitSettings {
  seed: number;
  train: number;
  validation: number;
  test: number;
}

export const DEFAULT_SPLIT: SplitSettings = { seed: 1, train: 0.7, validation: 0.15, test: 0.15 };

export function splitSettings(db: Db, projectId: number): SplitSettings {
  const row = db.prepare('SELECT seed, train, validation, test FROM split_settings WHERE project_id = ?').get(projectId) as
    SplitSettings | undefined;
  return row ?? DEFAULT_SPLIT;
}

function validate(s: SplitSettings): SplitSettings {
  const parts = [s.train, s.validation, s.test];
  if (parts.some((p) => !Number.isFinite(p) || p < 0)) throw new StudioError('invalid', 'Split fractions must be zero or more.');
  if (!(s.train > 0)) throw new StudioError('invalid', 'The training split cannot be empty.');
  const sum = parts.reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > 1e-6 && Math.abs(sum - 100) > 1e-4)
    throw new StudioError('invalid', `Split fractions must add up to 1 (or 100%); these add up to ${sum}.`);
  const k = sum > 1.5 ? 100 : 1;
  if (!Number.isInteger(s.seed)) throw new StudioError('invalid', 'The split seed must be a whole number.');
  return { seed: s.seed, train: s.train / k, validation: s.validation / k, test: s.test / k };
}

/** Stores new settings and redraws every split of the project. */
export function resetSplits(db: Db, projectId: number, settings: Partial<SplitSettings> = {}): SplitCounts {
  const next = validate({ ...splitSettings(db, projectId), ...settings });
  return db.transaction(() => {
    db.prepare(
      `INSERT INTO split_settings (project_id, seed, train, validation, test) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(project_id) DO UPDATE SET seed = excluded.seed, train = excluded.train, validation = excluded.validation, test = excluded.test`,
    ).run(projectId, next.seed, next.train, next.validation, next.test);
    db.prepare('UPDATE images SET split = NULL WHERE project_id = ?').run(projectId);
    return assignSplits(db, projectId);
  })();
}

export type SplitCounts = Record<Split, number> & { assigned: number };

/**
 * Gives every labeled, active image without a split one. Returns the counts over the labeled,
 * active images of the project (the ones training uses).
 */
export function assignSplits(db: Db, projectId: number): SplitCounts {
  const s = splitSettings(db, projectId);
  const target: Record<Split, number> = { train: s.train, validation: s.validation, test: s.test };
  return db.transaction(() => {
    const rows = db
      .prepare("SELECT id, sha256, label_id, split FROM images WHERE project_id = ? AND status = 'active' AND label_id IS NOT NULL")
      .all(projectId) as { id: number; sha256: string; label_id: number; split: Split | null }[];
    const byLabel = new Map<number, typeof rows>();
    for (const r of rows) byLabel.set(r.label_id, [...(byLabel.get(r.label_id) ?? []), r]);
    const update = db.prepare('UPDATE images SET split = ? WHERE id = ?');
    let assigned = 0;
    for (const group of byLabel.values()) {
      const have: Record<Split, number> = { train: 0, validation: 0, test: 0 };
      for (const r of group) if (r.split) have[r.split]++;
      const fresh = group
        .filter((r) => r.split === null)
        .sort((a, b) => order(s.seed, a.sha256).localeCompare(order(s.seed, b.sha256)) || a.id - b.id);
      const n = group.length;
      for (const r of fresh) {
        const split = mostBehind(have, target, n);
        have[split]++;
        update.run(split, r.id);
        assigned++;
      }
    }
    const counts = db
      .prepare("SELECT split, COUNT(*) AS n FROM images WHERE project_id = ? AND status = 'active' AND label_id IS NOT NULL GROUP BY split")
      .all(projectId) as { split: Split; n: number }[];
    const out: SplitCounts = { train: 0, validation: 0, test: 0, assigned };
    for (const c of counts) if (c.split) out[c.split] = c.n;
    return out;
  })();
}

/** A label's first image always goes to train, so even a label of one can be learned. */
function mostBehind(have: Record<Split, number>, target: Record<Split, number>, n: number): Split {
  if (have.train === 0) return 'train';
  let best: Split = 'train';
  let bestDeficit = -Infinity;
  for (const split of SPLITS) {
    if (target[split] <= 0) continue;
    const deficit = target[split] * n - have[split];
    if (deficit > bestDeficit + 1e-9) {
      best = split;
      bestDeficit = deficit;
    }
  }
  return best;
}

/** Content-derived, so the order does not depend on import order or row ids. */
function order(seed: number, sha256: string): string {
  return createHash('sha256').update(`${seed}:${sha256}`).digest('hex');
}

export interface TrainingImage {
  id: number;
  sha256: string;
  format: string;
  labelId: number;
  split: Split;
}

/** Labeled, active images with their (freshly completed) splits, in id order. */
export function trainingImages(db: Db, projectId: number): TrainingImage[] {
  assignSplits(db, projectId);
  return (
    db
      .prepare(
        "SELECT id, sha256, format, label_id, split FROM images WHERE project_id = ? AND status = 'active' AND label_id IS NOT NULL AND split IS NOT NULL ORDER BY id",
      )
      .all(projectId) as { id: number; sha256: string; format: string; label_id: number; split: Split }[]
  ).map((r) => ({ id: r.id, sha256: r.sha256, format: r.format, labelId: r.label_id, split: r.split }));
}
