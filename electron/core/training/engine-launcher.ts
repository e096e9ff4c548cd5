// How the host starts a training engine process. The web host, the CLI and tests fork it with
// child_process.fork; the desktop core (itself a utility process, which cannot start another)
// asks Electron main to start it as a utilityProcess and relay its messages. TrainingService only
// sees the channel below, so both ways train the same.
import { fork } from 'node:child_process';
import type { FromEngine, ToEngine } from '../engine/protocol.js';

export interface EngineExit {
  code: number | null;
  signal: string | null;
  /** The last lines the engine wrote to stderr, for the error message of a run it took down. */
  stderr: string[];
}

/** One engine process as the host talks to it. */
export interface EngineChannel {
  send(msg: ToEngine): void;
  onMessage(listener: (msg: FromEngine) => void): void;
  onExit(listener: (exit: EngineExit) => void): void;
  /** Ends the process now ('SIGKILL' for one that does not stop on the default signal). */
  kill(signal?: 'SIGTERM' | 'SIGKILL'): void;
  /** The host is done with this engine: it exits without being killed mid-write. */
  release(): void;
}

/** The engine's script and the Node flags it needs (the environment's resources.engineEntry). */
export interface EngineEntry {
  file: string;
  execArgv: string[];
}

export interface EngineLauncher {
  /** Starts `entry` (the engine's script and the Node flags it needs) as a process of its own. */
  start(options: { entry: EngineEntry; env?: NodeJS.ProcessEnv }): EngineChannel;
}

const NOISE = /TensorFlow\.js in Node\.js|tfjs-node for more|^=+$/;

/** Keeps the last few meaningful stderr lines of an engine (tfjs's banner is not an error). */
export class StderrTail {
  readonly lines: string[] = [];
  constructor(private readonly keep = 20) {}

  push(chunk: string): void {
    this.lines.push(...chunk.split('\n').filter((l) => l.trim() && !NOISE.test(l)));
    this.lines.splice(0, Math.max(0, this.lines.length - this.keep));
  }
}

/** The engine as a child_process.fork of plain Node (web host, CLI, tests). */
export const forkEngine: EngineLauncher = {
  start({ entry, env }) {
    const child = fork(entry.file, [], {
      execArgv: entry.execArgv,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: env ?? process.env,
    });
    const tail = new StderrTail();
    child.stderr?.setEncoding('utf8').on('data', (d: string) => tail.push(d));
    return {
      send: (msg) => void (child.connected && child.send(msg)),
      onMessage: (listener) => void child.on('message', (m) => listener(m as FromEngine)),
      onExit: (listener) => void child.on('exit', (code, signal) => listener({ code, signal, stderr: tail.lines })),
      kill: (signal) => void child.kill(signal),
      // The engine exits when its IPC channel closes (entry.ts).
      release: () => void (child.connected ? child.disconnect() : child.kill()),
    };
  },
};
