// Sandboxed preload: exposes exactly one object, window.studioBridge, and nothing of Node or
// Electron. The page can only call the contract and listen to its events.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';

type CallResult = { ok: true; value: unknown } | { ok: false; error: { code: string; message: string } };

const bridge = {
  invoke(method: string, args: unknown): Promise<CallResult> {
    return ipcRenderer.invoke('studio:invoke', String(method), args) as Promise<CallResult>;
  },
  onEvent(listener: (name: string, payload: unknown) => void): () => void {
    const wrapped = (_event: IpcRendererEvent, name: string, payload: unknown) => listener(name, payload);
    ipcRenderer.on('studio:event', wrapped);
    return () => {
      ipcRenderer.removeListener('studio:event', wrapped);
    };
  },
};

contextBridge.exposeInMainWorld('studioBridge', bridge);
