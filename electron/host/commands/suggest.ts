// `studio suggest PROJECT [--json]`: the label the quick model suggests for each unlabeled picture,
// through the calls the Images tab uses (suggest.refresh, then suggest.report). Prints a count per
// label and the surest suggestions; with --json the last line is the `suggest.report` result
// (README "studio suggest").
import type { Studio } from '../../core/studio.js';
import { UsageError } from '../cli-args.js';

export interface SuggestArgs {
  positionals: string[];
  flags: Map<string, string | true>;
  json: boolean;
}

const SHOWN = 10;

export async function suggestCommand(studio: Studio, args: SuggestArgs, write: (line: string) => void): Promise<number> {
  const [, ref, ...extra] = args.positionals;
  if (!ref || extra.length) throw new UsageError('Usage: studio suggest PROJECT [--json]');
  for (const name of args.flags.keys())
    if (name !== 'json' && name !== 'data-dir') throw new UsageError(`suggest does not take --${name}.`);
  if (!/^\d{1,15}$/.test(ref)) throw new UsageError(`PROJECT must be a project id (a whole number), not "${ref}".`);
  const projectId = Number(ref);
  const status = await studio.call('suggest.refresh', { projectId });
  const report = await studio.call('suggest.report', { projectId });
  write(status.message);
  if (report.suggestions.length) {
    for (const l of status.labels) write(`  ${l.name}: ${l.suggested} suggested`);
    write(`Surest suggestions${report.suggestions.length > SHOWN ? ` (first ${SHOWN} of ${report.suggestions.length})` : ''}:`);
    for (const s of report.suggestions.slice(0, SHOWN))
      write(`  ${String(s.imageId).padStart(6)}  ${s.originalName}: ${s.suggestedLabel} (${Math.round(s.confidence * 100)}%)`);
  }
  if (args.json) write(JSON.stringify(report));
  return 0;
}
