// One import at a time: browser upload (web host) or native pick (desktop), then the job's
// progress events, then its report.
import type { ImportReport, JobProgress } from '../../../../electron/shared/schemas';
import { api, transport } from '../client';
import { messageOf, toasts } from './toasts.svelte';

export type ImportPhase = 'idle' | 'uploading' | 'importing' | 'done';
export interface PickedFile {
  file: File;
  /** Forward-slash relative path, e.g. "clipart-8/bird/owl.jpg". */
  path: string;
}

const UPLOADS_IN_FLIGHT = 4;

class ImportFlow {
  phase = $state<ImportPhase>('idle');
  folderLabels = $state(true);
  projectId = $state<number | null>(null);
  displayName = $state('');
  uploaded = $state({ files: 0, totalFiles: 0, bytes: 0, totalBytes: 0 });
  progress = $state<JobProgress | null>(null);
  report = $state<ImportReport | null>(null);
  private jobId: string | null = null;
  private abort: AbortController | null = null;
  // A quick import can finish before `import.start` has even answered.
  private early = new Map<string, ImportReport>();

  constructor() {
    api.on('job.progress', (p) => {
      if (p.jobId === this.jobId) this.progress = p;
    });
    api.on('import.finished', ({ report }) => {
      if (report.jobId === this.jobId) this.finish(report);
      else this.early.set(report.jobId, report);
    });
  }

  get busy(): boolean {
    return this.phase === 'uploading' || this.phase === 'importing';
  }

  /** Web host: uploads the files (4 at a time), then starts the import of the staged folder. */
  async upload(projectId: number, files: PickedFile[], csv?: string): Promise<void> {
    if (!transport.startUpload) return;
    if (files.length === 0) {
      toasts.push('That folder has no files in it.', 'info');
      return;
    }
    this.begin(projectId);
    this.phase = 'uploading';
    this.displayName = files[0]!.path.split('/')[0] ?? '';
    const totalBytes = files.reduce((n, f) => n + f.file.size, 0);
    this.uploaded = { files: 0, totalFiles: files.length, bytes: 0, totalBytes };
    const abort = new AbortController();
    this.abort = abort;
    try {
      const session = await transport.startUpload();
      let next = 0;
      const worker = async () => {
        while (next < files.length && !abort.signal.aborted) {
          const f = files[next++]!;
          await session.put(f.path, f.file, abort.signal);
          this.uploaded = { ...this.uploaded, files: this.uploaded.files + 1, bytes: this.uploaded.bytes + f.file.size };
        }
      };
      await Promise.all(Array.from({ length: UPLOADS_IN_FLIGHT }, worker));
      if (abort.signal.aborted) return;
      const picked = await session.finish(csv);
      await this.start(projectId, picked.source, picked.displayName);
    } catch (err) {
      if (!abort.signal.aborted) toasts.push(messageOf(err));
      this.phase = 'idle';
    }
  }

  /** Desktop: the native dialog picks, the host hands back a token. */
  async pickNative(projectId: number, kind: 'folder' | 'files' | 'csv'): Promise<void> {
    try {
      const picked = await api.call('import.pickSource', { kind });
      if (!picked) return;
      this.begin(projectId);
      await this.start(projectId, picked.source, picked.displayName);
    } catch (err) {
      toasts.push(messageOf(err));
      this.phase = 'idle';
    }
  }

  /** Picks up an import still running (after a reload). */
  async attach(projectId: number): Promise<void> {
    if (this.busy) return;
    const jobs = await api.call('jobs.active', {}).catch(() => []);
    const job = jobs.find((j) => j.kind === 'import' && j.projectId === projectId);
    if (!job) return;
    this.begin(projectId);
    this.jobId = job.jobId;
    this.progress = job;
    this.phase = 'importing';
  }

  async cancel(): Promise<void> {
    if (this.phase === 'uploading') {
      this.abort?.abort();
      this.phase = 'idle';
      toasts.push('Upload cancelled; nothing was imported.', 'info');
    } else if (this.phase === 'importing' && this.jobId) {
      await api.call('import.cancel', { jobId: this.jobId }).catch((err: unknown) => toasts.push(messageOf(err)));
    }
  }

  dismiss(): void {
    this.phase = 'idle';
    this.report = null;
    this.progress = null;
  }

  private begin(projectId: number): void {
    this.projectId = projectId;
    this.report = null;
    this.progress = null;
    this.jobId = null;
  }

  private async start(projectId: number, source: string, displayName: string): Promise<void> {
    this.displayName = displayName;
    this.phase = 'importing';
    const { jobId } = await api.call('import.start', { projectId, source, folderLabels: this.folderLabels });
    this.jobId = jobId;
    const early = this.early.get(jobId);
    if (early) this.finish(early);
  }

  private finish(report: ImportReport): void {
    this.early.delete(report.jobId);
    this.report = report;
    this.phase = 'done';
  }
}

export const importer = new ImportFlow();
