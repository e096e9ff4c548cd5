// `studio eval RUN [--json]`: what a finished run got wrong, through the `eval.report` call the
// run page uses. Prints the advice and the most doubtful labels; with --json the last line is the
// report as the contract gives it, plus the near-duplicate groups and leaks of `duplicates.find`
// (no stored-file path anywhere in it; README "studio eval").
import type { Studio } from '../../core/studio.js';
import { UsageError } from '../cli-args.js';

export interface EvalArgs {
  positionals: string[];
  flags: Map<string, string | true>;
  json: boolean;
}

const SHOWN = 10;

export async function evalCommand(studio: Studio, args: EvalArgs, write: (line: string) => void): Promise<number> {
  const [, ref, ...extra] = args.positionals;
  if (!ref || extra.length) throw new UsageError('Usage: studio eval RUN [--json]');
  for (const name of args.flags.keys()) if (name !== 'json' && name !== 'data-dir') throw new UsageError(`eval does not take --${name}.`);
  if (!/^\d{1,15}$/.test(ref)) throw new UsageError(`RUN must be a run id (a whole number), not "${ref}".`);
  const report = await studio.call('eval.report', { runId: Number(ref) });
  if (!report.images.length)
    write(`Run ${report.runId} has no per-picture results (it did not finish, or it was recorded before they existed).`);
  else {
    const wrong = report.images.filter((i) => i.label !== null && i.label !== i.predicted).length;
    const labeled = report.images.filter((i) => i.label !== null).length;
    write(`Run ${report.runId}: ${wrong} of ${labeled} labeled pictures predicted otherwise by a model that did not learn from them.`);
    if (report.trunkSawTrainingImages)
      write('Training pictures were judged by refitting the classifier alone: the fine-tuned network did see them.');
  }
  for (const a of report.advice) write(`- ${a.text}`);
  const doubts = report.suspectedLabelErrors;
  if (doubts.length) {
    write(`Labels that look wrong (most doubtful first${doubts.length > SHOWN ? `, first ${SHOWN} of ${doubts.length}` : ''}):`);
    for (const d of doubts.slice(0, SHOWN))
      write(
        `  ${String(d.imageId).padStart(6)}  ${d.originalName}: labeled ${d.givenLabel}, looks like ${d.suggestedLabel} (${Math.round(d.confidence * 100)}%)`,
      );
  }
  // Near-duplicates among the pictures, with the splits this run recorded: a leak means its test
  // score counted pictures it had in effect trained on.
  const dups = await studio.call('duplicates.find', { projectId: report.projectId, runId: report.runId });
  for (const leak of dups.leaks) write(`Leak: ${leak.warning}`);
  if (args.json) write(JSON.stringify({ ...report, nearDuplicateGroups: dups.groups, leaks: dups.leaks }));
  return 0;
}
