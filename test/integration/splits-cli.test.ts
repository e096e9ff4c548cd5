// `studio splits PROJECT [--seed N] [--json]` as a user runs it (real processes, a temp data
// folder, real images): the split seed re-draws the split through the contract's `splits.set`,
// the same seed gives the same split, and every seed keeps each label's 70/15/15 shares.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIPART } from '../fixtures/datasets.js';
import { runStudio, lastJson } from '../fixtures/cli.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-splits-cli-'));
const dataDir = path.join(tmp, 'data');
const LABELS = ['bird', 'vehicle', 'fruit'];

const studio = (args: string[]) => runStudio(['--data-dir', dataDir, ...args], { cwd: tmp });

/** Each image's split, keyed by content (what the user sees as "this picture"), and per-label counts. */
function storedSplits(): { bySha: Map<string, string>; perLabel: Record<string, Record<string, number>> } {
  const db = new Database(path.join(dataDir, 'studio.db'), { readonly: true });
  try {
    const rows = db
      .prepare('SELECT i.sha256, i.split, l.name AS label FROM images i JOIN labels l ON l.id = i.label_id ORDER BY i.sha256')
      .all() as { sha256: string; split: string; label: string }[];
    const perLabel: Record<string, Record<string, number>> = {};
    for (const r of rows) {
      perLabel[r.label] ??= { train: 0, validation: 0, test: 0 };
      perLabel[r.label]![r.split]!++;
    }
    return { bySha: new Map(rows.map((r) => [r.sha256, r.split])), perLabel };
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  // Three labels of 20 real images: each split gets 14/3/3 per label.
  for (const label of LABELS) {
    fs.mkdirSync(path.join(tmp, 'images', label), { recursive: true });
    for (const f of fs.readdirSync(path.join(CLIPART, label)).sort().slice(0, 20))
      fs.copyFileSync(path.join(CLIPART, label, f), path.join(tmp, 'images', label, f));
  }
  expect((await studio(['project', 'create', 'Things'])).code).toBe(0);
  const imported = await studio(['import', 'Things', path.join(tmp, 'images')]);
  expect(imported.code, imported.stderr).toBe(0);
}, 120_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('studio splits', () => {
  const stratified = { train: 14, validation: 3, test: 3 };

  it('shows the default split (seed 1), stratified, as JSON', async () => {
    const r = await studio(['splits', 'Things', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/split seed 1 .*42 to learn from, 9 to check each epoch, 9 kept aside/);
    expect(lastJson(r.stdout)).toEqual({
      projectId: 1,
      seed: 1,
      fractions: { train: 0.7, validation: 0.15, test: 0.15 },
      counts: { train: 42, validation: 9, test: 9 },
    });
    for (const label of LABELS) expect(storedSplits().perLabel[label]).toEqual(stratified);
  }, 60_000);

  it('re-draws with --seed: a different split, still stratified; the same seed gives the same split again', async () => {
    const seed1 = storedSplits().bySha;
    const r2 = await studio(['splits', '1', '--seed', '2', '--json']);
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.stdout).toMatch(/^Re-drew the split with split seed 2/);
    expect(lastJson(r2.stdout)).toMatchObject({ seed: 2, counts: { train: 42, validation: 9, test: 9 } });
    const seed2 = storedSplits();
    for (const label of LABELS) expect(seed2.perLabel[label]).toEqual(stratified);
    const moved = [...seed1].filter(([sha, split]) => seed2.bySha.get(sha) !== split).length;
    expect(moved).toBeGreaterThan(5);

    // The seed is remembered: `splits` without --seed (and training) keeps using it.
    expect(lastJson((await studio(['splits', 'Things', '--json'])).stdout).seed).toBe(2);
    expect(storedSplits().bySha).toEqual(seed2.bySha);

    const back = await studio(['splits', 'Things', '--seed', '1', '--json']);
    expect(back.code, back.stderr).toBe(0);
    expect(storedSplits().bySha).toEqual(seed1);
  }, 60_000);

  it('says what is wrong with bad input', async () => {
    for (const bad of ['1.5', '-3']) {
      const r = await studio(['splits', 'Things', `--seed=${bad}`]);
      expect(r.code, `${bad}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/--seed must be a whole number, 0 or more/);
    }
    const usage = await studio(['splits']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/Usage: studio splits PROJECT \[--seed N\]/);
    const other = await studio(['splits', 'Things', '--epochs', '3']);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/splits does not take --epochs/);
    const missing = await studio(['splits', 'Nope', '--seed', '2']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no project named or numbered "Nope"/);
  }, 60_000);
});
