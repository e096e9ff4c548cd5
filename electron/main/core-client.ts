// Main's side of the core utility process: forwards calls, image requests and events, answers
// the core's requests for native dialogs, and starts the training engines it asks for (as
// utility processes, relayed by engine-relay.ts). If the core dies, pending calls fail with a
// readable error, its engines are stopped and the core is started again, so the window stays usable.
import { utilityProcess, type UtilityProcess } from 'electron';
import type { EventName, WireError } from '../shared/contract.js';
import { coreArgs, type FromCore, type ImageReply, type PickedSource, type ToCore } from './core-messages.js';
import { EngineRelay } from './engine-relay.js';

export interface CoreClientOptions {
  modulePath: string;
  dataDir: string;
  nativeBinding: string | null;
  pickSource: (kind: 'folder' | 'files' | 'csv' | 'backup' | 'export-folder') => Promise<PickedSource | null>;
  reveal: (path: string) => void;
  onEvent: (name: EventName, payload: unknown) => void;
  onFatal: (message: string) => void;
}

type CallResult = { ok: true; value: unknown } | { ok: false; error: WireError };

export class CoreClient {
  private child!: UtilityProcess;
  private engines!: EngineRelay;
  private nextId = 1;
  private calls = new Map<number, (r: CallResult) => void>();
  private images = new Map<number, (r: ImageReply) => void>();
  private ready!: Promise<void>;
  private stopping = false;
  private fatal = false;
  private restarts: number[] = [];

  constructor(private options: CoreClientOptions) {
    this.start();
  }

  invoke(method: string, args: unknown): Promise<CallResult> {
    return this.ready.then(
      () =>
        new Promise<CallResult>((resolve) => {
          const id = this.nextId++;
          this.calls.set(id, resolve);
          this.send({ type: 'call', id, method, args });
        }),
      (err: Error) => ({ ok: false, error: { code: 'internal', message: err.message } }),
    );
  }

  image(imageId: number, variant: 'thumb' | 'full'): Promise<ImageReply> {
    return this.ready.then(
      () =>
        new Promise<ImageReply>((resolve) => {
          const id = this.nextId++;
          this.images.set(id, resolve);
          this.send({ type: 'image', id, imageId, variant });
        }),
      () => null,
    );
  }

  /** Lets the core close the database cleanly; kills it if it does not answer in time. */
  async stop(timeoutMs = 5000): Promise<void> {
    this.stopping = true;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.send({ type: 'shutdown' });
    const timer = setTimeout(() => this.child.kill(), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  private start(): void {
    const { modulePath, dataDir, nativeBinding } = this.options;
    const child = utilityProcess.fork(modulePath, coreArgs(dataDir, nativeBinding), {
      serviceName: 'Transfer Studio core',
      stdio: 'inherit',
    });
    this.child = child;
    this.engines = new EngineRelay(
      (msg) => child.postMessage(msg),
      (entry, env) =>
        utilityProcess.fork(entry.file, [], {
          serviceName: 'Transfer Studio training engine',
          execArgv: entry.execArgv,
          // stderr is read for the error message of a run the engine took down.
          stdio: ['ignore', 'ignore', 'pipe'],
          ...(env ? { env } : {}),
        }),
    );
    this.ready = new Promise<void>((resolve, reject) => {
      const onFirst = (msg: FromCore) => {
        if (msg.type === 'ready') resolve();
        else if (msg.type === 'fatal') {
          this.fatal = true;
          reject(new Error(msg.message));
          this.options.onFatal(msg.message);
        }
      };
      this.child.once('message', onFirst);
    });
    this.ready.catch(() => undefined);
    this.child.on('message', (msg: FromCore) => this.onMessage(msg));
    this.child.once('exit', (code) => this.onExit(code));
  }

  private onMessage(msg: FromCore): void {
    if (this.engines.handle(msg)) return;
    switch (msg.type) {
      case 'result': {
        const resolve = this.calls.get(msg.id);
        this.calls.delete(msg.id);
        resolve?.(msg.ok ? { ok: true, value: msg.value } : { ok: false, error: msg.error });
        break;
      }
      case 'image': {
        const resolve = this.images.get(msg.id);
        this.images.delete(msg.id);
        resolve?.(msg.image);
        break;
      }
      case 'event':
        this.options.onEvent(msg.name, msg.payload);
        break;
      case 'pick':
        this.options.pickSource(msg.kind).then(
          (source) => this.send({ type: 'picked', id: msg.id, source }),
          () => this.send({ type: 'picked', id: msg.id, source: null }),
        );
        break;
      case 'reveal':
        this.options.reveal(msg.path);
        break;
    }
  }

  private onExit(code: number): void {
    this.engines.stopAll();
    for (const resolve of this.calls.values())
      resolve({ ok: false, error: { code: 'internal', message: 'The background process stopped unexpectedly; please try again.' } });
    for (const resolve of this.images.values()) resolve(null);
    this.calls.clear();
    this.images.clear();
    if (this.stopping || this.fatal) return;
    // A core that keeps dying would otherwise restart forever.
    const now = Date.now();
    this.restarts = this.restarts.filter((t) => now - t < 60_000);
    if (this.restarts.length >= 3) return this.options.onFatal(`The background process keeps stopping (exit code ${code}).`);
    this.restarts.push(now);
    console.error(`[main] core process exited with code ${code}; restarting it`);
    this.start();
  }

  private send(msg: ToCore): void {
    this.child.postMessage(msg);
  }
}
