// The project list.
import type { Project } from '../../../../electron/shared/schemas';
import { api } from '../client';
import { attempt, attemptField } from './toasts.svelte';

class Projects {
  list = $state<Project[]>([]);
  loaded = $state(false);

  async load(): Promise<void> {
    const list = await attempt(api.call('projects.list', {}));
    if (list) this.list = list;
    this.loaded = true;
  }

  /** `onError` shows a refused name beside its field. */
  async create(name: string, onError: (message: string) => void): Promise<Project | undefined> {
    const p = await attemptField(api.call('projects.create', { name }), onError);
    if (p) await this.load();
    return p;
  }

  async rename(projectId: number, name: string, onError: (message: string) => void): Promise<boolean> {
    const p = await attemptField(api.call('projects.rename', { projectId, name }), onError);
    if (p) await this.load();
    return !!p;
  }

  async remove(projectId: number): Promise<void> {
    await attempt(api.call('projects.delete', { projectId }));
    await this.load();
  }
}

export const projects = new Projects();
