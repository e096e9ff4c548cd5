// Runs in an Electron utilityProcess: the studio core (SQLite, imports, training) off the main
// thread. Talks to main over process.parentPort with the messages in core-messages.ts; its
// training engines are utility processes main starts for it (relayed-engine.ts).
import type {} from 'electron'; // for the type of process.parentPort
import path from 'node:path';
import { Studio } from '../core/studio.js';
import { createEnvironment, findAppRoot } from '../core/environment.js';
import { toWireError } from '../shared/contract.js';
import { browserImage } from '../core/library/browser-image.js';
import { readCoreArgs, type FromCore, type PickedSource, type ToCore } from './core-messages.js';
import { RelayedEngines } from './relayed-engine.js';

const port = process.parentPort;
const send = (msg: FromCore) => port.postMessage(msg);
const engines = new RelayedEngines(send);

let studio: Studio;
const pendingPicks = new Map<number, (source: PickedSource | null) => void>();
let nextPickId = 1;

function pickSource(kind: 'folder' | 'files' | 'csv' | 'backup' | 'export-folder'): Promise<PickedSource | null> {
  const id = nextPickId++;
  return new Promise((resolve) => {
    pendingPicks.set(id, resolve);
    send({ type: 'pick', id, kind });
  });
}

port.on('message', (e) => {
  const msg = e.data as ToCore;
  switch (msg.type) {
    case 'call':
      studio.invoke(msg.method, msg.args).then(
        (value) => send({ type: 'result', id: msg.id, ok: true, value }),
        (err: unknown) => {
          const error = toWireError(err);
          if (error.code === 'internal') console.error(`[core] ${msg.method} failed:`, err);
          send({ type: 'result', id: msg.id, ok: false, error });
        },
      );
      break;
    case 'image':
      browserImage(studio, msg.imageId, msg.variant).then(
        (image) =>
          send({
            type: 'image',
            id: msg.id,
            image: image && 'data' in image ? { data: new Uint8Array(image.data), mime: image.mime } : image,
          }),
        (err: unknown) => send({ type: 'image', id: msg.id, image: null, error: toWireError(err).message }),
      );
      break;
    case 'engine.message':
    case 'engine.exit':
      engines.handle(msg);
      break;
    case 'picked':
      pendingPicks.get(msg.id)?.(msg.source);
      pendingPicks.delete(msg.id);
      break;
    case 'shutdown':
      studio.close();
      send({ type: 'closed' });
      process.exit(0);
  }
});

// Listen first, then announce readiness, so no request can arrive before its handler.
try {
  const { dataDir, nativeBinding } = readCoreArgs(process.argv);
  // This bundle sits in the app (dist/electron/main/); an installed app's app.asar lies inside
  // Electron's resources folder, which then holds the bases, templates and TF.js runtime.
  const appRoot = findAppRoot(import.meta.url);
  const resources = process.resourcesPath;
  const inResources = resources ? path.relative(resources, appRoot) : '..';
  const packaged = !inResources.startsWith('..') && !path.isAbsolute(inResources);
  studio = new Studio({
    environment: createEnvironment({ appRoot, resourcesDir: packaged ? resources : undefined, code: 'bundled', dataDir, nativeBinding }),
    host: 'electron',
    pickSource,
    reveal: (file) => send({ type: 'reveal', path: file }),
    engineLauncher: engines,
    sweepAtStart: true,
  });
  studio.bus.subscribe((name, payload) => send({ type: 'event', name, payload }));
  send({ type: 'ready' });
} catch (err) {
  send({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}
