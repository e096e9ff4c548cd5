// The project list.
import type { Project } from '../../../../electron/shared/schemas';
import { api } from '../client';
import { attempt } from './toasts.svelte';

class Projects {
  list = $state<Project[]>([]);
  loaded = $state(false);

  async load(): Promise<void> {
    const list = await attempt(api.call('projects.list', {}));
    if (list) this.list = list;
    this.loaded = true;
  }

  async create(name: string): Promise<Project | undefined> {
    const p = await attempt(api.call('projects.create', { name }));
    if (p) await this.load();
    return p;
  }

  async rename(projectId: number, name: string): Promise<boolean> {
    const p = await attempt(api.call('projects.rename', { projectId, name }));
    if (p) await this.load();
    return !!p;
  }

  async remove(projectId: number): Promise<void> {
    await attempt(api.call('projects.delete', { projectId }));
    await this.load();
  }
}

export const projects = new Projects();
