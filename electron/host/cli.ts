// The `studio` command: the same core as the app, without a window. User errors print one line
// and exit 1 (2 for usage errors); with --json the last stdout line is one JSON object.
import fs from 'node:fs';
import path from 'node:path';
import { Studio } from '../core/studio.js';
import { resolveDataDir } from '../core/paths.js';
import { createEnvironment, findAppRoot, readSettings, type StudioEnvironment } from '../core/environment.js';
import { findProject } from '../core/library/projects.js';
import { StudioError } from '../shared/contract.js';
import { DatabaseTooNewError } from '../core/db/connection.js';
import type { JobProgress } from '../shared/schemas.js';
import { parseArgv, UsageError, USAGE, type Parsed } from './cli-args.js';
import { startWebHost } from './server.js';
import { NOT_BUILT } from './static-files.js';
import { predictCommand } from './commands/predict.js';
import { trainCommand, TrainUsageError } from './commands/train.js';
import { exportCommand, ExportUsageError } from './commands/export.js';
import { verifyExportCommand } from './commands/verify-export.js';
import { modelsCommand, ModelsUsageError } from './commands/models.js';

const VERSION = '0.1.0';

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

function openStudio(args: Parsed): Studio {
  return new Studio({ environment: environment(args), host: 'cli', version: VERSION });
}

function expectPositionals(p: string[], min: number, max: number, usage: string): void {
  if (p.length < min || p.length > max) throw new UsageError(`Usage: studio ${usage}`);
}

async function project(args: Parsed): Promise<void> {
  const [, sub, ...rest] = args.positionals;
  const studio = openStudio(args);
  try {
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
  } finally {
    studio.close();
  }
}

function describeProgress(p: JobProgress): string {
  const pct = p.total > 0 ? ` ${Math.floor((p.done / p.total) * 100)}%` : '';
  const eta = p.etaMs !== null && p.done < p.total ? `, about ${Math.ceil(p.etaMs / 1000)} s left` : '';
  return `${p.phase}: ${p.done}/${p.total}${pct}${eta}${p.message ? ` — ${p.message}` : ''}`;
}

async function importCommand(args: Parsed): Promise<void> {
  const [, projectRef, ...inputs] = args.positionals;
  const csvFlag = args.flags.get('csv');
  if (!projectRef || (inputs.length === 0 && typeof csvFlag !== 'string')) {
    throw new UsageError('Usage: studio import PROJECT PATH... [--csv FILE] [--no-folder-labels]');
  }
  const paths = inputs.map((p) => path.resolve(p));
  const csv = typeof csvFlag === 'string' ? path.resolve(csvFlag) : undefined;
  for (const p of [...paths, ...(csv ? [csv] : [])]) {
    if (!fs.existsSync(p)) throw new StudioError('not_found', `No such file or folder: ${p}`);
  }
  const studio = openStudio(args);
  // Ctrl+C cancels the import cleanly: what was imported so far stays, the DB is closed.
  const onSignal = () => studio.jobs.cancelAll();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const off = studio.bus.subscribe((name, payload) => {
    if (name === 'job.progress') process.stderr.write(`${describeProgress(payload as JobProgress)}\n`);
  });
  try {
    const project = findProject(studio.db, projectRef);
    const displayName = paths.length === 1 ? path.basename(paths[0]!) : csv ? path.basename(csv) : `${paths.length} paths`;
    const report = await studio.importPaths(
      project.id,
      { paths, ...(csv ? { csv } : {}), displayName },
      !args.flags.has('no-folder-labels'),
    );
    out(
      `Imported ${report.imported} image${report.imported === 1 ? '' : 's'} into "${project.name}" (${report.duplicates} duplicate${report.duplicates === 1 ? '' : 's'}, ${report.skipped.length} skipped${report.cancelled ? ', cancelled' : ''}).`,
    );
    for (const [label, n] of Object.entries(report.labels)) out(`  ${label}: ${n}`);
    for (const s of report.skipped.slice(0, 20)) process.stderr.write(`skipped ${s.path}: ${s.reason}\n`);
    if (report.skipped.length > 20) process.stderr.write(`… and ${report.skipped.length - 20} more skipped\n`);
    if (args.json)
      out(JSON.stringify({ imported: report.imported, duplicates: report.duplicates, skipped: report.skipped, labels: report.labels }));
    if (report.cancelled) process.exitCode = 1;
  } finally {
    off();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    studio.close();
  }
}

async function train(args: Parsed): Promise<void> {
  const studio = openStudio(args);
  try {
    process.exitCode = await trainCommand(studio, args, out);
  } catch (err) {
    throw err instanceof TrainUsageError ? new UsageError(err.message) : err;
  } finally {
    studio.close();
  }
}

async function predict(args: Parsed): Promise<void> {
  const studio = openStudio(args);
  try {
    process.exitCode = await predictCommand(studio, args, out);
  } finally {
    studio.close();
  }
}

async function exportRunCommand(args: Parsed): Promise<void> {
  const studio = openStudio(args);
  try {
    process.exitCode = await exportCommand(studio, args, out);
  } catch (err) {
    throw err instanceof ExportUsageError ? new UsageError(err.message) : err;
  } finally {
    studio.close();
  }
}

async function models(args: Parsed): Promise<void> {
  const studio = openStudio(args);
  try {
    process.exitCode = await modelsCommand(studio, args, out);
  } catch (err) {
    throw err instanceof ModelsUsageError ? new UsageError(err.message) : err;
  } finally {
    studio.close();
  }
}

function verifyExport(args: Parsed): void {
  try {
    process.exitCode = verifyExportCommand(args, out);
  } catch (err) {
    throw err instanceof ExportUsageError ? new UsageError(err.message) : err;
  }
}

async function serve(args: Parsed): Promise<void> {
  expectPositionals(args.positionals.slice(1), 0, 0, 'serve [--port N]');
  const portFlag = args.flags.get('port');
  const port = typeof portFlag === 'string' ? Number(portFlag) : 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be a number from 0 to 65535.');
  const env = environment(args);
  const dataDir = env.paths.root;
  const studio = new Studio({ environment: env, host: 'web', version: VERSION });
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
  process.stderr.write('Stopped.\n');
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
    if (command === 'project') await project(args);
    else if (command === 'import') await importCommand(args);
    else if (command === 'serve') await serve(args);
    else if (command === 'train') await train(args);
    else if (command === 'predict') await predict(args);
    else if (command === 'export') await exportRunCommand(args);
    else if (command === 'verify-export') verifyExport(args);
    else if (command === 'models') await models(args);
    else throw new UsageError(`Unknown command: ${command}\n${USAGE}`);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
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

process.exitCode = await main(process.argv.slice(2));
