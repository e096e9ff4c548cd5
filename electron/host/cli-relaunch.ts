// onnxruntime-node 1.30 crashes (SIGSEGV) in InferenceSession.create when its process's command
// line is longer than about 29 KB — `studio predict` with a few hundred absolute paths is enough.
// So a CLI started with a long command line does no work itself: it starts a copy of itself with
// a short command line, hands it the arguments over the IPC channel, and exits with its code.
// Standard input, output and error are shared, so `--files-from -` and the output work unchanged.
import { spawn } from 'node:child_process';
import os from 'node:os';

/** Well below the crash (about 29 KB); the relaunch costs one Node start-up, so only long lines pay it. */
export const MAX_ARGV_BYTES = 8 * 1024;
const ENV = 'STUDIO_CLI_ARGV_VIA_IPC';

/** Bytes of this process's command line as the OS holds it (/proc/self/cmdline): NUL-terminated arguments. */
export function commandLineBytes(argv: string[] = [process.execPath, ...process.execArgv, ...process.argv.slice(1)]): number {
  return argv.reduce((n, a) => n + Buffer.byteLength(a) + 1, 0);
}

/** In the relaunched copy: the arguments the first process sent. Null when this process was not relaunched. */
export async function receiveArgv(): Promise<string[] | null> {
  if (process.env[ENV] !== '1' || !process.send) return null;
  delete process.env[ENV]; // not for the engine processes this one starts
  const argv = await new Promise<string[]>((resolve, reject) => {
    process.once('message', (m: { argv?: unknown }) =>
      Array.isArray(m?.argv) ? resolve(m.argv.map(String)) : reject(new Error('The relaunched CLI got no arguments.')),
    );
  });
  process.disconnect();
  return argv;
}

/** Relaunches when the command line is too long; resolves to the copy's exit code, or null to carry on here. */
export async function relaunchWithShortArgv(limit = MAX_ARGV_BYTES): Promise<number | null> {
  if (process.env[ENV] === '1' || commandLineBytes() <= limit) return null;
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, [ENV]: '1' },
  });
  child.send({ argv: process.argv.slice(2) });
  // Ctrl+C reaches both processes (same process group): the copy cancels its job and exits, this
  // one waits for it (passing SIGINT on would make it a second Ctrl+C). SIGTERM sent to this
  // process alone is passed on.
  const onInt = () => {};
  const onTerm = () => child.kill('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    return await new Promise<number>((resolve) => {
      child.on('error', (err) => {
        process.stderr.write(`studio: could not start: ${err.message}\n`);
        resolve(1);
      });
      child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0)));
    });
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}
