// `studio verify-export DIR [--json]`: checks an exported folder against its manifest.json and
// lists missing, changed and unexpected files. Exit 0 when everything matches, 1 otherwise.
// Needs no database: it works on a copy of an export on any machine.
import path from 'node:path';
import { verifyExport } from '../../core/export/manifest.js';
import { UsageError } from '../cli-args.js';
import type { CommandArgs } from './export.js';

export function verifyExportCommand(args: CommandArgs, write: (line: string) => void): number {
  const [, dir, ...extra] = args.positionals;
  if (!dir || extra.length) throw new UsageError('Usage: studio verify-export DIR');
  const abs = path.resolve(dir);
  const r = verifyExport(abs);
  if (r.error) write(`${abs}: ${r.error}`);
  for (const m of r.missing) write(`missing: ${m}`);
  for (const c of r.changed) write(`changed: ${c.path} (${c.reason})`);
  for (const e of r.extra) write(`not in the manifest: ${e}`);
  if (r.ok) write(`OK: all ${r.checked} files match ${path.join(abs, 'manifest.json')}.`);
  else if (!r.error) write(`${r.missing.length + r.changed.length + r.extra.length} problem(s) in ${abs}.`);
  if (args.json)
    write(
      JSON.stringify({ ok: r.ok, dir: abs, checked: r.checked, missing: r.missing, changed: r.changed, extra: r.extra, error: r.error }),
    );
  return r.ok ? 0 : 1;
}
