// `studio sample [--json]`: creates a new project from the sample pictures shipped with the app
// (`sample.create`). With --json the last line is {projectId, name, images, labels}.
import type { Studio } from '../../core/studio.js';
import { UsageError } from '../cli-args.js';
import type { CommandArgs } from './export.js';

export async function sampleCommand(studio: Studio, args: CommandArgs, write: (line: string) => void): Promise<number> {
  if (args.positionals.length !== 1) throw new UsageError('Usage: studio sample');
  const r = await studio.call('sample.create', {});
  write(
    `Created "${r.project.name}" (project ${r.project.id}): ${r.images} pictures in ${r.labels} labels. Train it with: studio train ${r.project.id}`,
  );
  if (args.json) write(JSON.stringify({ projectId: r.project.id, name: r.project.name, images: r.images, labels: r.labels }));
  return 0;
}
