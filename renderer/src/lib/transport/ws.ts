// The web host's transport: the contract over a WebSocket at /ws on the page's own origin,
// images and uploads over plain HTTP. The session cookie set by the host authenticates all.
import type { Args, EventName, EventPayload, Method, Result, ServerMessage, StudioApi } from '../../../../electron/shared/contract';
import { CallError, type ConnectionState, type Transport, type UploadSession } from './types';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

const RECONNECT_MS = [250, 500, 1000, 2000, 4000];

export function createWsTransport(origin: URL = new URL(window.location.href)): Transport {
  const wsUrl = `${origin.protocol === 'https:' ? 'wss:' : 'ws:'}//${origin.host}/ws`;
  const pending = new Map<number, Pending>();
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const connectionListeners = new Set<(s: ConnectionState) => void>();
  const queue: string[] = [];
  let nextId = 1;
  let socket: WebSocket | null = null;
  let attempts = 0;

  const setState = (s: ConnectionState) => connectionListeners.forEach((l) => l(s));

  function connect(): void {
    setState('connecting');
    const ws = new WebSocket(wsUrl);
    socket = ws;
    ws.onopen = () => {
      attempts = 0;
      setState('open');
      for (const msg of queue.splice(0)) ws.send(msg);
    };
    ws.onmessage = (e) => handle(String(e.data));
    ws.onclose = () => {
      socket = null;
      // Calls in flight have no reply coming; fail them so the UI does not hang.
      for (const [id, p] of pending) {
        p.reject(new CallError('internal', 'The connection to Transfer Studio was lost. Try again.'));
        pending.delete(id);
      }
      setState('lost');
      const delay = RECONNECT_MS[Math.min(attempts++, RECONNECT_MS.length - 1)];
      setTimeout(connect, delay);
    };
  }

  function handle(data: string): void {
    let msg: ServerMessage;
    try {
      msg = JSON.parse(data) as ServerMessage;
    } catch {
      return;
    }
    if (msg.type === 'result') {
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(new CallError(msg.error.code, msg.error.message));
    } else if (msg.type === 'event') {
      listeners.get(msg.name)?.forEach((l) => l(msg.payload));
    }
  }

  const api: StudioApi = {
    call<M extends Method>(method: M, args: Args<M>): Promise<Result<M>> {
      const id = nextId++;
      const text = JSON.stringify({ type: 'call', id, method, args });
      return new Promise<Result<M>>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        if (socket?.readyState === WebSocket.OPEN) socket.send(text);
        else queue.push(text);
      });
    },
    on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      const l = listener as (payload: unknown) => void;
      set.add(l);
      return () => set.delete(l);
    },
  };

  connect();

  return {
    api,
    imageUrl: (imageId, variant) => `/img/${variant}/${imageId}`,
    onConnection(listener) {
      connectionListeners.add(listener);
      return () => connectionListeners.delete(listener);
    },
    startUpload,
  };
}

async function httpError(res: Response): Promise<CallError> {
  let message = `The upload failed (HTTP ${res.status}).`;
  try {
    const body = (await res.json()) as { error?: unknown };
    if (typeof body.error === 'string') message = body.error;
  } catch {
    /* the status line is all we have */
  }
  return new CallError('invalid', message);
}

async function startUpload(): Promise<UploadSession> {
  const res = await fetch('/upload', { method: 'POST' });
  if (!res.ok) throw await httpError(res);
  const { session } = (await res.json()) as { session: string };
  const base = `/upload/${encodeURIComponent(session)}`;
  return {
    async put(relativePath, file, signal) {
      const r = await fetch(base, {
        method: 'PUT',
        headers: { 'X-Relative-Path': encodeURIComponent(relativePath), 'Content-Type': 'application/octet-stream' },
        body: file,
        ...(signal ? { signal } : {}),
      });
      if (!r.ok) throw await httpError(r);
    },
    async finish(csv) {
      const r = await fetch(`${base}/finish`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(csv ? { csv } : {}),
      });
      if (!r.ok) throw await httpError(r);
      return (await r.json()) as { source: string; displayName: string };
    },
  };
}
