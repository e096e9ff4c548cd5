// `studio diagnostics --out FILE [--include-file-names] [--json]`: writes the text of
// `app.diagnostics` to FILE, a new file (never over an existing one). With --json the last line is
// {file, bytes, includeFileNames}.
import fs from 'node:fs';
import path from 'node:path';
import type { Studio } from '../../core/studio.js';
import { StudioError } from '../../shared/contract.js';
import { UsageError } from '../cli-args.js';
import type { CommandArgs } from './export.js';

export async function diagnosticsCommand(studio: Studio, args: CommandArgs, write: (line: string) => void): Promise<number> {
  if (args.positionals.length !== 1) throw new UsageError('Usage: studio diagnostics --out FILE [--include-file-names]');
  const out = args.flags.get('out');
  if (typeof out !== 'string' || out === '') throw new UsageError('--out FILE is required: the text file to write (a new file).');
  const includeFileNames = args.flags.get('include-file-names') === true;
  const file = path.resolve(out);
  const { text } = await studio.call('app.diagnostics', { includeFileNames });
  try {
    fs.writeFileSync(file, text, { flag: 'wx' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new StudioError('conflict', `${file} already exists; the diagnostics are never written over a file.`);
    if (code === 'ENOENT') throw new StudioError('not_found', `The folder of ${file} does not exist.`);
    throw err;
  }
  const bytes = Buffer.byteLength(text);
  write(`Wrote diagnostics to ${file} (${bytes} bytes${includeFileNames ? ', with file names' : ''}).`);
  if (args.json) write(JSON.stringify({ file, bytes, includeFileNames }));
  return 0;
}
