// Disk space in the UI: a project's bytes (storage.project) and deleting runs and exports, each
// after a confirmation that says what goes and what stays.
import type { z } from 'zod';
import type { ProjectStorage } from '../../../../electron/shared/contract-storage';
import { api } from '../client';
import { bytesInWords } from '../format';
import { dialogs } from './dialogs.svelte';
import { attempt, toasts } from './toasts.svelte';
import type { TrainingSession } from './training.svelte';
import type { ExportSession } from './export.svelte';

export type Usage = z.output<typeof ProjectStorage>;

class StorageState {
  usage = $state.raw<Usage | null>(null);

  async load(projectId: number): Promise<void> {
    const u = await attempt(api.call('storage.project', { projectId }));
    if (u) this.usage = u;
  }
}

export const storage = new StorageState();

const kept = (folders: string[]) =>
  folders.length ? ` Kept your export folder${folders.length === 1 ? '' : 's'} ${folders.map((f) => `“${f}”`).join(', ')}.` : '';

export async function deleteRun(training: TrainingSession, runId: number): Promise<void> {
  const ok = await dialogs.confirm({
    title: `Delete run ${runId}?`,
    message:
      'Its trained model, results and predictions are deleted, with the exports made inside the app. ' +
      'Exports you saved to a folder of your choice stay there. This cannot be undone.',
    confirmLabel: 'Delete run',
    danger: true,
  });
  if (!ok) return;
  const r = await attempt(api.call('runs.delete', { runId }));
  if (!r) return;
  training.runs = training.runs.filter((x) => x.id !== runId);
  if (training.openRunId === runId) void training.open(null);
  toasts.push(`Deleted run ${runId}: ${bytesInWords(r.freedBytes)} freed.${kept(r.exportFoldersKept)}`, 'info');
  void storage.load(training.projectId);
}

export async function deleteExport(session: ExportSession, exportId: number): Promise<void> {
  const ok = await dialogs.confirm({
    title: `Delete export ${exportId}?`,
    message:
      'An export made inside the app is deleted with its files; one saved to a folder of your choice stays there and only leaves this list.',
    confirmLabel: 'Delete export',
    danger: true,
  });
  if (!ok) return;
  const r = await attempt(api.call('exports.delete', { exportId }));
  if (!r) return;
  if (session.result?.id === exportId) session.result = null;
  await session.loadHistory();
  toasts.push(`Deleted export ${exportId}: ${bytesInWords(r.freedBytes)} freed.${kept(r.folderKept ? [r.folderKept] : [])}`, 'info');
}
