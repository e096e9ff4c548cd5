// The environment a Studio runs in, built once by each host (desktop core process, web host,
// CLI, tests) and passed down: where the app's resources are, the settings read from STUDIO_*
// variables, and the registries every part shares. Nothing below the host looks for resources
// relative to its own file or the working directory: a bundled or packaged app has neither
// where the source had them.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DataPaths } from './paths.js';
import { EventBus } from './events.js';
import { JobRegistry } from './jobs.js';
import { ModelRegistry } from './models/registry.js';
import { readComputeSettings, type ComputeSettings } from './engine/compute-settings.js';

/** Files the app ships besides its code. */
export interface ResourceLocations {
  /** Built-in base model folders (build/models/bases in a checkout, resources/bases packaged). */
  basesDir: string;
  /** The web demo and example programs copied into every export. */
  templatesDir: string;
  /** The TF.js browser build the web demo loads, and its version (named in the model card). */
  tfjsRuntime: { file: string; version: string };
  /** better-sqlite3's binding built for the host's ABI (Electron's); null = the module's own. */
  nativeBinding: string | null;
  /** The training engine's entry script and the Node flags it needs. */
  engineEntry: { file: string; execArgv: string[] };
  /** The built renderer the web host serves. */
  rendererDir: string;
  /** The sample project's pictures, licence and sample.json (resources/sample in a checkout, sample packaged). */
  sampleDir: string;
}

/**
 * Every STUDIO_* variable the core reads, parsed once (README, "Environment variables").
 * The compute plan's own (STUDIO_ENGINE, STUDIO_NATIVE_STEPS, STUDIO_NATIVE_GEMM,
 * STUDIO_FROZEN) are parsed by engine/compute-settings.ts into `compute`.
 */
export interface StudioSettings {
  /** STUDIO_DATA_DIR: the data folder when no --data-dir is given. */
  dataDir: string | null;
  /** STUDIO_MODEL_CATALOGUE: a JSON file replacing the shipped model catalogue. */
  modelCatalogue: string | null;
  /** STUDIO_DEBUG=1: print stack traces of unexpected errors. */
  debug: boolean;
  /** Where runs compute, sent to the engine with each job. */
  compute: ComputeSettings;
  /** STUDIO_SUGGEST_BASE: the base labeling suggestions read (default: the default base); e2e tests use a tiny one. */
  suggestBase?: string | null;
}

export interface StudioEnvironment {
  /** True when the resources come from an installed package's resources folder. */
  packaged: boolean;
  resources: ResourceLocations;
  settings: StudioSettings;
  paths: DataPaths;
  models: ModelRegistry;
  bus: EventBus;
  jobs: JobRegistry;
}

/** The part of the environment the engine process gets in its messages: plain data. */
export interface EngineEnvironment {
  settings: StudioSettings;
}

export interface EnvironmentOptions {
  /** The folder holding the app's package.json: the checkout, or the app (app.asar) when packaged. */
  appRoot: string;
  /** The package's resources folder (Electron's process.resourcesPath) when packaged. */
  resourcesDir?: string | undefined;
  /** Whether the host runs the esbuild bundle (dist/) or the TypeScript source (through tsx). */
  code: 'bundled' | 'source';
  /** The data folder, already resolved by the host (see resolveDataDir). */
  dataDir: string;
  nativeBinding?: string | null | undefined;
  settings?: StudioSettings;
}

const text = (v: string | undefined): string | null => (v && v.trim() ? v : null);

export function readSettings(env: NodeJS.ProcessEnv = process.env): StudioSettings {
  return {
    dataDir: text(env.STUDIO_DATA_DIR),
    modelCatalogue: text(env.STUDIO_MODEL_CATALOGUE),
    debug: !!env.STUDIO_DEBUG && env.STUDIO_DEBUG !== '0',
    compute: readComputeSettings(env),
    suggestBase: text(env.STUDIO_SUGGEST_BASE),
  };
}

/** The app's root from a host's own module URL: the nearest folder up with our package.json. */
export function findAppRoot(moduleUrl: string): string {
  let dir = path.dirname(fileURLToPath(moduleUrl));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'transfer-studio') return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`No transfer-studio package.json above ${fileURLToPath(moduleUrl)}.`);
    dir = up;
  }
}

function resolveResources(options: Pick<EnvironmentOptions, 'appRoot' | 'resourcesDir' | 'code' | 'nativeBinding'>): ResourceLocations {
  const { appRoot, resourcesDir } = options;
  const require = createRequire(path.join(appRoot, 'package.json'));
  // tsx by its full URL: a bare `--import tsx` resolves from the working folder, which is the
  // user's (a CLI run from their home folder would start an engine that cannot load).
  const engineEntry =
    options.code === 'bundled'
      ? { file: path.join(appRoot, 'dist', 'electron', 'engine', 'entry.js'), execArgv: [] }
      : {
          file: path.join(appRoot, 'electron', 'core', 'engine', 'entry.ts'),
          execArgv: ['--import', pathToFileURL(require.resolve('tsx')).href],
        };
  const common = { nativeBinding: options.nativeBinding ?? null, engineEntry, rendererDir: path.join(appRoot, 'dist', 'renderer') };
  if (resourcesDir) {
    // Laid out by build/electron-builder.yml's extraResources.
    const tfjs = path.join(resourcesDir, 'tfjs');
    return {
      ...common,
      basesDir: path.join(resourcesDir, 'bases'),
      templatesDir: path.join(resourcesDir, 'export-templates'),
      sampleDir: path.join(resourcesDir, 'sample'),
      tfjsRuntime: { file: path.join(tfjs, 'tf.min.js'), version: packageVersion(path.join(tfjs, 'package.json')) },
    };
  }
  let tfjsRuntime = { file: path.join(appRoot, 'node_modules', '@tensorflow', 'tfjs', 'dist', 'tf.min.js'), version: 'unknown' };
  try {
    tfjsRuntime = {
      file: require.resolve('@tensorflow/tfjs/dist/tf.min.js'),
      version: packageVersion(require.resolve('@tensorflow/tfjs/package.json')),
    };
  } catch {
    /* reported by missingResources */
  }
  return {
    ...common,
    basesDir: path.join(appRoot, 'build', 'models', 'bases'),
    templatesDir: path.join(appRoot, 'electron', 'core', 'export', 'templates'),
    sampleDir: path.join(appRoot, 'resources', 'sample'),
    tfjsRuntime,
  };
}

function packageVersion(file: string): string {
  try {
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function createEnvironment(options: EnvironmentOptions): StudioEnvironment {
  const resources = resolveResources(options);
  const paths = new DataPaths(options.dataDir);
  const bus = new EventBus();
  return {
    packaged: !!options.resourcesDir,
    resources,
    settings: options.settings ?? readSettings(),
    paths,
    models: new ModelRegistry(resources.basesDir, paths.models()),
    bus,
    jobs: new JobRegistry(bus),
  };
}
