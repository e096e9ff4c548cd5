// "Back up…" and "Restore from backup…" on the projects screen. A backup is made in the data
// folder; the desktop then shows it in the file manager, the browser downloads it. A restore reads
// a file the desktop's dialog picked, or one the browser uploads (the web host stages it and hands
// back a source token, as for an import).
import type { Project } from '../../../../electron/shared/schemas';
import { api, transport } from '../client';
import { plural } from '../format';
import { app } from './app.svelte';
import { projects } from './projects.svelte';
import { attempt, toasts } from './toasts.svelte';

class Backups {
  /** Projects being backed up now. */
  busy = $state<number[]>([]);
  restoring = $state(false);

  async backUp(project: Project): Promise<void> {
    this.busy = [...this.busy, project.id];
    const r = await attempt(api.call('backup.create', { projectId: project.id }));
    this.busy = this.busy.filter((id) => id !== project.id);
    if (!r?.key) return;
    toasts.push(`Backed up “${project.name}”: ${plural(r.images, 'image')}, ${plural(r.runs, 'run')} in ${r.fileName}.`, 'info');
    if (app.info?.host === 'electron') {
      await attempt(api.call('backup.reveal', { key: r.key }));
      return;
    }
    const a = document.createElement('a');
    a.href = `/backups/${r.key}.tar`;
    a.download = r.fileName;
    a.click();
  }

  /** Desktop: the native dialog picks the file. Browser: `file` is the one the user chose. */
  async restore(file?: File): Promise<Project | undefined> {
    this.restoring = true;
    try {
      let source: string | undefined;
      if (file && transport.startUpload) {
        const upload = transport.startUpload;
        source = await attempt(
          (async () => {
            const session = await upload();
            await session.put(file.name, file);
            return (await session.finish()).source;
          })(),
        );
      } else source = (await attempt(api.call('backup.pickFile', {})))?.source;
      if (!source) return undefined;
      const r = await attempt(api.call('backup.restore', { source }));
      if (!r) return undefined;
      toasts.push(
        `Restored “${r.project.name}”: ${plural(r.images, 'image')}, ${plural(r.labels, 'label')}, ${plural(r.runs, 'run')}.`,
        'info',
      );
      await projects.load();
      return r.project;
    } finally {
      this.restoring = false;
    }
  }
}

export const backups = new Backups();
