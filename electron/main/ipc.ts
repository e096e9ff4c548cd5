// The contract over Electron IPC: one channel for calls, one for events. Every call passes one
// wrapper that checks who sent it before the core validates what was sent.
import { ipcMain, type BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import type { EventName } from '../shared/contract.js';
import type { CoreClient } from './core-client.js';
import { isTrustedPageUrl } from './security.js';

export const INVOKE_CHANNEL = 'studio:invoke';
export const EVENT_CHANNEL = 'studio:event';

function trusted(event: IpcMainInvokeEvent, window: () => BrowserWindow | null): boolean {
  const frame = event.senderFrame;
  const win = window();
  return !!frame && frame.parent === null && isTrustedPageUrl(frame.url) && !!win && event.sender === win.webContents;
}

export function handleInvoke(core: CoreClient, window: () => BrowserWindow | null): void {
  ipcMain.handle(INVOKE_CHANNEL, async (event, method: unknown, args: unknown) => {
    if (!trusted(event, window))
      return { ok: false, error: { code: 'invalid', message: 'Calls are accepted only from the app’s own page.' } };
    if (typeof method !== 'string' || method.length > 100) return { ok: false, error: { code: 'invalid', message: 'Unknown call.' } };
    return core.invoke(method, args);
  });
}

export function forwardEvent(window: BrowserWindow | null, name: EventName, payload: unknown): void {
  if (window && !window.isDestroyed()) window.webContents.send(EVENT_CHANNEL, name, payload);
}
