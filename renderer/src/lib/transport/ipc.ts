// The desktop transport: the preload's one bridge object. Images come from the app's custom
// protocol; folders come from the native dialog (`import.pickSource`), so no uploads here.
import type { Args, EventName, EventPayload, Method, Result, StudioApi } from '../../../../electron/shared/contract';
import { CallError, type Transport } from './types';

export interface StudioBridge {
  invoke(method: string, args: unknown): Promise<{ ok: true; value: unknown } | { ok: false; error: { code: string; message: string } }>;
  onEvent(listener: (name: string, payload: unknown) => void): () => void;
}

declare global {
  interface Window {
    studioBridge?: StudioBridge;
  }
}

export function createIpcTransport(bridge: StudioBridge): Transport {
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  bridge.onEvent((name, payload) => listeners.get(name)?.forEach((l) => l(payload)));

  const api: StudioApi = {
    async call<M extends Method>(method: M, args: Args<M>): Promise<Result<M>> {
      const reply = await bridge.invoke(method, args);
      if (!reply.ok) throw new CallError(reply.error.code, reply.error.message);
      return reply.value as Result<M>;
    },
    on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      const l = listener as (payload: unknown) => void;
      set.add(l);
      return () => set.delete(l);
    },
  };

  return {
    api,
    imageUrl: (imageId, variant) => `studio-image://img/${variant}/${imageId}`,
    // The bridge lives as long as the window does.
    onConnection(listener) {
      listener('open');
      return () => {};
    },
  };
}
