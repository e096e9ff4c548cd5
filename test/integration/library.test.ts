// The dataset library through the contract, on a real SQLite file: projects, labels,
// labeling with undo/redo, include/exclude, merge and delete (which never delete images).
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { Studio } from '../../electron/core/studio.js';
import { insertImage } from '../../electron/core/library/images.js';
import { testEnvironment } from '../fixtures/environment.js';

let dir: string;
let studio: Studio;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-lib-'));
  studio = new Studio({ environment: testEnvironment(dir), host: 'cli' });
});
afterEach(() => {
  studio.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Image rows without files: enough for everything that does not read pixels. */
function addImages(projectId: number, n: number, labelId: number | null = null): number[] {
  return studio.db.transaction(() =>
    Array.from(
      { length: n },
      (_, i) =>
        insertImage(studio.db, {
          projectId,
          sha256: createHash('sha256').update(`${projectId}/${labelId}/${i}`).digest('hex'),
          bytes: 100,
          width: 10,
          height: 10,
          format: 'png',
          originalName: `img${i}.png`,
          labelId,
        }).id,
    ),
  )();
}

describe('projects', () => {
  it('create, list, rename, delete', async () => {
    const a = await studio.call('projects.create', { name: 'Birds' });
    await studio.call('projects.create', { name: 'Fruit' });
    expect((await studio.call('projects.list', {})).map((p) => p.name).sort()).toEqual(['Birds', 'Fruit']);
    expect((await studio.call('projects.rename', { projectId: a.id, name: 'Garden birds' })).name).toBe('Garden birds');
    await studio.call('projects.delete', { projectId: a.id });
    expect((await studio.call('projects.list', {})).map((p) => p.name)).toEqual(['Fruit']);
    await expect(studio.call('projects.rename', { projectId: a.id, name: 'x' })).rejects.toThrow(/no project/);
  });

  it('rejects an empty or control-character name with a clear message', async () => {
    await expect(studio.call('projects.create', { name: '   ' })).rejects.toThrow(/cannot be empty/);
    await expect(studio.call('projects.create', { name: 'a\u0000b' })).rejects.toThrow(/control characters/);
  });

  it('keeps everything across a reopen of the same data folder', async () => {
    const p = await studio.call('projects.create', { name: 'Kept' });
    const l = await studio.call('labels.create', { projectId: p.id, name: 'cat' });
    addImages(p.id, 3, l.id);
    studio.close();
    studio = new Studio({ environment: testEnvironment(dir), host: 'cli' });
    const counts = await studio.call('labels.counts', { projectId: p.id });
    expect(counts.total).toBe(3);
    expect(counts.labels.map((x) => [x.name, x.count])).toEqual([['cat', 3]]);
  });
});

describe('labels and labeling', () => {
  it('assigns a label to a selection, counts follow, undo and redo restore exactly', async () => {
    const p = await studio.call('projects.create', { name: 'P' });
    const cat = await studio.call('labels.create', { projectId: p.id, name: 'cat' });
    const dog = await studio.call('labels.create', { projectId: p.id, name: 'dog' });
    const ids = addImages(p.id, 10);
    addImages(p.id, 2, dog.id);

    const r = await studio.call('images.assignLabel', {
      projectId: p.id,
      selection: { kind: 'ids', ids: ids.slice(0, 4) },
      labelId: cat.id,
    });
    expect(r.changed).toBe(4);
    expect(r.history).toMatchObject({ canUndo: true, canRedo: false, undoLabel: 'Label as cat' });
    let c = await studio.call('labels.counts', { projectId: p.id });
    expect([c.unlabeled, c.labels.find((l) => l.id === cat.id)!.count]).toEqual([6, 4]);

    // Relabel everything that is a dog or a cat as dog: the "before" differs per image.
    await studio.call('images.assignLabel', {
      projectId: p.id,
      selection: { kind: 'filter', filter: { label: cat.id, status: 'all' }, exceptIds: [] },
      labelId: dog.id,
    });
    c = await studio.call('labels.counts', { projectId: p.id });
    expect(c.labels.map((l) => l.count)).toEqual([0, 6]);

    await studio.call('history.undo', { projectId: p.id });
    c = await studio.call('labels.counts', { projectId: p.id });
    expect(c.labels.map((l) => l.count)).toEqual([4, 2]);
    const h = await studio.call('history.undo', { projectId: p.id });
    expect(h).toMatchObject({ canUndo: false, canRedo: true, redoLabel: 'Label as cat' });
    c = await studio.call('labels.counts', { projectId: p.id });
    expect([c.unlabeled, ...c.labels.map((l) => l.count)]).toEqual([10, 0, 2]);

    await studio.call('history.redo', { projectId: p.id });
    await studio.call('history.redo', { projectId: p.id });
    c = await studio.call('labels.counts', { projectId: p.id });
    expect(c.labels.map((l) => l.count)).toEqual([0, 6]);

    const detail = await studio.call('images.get', { projectId: p.id, imageId: ids[0]! });
    expect(detail).toMatchObject({ labelId: dog.id, labelSource: 'person' });
  });

  it('select-all with exceptions, exclude from training and undo', async () => {
    const p = await studio.call('projects.create', { name: 'P' });
    const ids = addImages(p.id, 5);
    const r = await studio.call('images.setStatus', {
      projectId: p.id,
      selection: { kind: 'filter', filter: { status: 'all' }, exceptIds: [ids[0]!] },
      status: 'excluded',
    });
    expect(r.changed).toBe(4);
    const page = await studio.call('images.page', { projectId: p.id, filter: { status: 'excluded' }, offset: 0, limit: 100 });
    expect(page.total).toBe(4);
    expect(page.rows.every((row) => row.status === 'excluded')).toBe(true);
    await studio.call('history.undo', { projectId: p.id });
    expect((await studio.call('labels.counts', { projectId: p.id })).excluded).toBe(0);
  });

  it('rename, recolour, merge and delete; deleting a label never deletes images', async () => {
    const p = await studio.call('projects.create', { name: 'P' });
    const a = await studio.call('labels.create', { projectId: p.id, name: 'a' });
    const b = await studio.call('labels.create', { projectId: p.id, name: 'b' });
    addImages(p.id, 3, a.id);
    addImages(p.id, 2, b.id);
    await expect(studio.call('labels.create', { projectId: p.id, name: 'a' })).rejects.toThrow(/already exists/);
    const renamed = await studio.call('labels.update', { projectId: p.id, labelId: a.id, name: 'alpha', colour: '#123456' });
    expect(renamed).toMatchObject({ name: 'alpha', colour: '#123456', count: 3 });
    await expect(studio.call('labels.update', { projectId: p.id, labelId: a.id, colour: 'red' })).rejects.toThrow(/#rrggbb/);

    let c = await studio.call('labels.merge', { projectId: p.id, sourceIds: [b.id], targetId: a.id });
    expect(c.labels.map((l) => [l.name, l.count])).toEqual([['alpha', 5]]);
    c = await studio.call('labels.delete', { projectId: p.id, labelId: a.id });
    expect(c).toMatchObject({ total: 5, unlabeled: 5, labels: [] });
  });

  it('undoing a label delete whose old id now names another label (a project restored from a backup) gives it a new id', async () => {
    const p = await studio.call('projects.create', { name: 'P' });
    const other = await studio.call('projects.create', { name: 'Other' });
    const a = await studio.call('labels.create', { projectId: p.id, name: 'a' });
    const ids = addImages(p.id, 2, a.id);
    await studio.call('labels.delete', { projectId: p.id, labelId: a.id });
    studio.db.prepare("INSERT INTO labels (id, project_id, name, colour) VALUES (?, ?, 'theirs', '#000000')").run(a.id, other.id);
    await studio.call('history.undo', { projectId: p.id });
    const back = (await studio.call('labels.counts', { projectId: p.id })).labels;
    expect(back).toMatchObject([{ name: 'a', count: 2 }]);
    expect(back[0]!.id).not.toBe(a.id);
    expect((await studio.call('labels.counts', { projectId: other.id })).labels).toMatchObject([{ name: 'theirs', count: 0 }]);
    for (const id of ids) expect((await studio.call('images.get', { projectId: p.id, imageId: id })).labelId).toBe(back[0]!.id);
    await studio.call('history.redo', { projectId: p.id });
    expect((await studio.call('labels.counts', { projectId: p.id })).labels).toEqual([]);
    expect((await studio.call('labels.counts', { projectId: other.id })).labels).toHaveLength(1);
  });

  it('undo after the label was merged away leaves images unlabeled instead of failing', async () => {
    const p = await studio.call('projects.create', { name: 'P' });
    const a = await studio.call('labels.create', { projectId: p.id, name: 'a' });
    const b = await studio.call('labels.create', { projectId: p.id, name: 'b' });
    const ids = addImages(p.id, 2, a.id);
    await studio.call('images.assignLabel', { projectId: p.id, selection: { kind: 'ids', ids }, labelId: b.id });
    await studio.call('labels.merge', { projectId: p.id, sourceIds: [a.id], targetId: b.id });
    await studio.call('history.undo', { projectId: p.id });
    expect((await studio.call('labels.counts', { projectId: p.id })).unlabeled).toBe(2);
  });

  it('deleting a label is undoable: the label comes back with its id, colour, place and images, and redo deletes it again', async () => {
    const p = await studio.call('projects.create', { name: 'P' });
    const a = await studio.call('labels.create', { projectId: p.id, name: 'a', colour: '#123456' });
    const b = await studio.call('labels.create', { projectId: p.id, name: 'b' });
    const ids = addImages(p.id, 3, a.id);
    addImages(p.id, 1, b.id);
    await studio.call('labels.delete', { projectId: p.id, labelId: a.id });
    expect(await studio.call('history.state', { projectId: p.id })).toMatchObject({ canUndo: true, undoLabel: 'Delete label a' });
    expect((await studio.call('labels.counts', { projectId: p.id })).unlabeled).toBe(3);

    await studio.call('history.undo', { projectId: p.id });
    const back = await studio.call('labels.counts', { projectId: p.id });
    expect(back.unlabeled).toBe(0);
    expect(back.labels.map((l) => [l.id, l.name, l.colour, l.count])).toEqual([
      [a.id, 'a', '#123456', 3],
      [b.id, 'b', b.colour, 1],
    ]);
    // Who named the label is kept, not rewritten as a new labeling.
    for (const id of ids)
      expect(await studio.call('images.get', { projectId: p.id, imageId: id })).toMatchObject({ labelId: a.id, labelSource: 'person' });

    await studio.call('history.redo', { projectId: p.id });
    expect((await studio.call('labels.counts', { projectId: p.id })).labels.map((l) => l.name)).toEqual(['b']);
    // A label made under the same name meanwhile keeps it; the restored one is renamed.
    await studio.call('labels.create', { projectId: p.id, name: 'a' });
    await studio.call('history.undo', { projectId: p.id });
    const both = await studio.call('labels.counts', { projectId: p.id });
    expect(both.labels.find((l) => l.id === a.id)).toMatchObject({ name: 'a (2)', count: 3 });
    expect(both.labels.some((l) => l.name === 'a' && l.count === 0)).toBe(true);
  });

  it('undo and redo skip images removed since the action, say how many, and never touch an image created after it', async () => {
    const p = await studio.call('projects.create', { name: 'Removed' });
    const cat = await studio.call('labels.create', { projectId: p.id, name: 'cat' });
    const ids = addImages(p.id, 3);
    await studio.call('images.assignLabel', { projectId: p.id, selection: { kind: 'ids', ids }, labelId: cat.id });
    // The highest id: SQLite hands it out again to the next image (until ids are AUTOINCREMENT).
    const removed = Math.max(...ids);
    await studio.call('images.remove', { projectId: p.id, selection: { kind: 'ids', ids: [removed] } });
    const undone = await studio.call('history.undo', { projectId: p.id });
    expect(undone).toMatchObject({ canRedo: true, skipped: 1 });
    const kept = ids.filter((id) => id !== removed);
    for (const id of kept) expect((await studio.call('images.get', { projectId: p.id, imageId: id })).labelId).toBeNull();
    // A new image, perhaps under the removed one's id, is not the one the action labeled.
    await new Promise((r) => setTimeout(r, 5));
    const fresh = insertImage(studio.db, {
      projectId: p.id,
      sha256: createHash('sha256').update('fresh').digest('hex'),
      bytes: 1,
      width: 1,
      height: 1,
      format: 'png',
      originalName: 'fresh.png',
      labelId: null,
    }).id;
    const redone = await studio.call('history.redo', { projectId: p.id });
    expect(redone).toMatchObject({ canUndo: true, skipped: 1 });
    expect((await studio.call('images.get', { projectId: p.id, imageId: fresh })).labelId).toBeNull();
    for (const id of kept) expect((await studio.call('images.get', { projectId: p.id, imageId: id })).labelId).toBe(cat.id);
    // Still undoable, again and again.
    expect(await studio.call('history.undo', { projectId: p.id })).toMatchObject({ canRedo: true });
    expect(await studio.call('history.redo', { projectId: p.id })).toMatchObject({ canUndo: true });
  });

  it("a project cannot touch another project's images or labels", async () => {
    const p1 = await studio.call('projects.create', { name: 'one' });
    const p2 = await studio.call('projects.create', { name: 'two' });
    const l2 = await studio.call('labels.create', { projectId: p2.id, name: 'x' });
    const ids1 = addImages(p1.id, 2);
    const r = await studio.call('images.assignLabel', { projectId: p2.id, selection: { kind: 'ids', ids: ids1 }, labelId: l2.id });
    expect(r.changed).toBe(0);
    await expect(
      studio.call('images.assignLabel', { projectId: p1.id, selection: { kind: 'ids', ids: ids1 }, labelId: l2.id }),
    ).rejects.toThrow(/no label/);
    await expect(studio.call('images.get', { projectId: p2.id, imageId: ids1[0]! })).rejects.toThrow(/no image/);
  });

  it('pages through a filtered grid in id order', async () => {
    const p = await studio.call('projects.create', { name: 'P' });
    const l = await studio.call('labels.create', { projectId: p.id, name: 'l' });
    const un = addImages(p.id, 7);
    addImages(p.id, 5, l.id);
    const page = await studio.call('images.page', { projectId: p.id, filter: { label: null }, offset: 2, limit: 3 });
    expect(page.total).toBe(7);
    expect(page.rows.map((r) => r.id)).toEqual(un.slice(2, 5));
    const labelled = await studio.call('images.page', { projectId: p.id, filter: { label: l.id }, offset: 0, limit: 100 });
    expect(labelled.total).toBe(5);
  });

  it('removing images deletes their rows and keeps the others', async () => {
    const p = await studio.call('projects.create', { name: 'P' });
    const ids = addImages(p.id, 4);
    expect((await studio.call('images.remove', { projectId: p.id, selection: { kind: 'ids', ids: ids.slice(0, 3) } })).removed).toBe(3);
    expect((await studio.call('labels.counts', { projectId: p.id })).total).toBe(1);
  });
});

describe('trigger-kept counters', () => {
  it('always equal a fresh COUNT(*) after inserts, relabels, status changes, merges and deletes', async () => {
    const p = await studio.call('projects.create', { name: 'P' });
    const a = await studio.call('labels.create', { projectId: p.id, name: 'a' });
    const b = await studio.call('labels.create', { projectId: p.id, name: 'b' });
    const c = await studio.call('labels.create', { projectId: p.id, name: 'c' });
    const ids = [...addImages(p.id, 20), ...addImages(p.id, 10, a.id), ...addImages(p.id, 5, b.id)];
    await studio.call('images.assignLabel', { projectId: p.id, selection: { kind: 'ids', ids: ids.slice(5, 25) }, labelId: c.id });
    await studio.call('images.setStatus', { projectId: p.id, selection: { kind: 'ids', ids: ids.slice(0, 12) }, status: 'excluded' });
    await studio.call('history.undo', { projectId: p.id });
    await studio.call('history.redo', { projectId: p.id });
    await studio.call('labels.merge', { projectId: p.id, sourceIds: [a.id], targetId: b.id });
    await studio.call('images.remove', { projectId: p.id, selection: { kind: 'ids', ids: ids.slice(8, 14) } });
    await studio.call('labels.delete', { projectId: p.id, labelId: c.id });

    const counted = studio.db
      .prepare(
        `SELECT COUNT(*) AS total, SUM(label_id IS NULL) AS unlabeled, SUM(status = 'excluded') AS excluded FROM images WHERE project_id = ?`,
      )
      .get(p.id) as { total: number; unlabeled: number; excluded: number };
    const counts = await studio.call('labels.counts', { projectId: p.id });
    expect({ total: counts.total, unlabeled: counts.unlabeled, excluded: counts.excluded }).toEqual(counted);
    for (const l of counts.labels) {
      const n = (studio.db.prepare('SELECT COUNT(*) AS n FROM images WHERE label_id = ?').get(l.id) as { n: number }).n;
      expect(l.count).toBe(n);
    }
    expect(counts.total).toBe(29);
  });
});
