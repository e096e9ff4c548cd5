// Argument parsing for the `studio` CLI: small on purpose (no dependency), strict on unknown flags.
import { MODELS_VALUED_FLAGS, MODELS_USAGE } from './commands/models.js';
import { SPLITS_USAGE } from './commands/splits.js';
import { STORAGE_USAGE } from './commands/storage.js';

export class UsageError extends Error {}

export interface Parsed {
  dataDir?: string;
  json: boolean;
  help: boolean;
  positionals: string[];
  flags: Map<string, string | true>;
}

/** Flags that take a value; every other `--flag` is a boolean. */
const VALUED = new Set([
  'data-dir',
  'csv',
  'port',
  'format',
  'out',
  'files-from',
  'strategy',
  'base',
  'epochs',
  'lr',
  'boundary',
  'seed',
  'from-run',
  'name',
  'notes',
  ...MODELS_VALUED_FLAGS,
]);
const BOOLEAN = new Set(['json', 'help', 'no-folder-labels', 'quantize', 'include-unlabeled', 'include-excluded', 'include-file-names']);

export function parseArgv(argv: string[]): Parsed {
  const out: Parsed = { json: false, help: false, positionals: [], flags: new Map() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a === '-h') {
      out.help = true;
      continue;
    }
    if (!a.startsWith('--')) {
      out.positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (VALUED.has(name)) {
      const value = eq >= 0 ? a.slice(eq + 1) : argv[++i];
      if (value === undefined || value === '') throw new UsageError(`--${name} needs a value.`);
      out.flags.set(name, value);
    } else if (BOOLEAN.has(name) && eq < 0) {
      out.flags.set(name, true);
    } else {
      throw new UsageError(`Unknown option: ${a}`);
    }
  }
  const dataDir = out.flags.get('data-dir');
  if (typeof dataDir === 'string') out.dataDir = dataDir;
  out.json = out.flags.has('json');
  out.help = out.help || out.flags.has('help');
  return out;
}

export const USAGE = `Usage: studio [--data-dir DIR] [--json] <command>

Commands:
  project create NAME                 create a project
  project list                        list projects
  import PROJECT PATH... [--csv FILE] [--no-folder-labels]
                                      import images (PROJECT is a name or an id);
                                      sub-folder names become labels unless --no-folder-labels
  serve [--port N]                    start the local web app (127.0.0.1 only) and print its URL
${SPLITS_USAGE}
  train PROJECT [--strategy auto|head|partial|full] [--base ID] [--epochs N] [--lr X]
        [--boundary LAYER] [--seed N] [--from-run RUN]
                                      train a classifier (auto lets the wizard choose); --from-run
                                      starts from that finished run's network and settings
  predict RUN [IMAGE|FOLDER]... [--files-from FILE|-]
                                      classify image files with a trained run (RUN is its id);
                                      folders are searched recursively, --files-from reads one
                                      path per line (- for standard input)
  eval RUN                            what a finished run got wrong: advice, pictures whose label
                                      looks wrong, per-image predictions (with --json)
  suggest PROJECT                     a label suggestion for every unlabeled picture, from a
                                      quick model fitted on the labeled ones (probabilities with --json)
  export RUN --out DIR [--format bundle|tfjs|onnx] [--quantize]
                                      export a finished run (default: the whole bundle: TF.js,
                                      ONNX, web demo, examples) after checking it against the app
  verify-export DIR                   check an exported folder against its manifest.json
  dataset export PROJECT --out DIR [--format folders|csv] [--include-unlabeled] [--include-excluded]
                                      copy the project's images out, a folder per label or with
                                      a labels.csv (path,label,split); DIR must be new or empty
  diagnostics --out FILE [--include-file-names]
                                      write a text file to send with a problem report (versions,
                                      engines, providers, sizes, last errors; no file names unless asked)
  backup PROJECT --out FILE           write the whole project (rows, images, run models) into one
                                      archive with a checksum of every entry; never over a file
  restore FILE                        bring a backup in as a new project, after checking every
                                      checksum (a damaged or foreign file changes nothing)
  sample                              create a project from the sample pictures shipped with the app
                                      (sun, tree or house: 90 drawings, CC0), to try the whole loop
${STORAGE_USAGE}
${MODELS_USAGE}

Options:
  --data-dir DIR   data folder (default: $STUDIO_DATA_DIR, else the OS user-data folder)
  --json           print one JSON object as the last line of output
  -h, --help       show this help`;
