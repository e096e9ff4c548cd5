// The core process's side of the training engines: an EngineLauncher whose engines main starts
// as utility processes (engine-relay.ts). TrainingService uses it like the child_process one.
import type { EngineChannel, EngineEntry, EngineExit, EngineLauncher } from '../core/training/engine-launcher.js';
import type { FromEngine } from '../core/engine/protocol.js';
import type { CoreToEngine, EngineToCore } from './core-messages.js';

interface Relayed {
  messages: ((msg: FromEngine) => void)[];
  exits: ((exit: EngineExit) => void)[];
}

export class RelayedEngines implements EngineLauncher {
  private engines = new Map<number, Relayed>();
  private nextId = 1;

  /** `toMain` posts to Electron main; main's engine messages go to `handle`. */
  constructor(private readonly toMain: (msg: CoreToEngine) => void) {}

  start(options: { entry: EngineEntry; env?: NodeJS.ProcessEnv }): EngineChannel {
    const engine = this.nextId++;
    const relayed: Relayed = { messages: [], exits: [] };
    this.engines.set(engine, relayed);
    this.toMain({ type: 'engine.start', engine, entry: options.entry, ...(options.env ? { env: { ...options.env } } : {}) });
    const kill = () => {
      if (this.engines.has(engine)) this.toMain({ type: 'engine.kill', engine });
    };
    return {
      send: (msg) => {
        if (this.engines.has(engine)) this.toMain({ type: 'engine.send', engine, msg });
      },
      onMessage: (listener) => void relayed.messages.push(listener),
      onExit: (listener) => void relayed.exits.push(listener),
      // A utility process has no IPC channel to close and no choice of signal: both end it.
      kill,
      release: kill,
    };
  }

  /** An engine's message or exit, as main relays it. */
  handle(msg: EngineToCore): void {
    if (msg.type === 'engine.message') {
      for (const listener of this.engines.get(msg.engine)?.messages ?? []) listener(msg.msg);
      return;
    }
    const relayed = this.engines.get(msg.engine);
    this.engines.delete(msg.engine);
    for (const listener of relayed?.exits ?? []) listener({ code: msg.code, signal: null, stderr: msg.stderr });
  }
}
