// The project currently open (at most one) and the host events that concern it.
import { api, transport } from '../client';
import { ProjectSession } from './project.svelte';

class Workspace {
  session = $state<ProjectSession | null>(null);

  constructor() {
    // After a lost connection, whatever happened meanwhile is unknown: re-read it.
    let wasLost = false;
    transport.onConnection((s) => {
      if (s === 'lost') wasLost = true;
      else if (s === 'open' && wasLost) {
        wasLost = false;
        void this.session?.refresh();
      }
    });
    api.on('project.changed', ({ projectId }) => {
      if (this.session?.projectId === projectId) void this.session.refresh();
    });
    api.on('import.finished', ({ projectId }) => {
      if (this.session?.projectId === projectId) void this.session.refresh();
    });
  }

  open(projectId: number): ProjectSession {
    if (this.session?.projectId !== projectId) {
      this.session = new ProjectSession(projectId);
      void this.session.load();
    }
    return this.session;
  }

  close(): void {
    this.session = null;
  }
}

export const workspace = new Workspace();
