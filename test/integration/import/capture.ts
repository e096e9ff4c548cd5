// Webcam frames into a project: stored like an imported picture, a corrupt one refused, and one
// capture session undone and redone as one action.
import { describe, expect, it } from 'vitest';
import { StudioError } from '../../../electron/shared/contract.js';
import { halvesJpeg } from '../../fixtures/images.js';
import { newProject, rowsWithoutFiles, studio } from './fixture.js';

describe('webcam capture', () => {
  it('stores a frame like an import and refuses a corrupt one', async () => {
    const projectId = await newProject('capture');
    const label = await studio.call('labels.create', { projectId, name: 'me' });
    const frame = await halvesJpeg(64, 48);
    const row = await studio.call('images.capture', {
      projectId,
      labelId: label.id,
      mime: 'image/jpeg',
      dataBase64: frame.toString('base64'),
    });
    expect(row).toMatchObject({ labelId: label.id, width: 64, height: 48, status: 'active' });
    expect(rowsWithoutFiles(projectId)).toEqual([]);
    const bad = studio.call('images.capture', {
      projectId,
      labelId: null,
      mime: 'image/jpeg',
      dataBase64: frame.subarray(0, 200).toString('base64'),
    });
    await expect(bad).rejects.toBeInstanceOf(StudioError);
    await expect(bad).rejects.toMatchObject({ code: 'invalid' });
    expect((await studio.call('labels.counts', { projectId })).total).toBe(1);
  });

  it('one capture session is one undo: undo takes its pictures out, redo puts them back under the same ids', async () => {
    const projectId = await newProject('capture-undo');
    const label = await studio.call('labels.create', { projectId, name: 'me' });
    const shoot = async (size: number, batch: string) =>
      studio.call('images.capture', {
        projectId,
        labelId: label.id,
        mime: 'image/jpeg',
        dataBase64: (await halvesJpeg(size, 48)).toString('base64'),
        batch,
      });
    const a = await shoot(64, 'session-1');
    const b = await shoot(66, 'session-1');
    // The same frame again is the picture already there: nothing new to undo.
    await shoot(66, 'session-1');
    expect(await studio.call('history.state', { projectId })).toMatchObject({ canUndo: true, undoLabel: 'Capture 2 pictures' });
    const undone = await studio.call('history.undo', { projectId });
    expect(undone).toMatchObject({ canUndo: false, canRedo: true, redoLabel: 'Capture 2 pictures' });
    expect(await studio.call('labels.counts', { projectId })).toMatchObject({ total: 0, labels: [{ name: 'me', count: 0 }] });
    await studio.call('history.redo', { projectId });
    expect(await studio.call('labels.counts', { projectId })).toMatchObject({ total: 2, labels: [{ name: 'me', count: 2 }] });
    for (const r of [a, b]) expect(await studio.call('images.get', { projectId, imageId: r.id })).toMatchObject({ labelId: label.id });
    expect(rowsWithoutFiles(projectId)).toEqual([]);
    // A later session is its own action.
    await shoot(68, 'session-2');
    expect(await studio.call('history.state', { projectId })).toMatchObject({ undoLabel: 'Capture 1 picture' });
  });
});
