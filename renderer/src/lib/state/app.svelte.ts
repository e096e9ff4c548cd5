// What the host can do (upload vs native dialog) and whether it is reachable.
import type { AppInfo } from '../../../../electron/shared/schemas';
import { api, transport } from '../client';
import type { ConnectionState } from '../transport';
import { attempt } from './toasts.svelte';

class AppState {
  info = $state<AppInfo | null>(null);
  connection = $state<ConnectionState>('connecting');

  constructor() {
    transport.onConnection((s) => (this.connection = s));
  }

  async load(): Promise<void> {
    this.info = (await attempt(api.call('app.info', {}))) ?? null;
  }
}

export const app = new AppState();
