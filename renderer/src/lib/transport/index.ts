// Picks the transport once at start: the desktop preload's bridge if present, else the web host.
import { createIpcTransport } from './ipc';
import { createWsTransport } from './ws';
import type { Transport } from './types';

export function createTransport(): Transport {
  return window.studioBridge ? createIpcTransport(window.studioBridge) : createWsTransport();
}

export type { Transport, ImageVariant, ConnectionState } from './types';
