// The engine processes a long-lived host started, kept until they exit, so that the host can wait
// for them when it stops. Studio.close() asks every engine to end (a training run's is killed, the
// suggestion engine's channel is closed so it ends after its current step), but an engine in the
// middle of a long step ends only when that step does; a host that then exits, or is killed for
// taking too long, leaves it running without a parent.
import { forkEngine, type EngineChannel, type EngineLauncher } from './engine-launcher.js';

export class EngineTracker implements EngineLauncher {
  /** Each engine still running, with the promise of its exit. */
  private readonly running = new Map<EngineChannel, Promise<void>>();

  constructor(private readonly launcher: EngineLauncher = forkEngine) {}

  start(options: Parameters<EngineLauncher['start']>[0]): EngineChannel {
    const channel = this.launcher.start(options);
    const exited = new Promise<void>((resolve) => channel.onExit(() => resolve()));
    this.running.set(channel, exited);
    void exited.then(() => this.running.delete(channel));
    return channel;
  }

  /** Resolves once every engine has exited; those still running after `graceMs` are killed. */
  async stopped(graceMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([Promise.all(this.running.values()), grace]);
    clearTimeout(timer);
    for (const channel of this.running.keys()) channel.kill('SIGKILL');
    await Promise.all(this.running.values());
  }
}
