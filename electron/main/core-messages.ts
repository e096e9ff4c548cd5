// Messages between the Electron main process and the core's utility process. Main stays thin:
// it owns windows, dialogs and protocols; the core process owns the database and every heavy job.
import type { EventName, WireError } from '../shared/contract.js';
import type { FromEngine, ToEngine } from '../core/engine/protocol.js';
import type { EngineEntry } from '../core/training/engine-launcher.js';

export interface PickedSource {
  paths: string[];
  csv?: string;
  displayName: string;
}

export type ImageReply = { path: string; mime: string } | { data: Uint8Array; mime: string } | null;

export type ToCore =
  | { type: 'call'; id: number; method: string; args: unknown }
  | { type: 'image'; id: number; imageId: number; variant: 'thumb' | 'full' }
  | { type: 'picked'; id: number; source: PickedSource | null }
  | EngineToCore
  | { type: 'shutdown' };

export type FromCore =
  | { type: 'ready' }
  | { type: 'fatal'; message: string }
  | { type: 'result'; id: number; ok: true; value: unknown }
  | { type: 'result'; id: number; ok: false; error: WireError }
  | { type: 'image'; id: number; image: ImageReply; error?: string }
  | { type: 'event'; name: EventName; payload: unknown }
  | { type: 'pick'; id: number; kind: 'folder' | 'files' | 'csv' | 'backup' | 'export-folder' }
  /** Show a file in the system's file manager (an export's folder): only main has `shell`. */
  | { type: 'reveal'; path: string }
  | CoreToEngine
  | { type: 'closed' };

/**
 * Training engines, which the core cannot start itself (a utility process cannot fork another,
 * and running Electron as plain Node needs the runAsNode fuse): main starts each one as a
 * utilityProcess and relays, engine-relay.ts on main's side, relayed-engine.ts on the core's.
 * `engine` is the core's number for one engine process; `entry` is the script the core's
 * environment names (the core is ours: nothing the page sends reaches these messages).
 */
export type CoreToEngine =
  | { type: 'engine.start'; engine: number; entry: EngineEntry; env?: Record<string, string | undefined> }
  | { type: 'engine.send'; engine: number; msg: ToEngine }
  | { type: 'engine.kill'; engine: number };

export type EngineToCore =
  | { type: 'engine.message'; engine: number; msg: FromEngine }
  | { type: 'engine.exit'; engine: number; code: number | null; stderr: string[] };

/** What the core process is started with (argv after the module path). */
export function coreArgs(dataDir: string, nativeBinding: string | null): string[] {
  return ['--data-dir', dataDir, ...(nativeBinding ? ['--native-binding', nativeBinding] : [])];
}

export function readCoreArgs(argv: string[]): { dataDir: string; nativeBinding: string | null } {
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? (argv[i + 1] ?? null) : null;
  };
  const dataDir = get('--data-dir');
  if (!dataDir) throw new Error('core process started without --data-dir');
  return { dataDir, nativeBinding: get('--native-binding') };
}
