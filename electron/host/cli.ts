// The `studio` command: the same core as the app, without a window, speaking the same contract
// (`studio.call`) as every other client. Paths the user names are registered with the Studio
// (the CLI is a trusted host) and passed to calls as tokens. User errors print one line and exit
// 1 (2 for usage errors); with --json the last stdout line is one JSON object.
// Heavy libraries (tfjs, ONNX Runtime, sharp) load only when a command needs them: the commands
// are imported on demand, and the bundle (scripts/build-node.mjs) loads those libraries lazily.
import fs from 'node:fs';
import path from 'node:path';
import { Studio } from '../core/studio.js';
import { resolveDataDir } from '../core/paths.js';
import { createEnvironment, findAppRoot, readSettings, type StudioEnvironment } from '../core/environment.js';
import { StudioError } from '../shared/contract.js';
import { DatabaseTooNewError } from '../core/db/connection.js';
import { EngineTracker } from '../core/training/engine-tracker.js';
import { parseArgv, UsageError, USAGE, type Parsed } from './cli-args.js';
import { relaunchWithShortArgv, receiveArgv } from './cli-relaunch.js';

const VERSION = '0.1.0';
/** How long `studio serve` waits on stopping for an engine busy with a long step before killing it. */
const ENGINE_GRACE_MS = 3000;

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

const settings = readSettings();

/** The CLI's environment, built once per command: resources from this checkout (or the bundle's package). */
function environment(args: Parsed): StudioEnvironment {
  return createEnvironment({
    appRoot: findAppRoot(import.meta.url),
    // tsx runs this file as .ts; the bundled CLI is .js.
    code: import.meta.url.endsWith('.ts') ? 'source' : 'bundled',
    dataDir: resolveDataDir(args.dataDir, settings.dataDir),
    settings,
  });
}

function openStudio(
  args: Parsed,
  host: 'cli' | 'web' = 'cli',
  env: StudioEnvironment = environment(args),
  engines?: EngineTracker,
): Studio {
  // The web host lives long: it sweeps the data folder's debris at start; one-shot commands do not.
  return new Studio({
    environment: env,
    host,
    version: VERSION,
    sweepAtStart: host === 'web',
    ...(engines ? { engineLauncher: engines } : {}),
  });
}

function expectPositionals(p: string[], min: number, max: number, usage: string): void {
  if (p.length < min || p.length > max) throw new UsageError(`Usage: studio ${usage}`);
}

/** Opens the Studio for one command and closes it whatever happens; the command returns the exit code. */
async function withStudio(args: Parsed, command: (studio: Studio) => Promise<number>): Promise<number> {
  const studio = openStudio(args);
  try {
    return await command(studio);
  } finally {
    studio.close();
  }
}

async function project(studio: Studio, args: Parsed): Promise<number> {
  const [, sub, ...rest] = args.positionals;
  if (sub === 'create') {
    expectPositionals(rest, 1, 1, 'project create NAME');
    const p = await studio.call('projects.create', { name: rest[0]! });
    out(`Created project "${p.name}" (id ${p.id}).`);
    if (args.json) out(JSON.stringify({ id: p.id, name: p.name }));
  } else if (sub === 'list') {
    expectPositionals(rest, 0, 0, 'project list');
    const list = await studio.call('projects.list', {});
    if (list.length === 0) out('No projects yet. Create one with: studio project create NAME');
    for (const p of list) out(`${String(p.id).padStart(5)}  ${p.name}  (${p.imageCount} image${p.imageCount === 1 ? '' : 's'})`);
    if (args.json)
      out(JSON.stringify({ projects: list.map((p) => ({ id: p.id, name: p.name, imageCount: p.imageCount, createdAt: p.createdAt })) }));
  } else {
    throw new UsageError('Usage: studio project create NAME | studio project list');
  }
  return 0;
}

async function serve(args: Parsed): Promise<number> {
  expectPositionals(args.positionals.slice(1), 0, 0, 'serve [--port N]');
  const portFlag = args.flags.get('port');
  const port = typeof portFlag === 'string' ? Number(portFlag) : 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be a number from 0 to 65535.');
  const { startWebHost } = await import('./server.js');
  const { NOT_BUILT } = await import('./static-files.js');
  const env = environment(args);
  const dataDir = env.paths.root;
  const engines = new EngineTracker();
  const studio = openStudio(args, 'web', env, engines);
  let host;
  try {
    host = await startWebHost({ studio, port });
  } catch (err) {
    studio.close();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new StudioError('conflict', `Port ${port} is already in use; choose another with --port, or omit it.`);
    throw err;
  }
  out(`Transfer Studio is running. Open ${host.url}`);
  process.stderr.write(`Data folder: ${dataDir}\nPress Ctrl+C to stop.\n`);
  if (!fs.existsSync(path.join(env.resources.rendererDir, 'index.html'))) process.stderr.write(`Warning: ${NOT_BUILT}\n`);
  if (args.json) out(JSON.stringify({ url: host.url, port: host.port }));
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await host.close();
  studio.close();
  // Nothing may outlive the host: an engine still busy after the grace is killed.
  await engines.stopped(ENGINE_GRACE_MS);
  process.stderr.write('Stopped.\n');
  return 0;
}

async function dispatch(command: string, args: Parsed): Promise<number> {
  switch (command) {
    case 'project':
      return withStudio(args, (s) => project(s, args));
    case 'import': {
      const { importCommand } = await import('./commands/import.js');
      return withStudio(args, (s) => importCommand(s, args, out));
    }
    case 'serve':
      return serve(args);
    case 'train': {
      const { trainCommand } = await import('./commands/train.js');
      return withStudio(args, (s) => trainCommand(s, args, out));
    }
    case 'eval': {
      const { evalCommand } = await import('./commands/eval.js');
      return withStudio(args, (s) => evalCommand(s, args, out));
    }
    case 'suggest': {
      const { suggestCommand } = await import('./commands/suggest.js');
      return withStudio(args, (s) => suggestCommand(s, args, out));
    }
    case 'predict': {
      const { predictCommand } = await import('./commands/predict.js');
      return withStudio(args, (s) => predictCommand(s, args, out));
    }
    case 'export': {
      const { exportCommand } = await import('./commands/export.js');
      return withStudio(args, (s) => exportCommand(s, args, out));
    }
    case 'models': {
      const { modelsCommand, ModelsUsageError } = await import('./commands/models.js');
      return withStudio(args, (s) =>
        modelsCommand(s, args, out).catch((err: unknown) => {
          throw err instanceof ModelsUsageError ? new UsageError(err.message) : err;
        }),
      );
    }
    case 'dataset': {
      const { datasetCommand } = await import('./commands/dataset.js');
      return withStudio(args, (s) => datasetCommand(s, args, out));
    }
    case 'diagnostics': {
      const { diagnosticsCommand } = await import('./commands/diagnostics.js');
      return withStudio(args, (s) => diagnosticsCommand(s, args, out));
    }
    case 'backup': {
      const { backupCommand } = await import('./commands/backup.js');
      return withStudio(args, (s) => backupCommand(s, args, out));
    }
    case 'restore': {
      const { restoreCommand } = await import('./commands/backup.js');
      return withStudio(args, (s) => restoreCommand(s, args, out));
    }
    case 'sample': {
      const { sampleCommand } = await import('./commands/sample.js');
      return withStudio(args, (s) => sampleCommand(s, args, out));
    }
    case 'splits': {
      const { splitsCommand, SplitsUsageError } = await import('./commands/splits.js');
      return withStudio(args, (s) =>
        splitsCommand(s, args, out).catch((err: unknown) => {
          throw err instanceof SplitsUsageError ? new UsageError(err.message) : err;
        }),
      );
    }
    case 'storage':
    case 'runs':
    case 'exports': {
      const { storageCommand } = await import('./commands/storage.js');
      return withStudio(args, (s) => storageCommand(s, args, out));
    }
    case 'verify-export': {
      const { verifyExportCommand } = await import('./commands/verify-export.js');
      return verifyExportCommand(args, out);
    }
    default:
      throw new UsageError(`Unknown command: ${command}\n${USAGE}`);
  }
}

export async function main(argv: string[]): Promise<number> {
  let args: Parsed;
  try {
    args = parseArgv(argv);
  } catch (err) {
    process.stderr.write(`studio: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const command = args.positionals[0];
  if (args.help || !command) {
    (command || args.help ? process.stdout : process.stderr).write(`${USAGE}\n`);
    return args.help ? 0 : 2;
  }
  try {
    return await dispatch(command, args);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`studio: ${err.message}\n`);
      return 2;
    }
    if (err instanceof StudioError || err instanceof DatabaseTooNewError) {
      process.stderr.write(`studio: ${err.message}\n`);
      return 1;
    }
    // Not a user error: a bug or the environment. The stack helps whoever reports it.
    process.stderr.write(`studio: ${err instanceof Error ? err.message : String(err)}\n`);
    if (settings.debug) console.error(err);
    return 1;
  }
}

/**
 * Runs the command this process was started with and sets its exit code. bin/studio.mjs calls it
 * (the bundle is CommonJS so that its compiled code can be cached, which rules out a top-level await).
 * A long command line (hundreds of paths) would crash ONNX Runtime in this process, so such a run
 * continues in a copy of this process that gets its arguments over IPC instead (cli-relaunch.ts).
 */
export async function start(): Promise<void> {
  const relaunched = await relaunchWithShortArgv();
  if (relaunched !== null) process.exitCode = relaunched;
  else process.exitCode = await main((await receiveArgv()) ?? process.argv.slice(2));
}
