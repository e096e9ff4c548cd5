// Main's side of the training engines: starts one per request of the core and passes messages
// both ways. Written against the small interfaces below, not Electron's types, so it runs under
// plain Node in the unit test (a worker thread stands in for the utility process there).
import { StderrTail, type EngineEntry } from '../core/training/engine-launcher.js';
import type { FromEngine } from '../core/engine/protocol.js';
import type { CoreToEngine, EngineToCore } from './core-messages.js';

/** An engine process as main holds it: Electron's UtilityProcess has this shape. */
export interface EngineProcess {
  postMessage(msg: unknown): void;
  on(event: 'message', listener: (msg: unknown) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  kill(): unknown;
  readonly stderr?: NodeJS.ReadableStream | null;
}

export type StartEngine = (entry: EngineEntry, env: Record<string, string | undefined> | undefined) => EngineProcess;

const isEngineRequest = (msg: unknown): msg is CoreToEngine =>
  typeof msg === 'object' && msg !== null && String((msg as { type?: unknown }).type).startsWith('engine.');

export class EngineRelay {
  private engines = new Map<number, EngineProcess>();
  private closed = false;

  /** `toCore` posts to the core process; every message from the core goes to `handle`. */
  constructor(
    private readonly toCore: (msg: EngineToCore) => void,
    private readonly startEngine: StartEngine,
  ) {}

  /** Handles an engine request of the core; returns false for any other message. */
  handle(msg: unknown): boolean {
    if (!isEngineRequest(msg)) return false;
    if (this.closed) return true;
    switch (msg.type) {
      case 'engine.start':
        this.start(msg.engine, msg.entry, msg.env);
        break;
      case 'engine.send':
        this.engines.get(msg.engine)?.postMessage(msg.msg);
        break;
      case 'engine.kill':
        this.engines.get(msg.engine)?.kill();
        break;
    }
    return true;
  }

  /** The core is gone: no engine may outlive it, and nothing more goes to it. */
  stopAll(): void {
    this.closed = true;
    for (const engine of this.engines.values()) engine.kill();
    this.engines.clear();
  }

  /** Engine processes alive, for tests. */
  get running(): number {
    return this.engines.size;
  }

  private start(id: number, entry: EngineEntry, env: Record<string, string | undefined> | undefined): void {
    let engine: EngineProcess;
    try {
      engine = this.startEngine(entry, env);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.toCore({ type: 'engine.exit', engine: id, code: null, stderr: [`could not start the engine process: ${message}`] });
      return;
    }
    this.engines.set(id, engine);
    const tail = new StderrTail();
    engine.stderr?.setEncoding('utf8');
    engine.stderr?.on('data', (d: string) => tail.push(String(d)));
    engine.on('message', (msg) => {
      if (!this.closed) this.toCore({ type: 'engine.message', engine: id, msg: msg as FromEngine });
    });
    let stderrEnded = !engine.stderr;
    engine.stderr?.once('end', () => (stderrEnded = true));
    engine.on('exit', (code) => {
      this.engines.delete(id);
      let reported = false;
      const report = () => {
        if (reported || this.closed) return;
        reported = true;
        this.toCore({ type: 'engine.exit', engine: id, code, stderr: tail.lines });
      };
      if (stderrEnded) return report();
      // The last lines (often the reason it died) can still be in the pipe when 'exit' comes.
      engine.stderr?.once('end', report);
      setTimeout(report, 250).unref();
    });
  }
}
