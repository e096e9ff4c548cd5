import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvCandidates, parseCsv } from '../../electron/core/import/csv.js';

describe('parseCsv', () => {
  it('handles quotes, escaped quotes, CRLF, a BOM and quoted newlines with correct line numbers', () => {
    const text = '\ufeffpath,label\r\n"a, b.jpg","say ""hi"""\r\nc.jpg,\n"multi\nline.jpg",x\nlast.jpg,y';
    expect(parseCsv(text)).toEqual([
      { line: 1, fields: ['path', 'label'] },
      { line: 2, fields: ['a, b.jpg', 'say "hi"'] },
      { line: 3, fields: ['c.jpg', ''] },
      { line: 4, fields: ['multi\nline.jpg', 'x'] },
      { line: 6, fields: ['last.jpg', 'y'] },
    ]);
  });

  it('flags an unclosed quote', () => {
    const [rec] = parseCsv('"never closed.jpg,cat\n');
    expect(rec!.error).toBe('unclosed quote');
  });
});

describe('csvCandidates', () => {
  let dir: string;
  let outside: string;
  beforeAll(() => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'csv-test-'));
    dir = path.join(tmp, 'set');
    outside = path.join(tmp, 'outside.jpg');
    fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
    for (const f of ['one.jpg', 'sub/two.jpg', 'three, with comma.jpg', 'four.jpg']) fs.writeFileSync(path.join(dir, f), 'x');
    fs.writeFileSync(outside, 'x');
    fs.symlinkSync(outside, path.join(dir, 'link.jpg'));
  });
  afterAll(() => fs.rmSync(path.dirname(dir), { recursive: true, force: true }));

  it('resolves good rows and reports each kind of bad row by line', async () => {
    const csv = path.join(dir, 'labels.csv');
    fs.writeFileSync(
      csv,
      [
        'path,label',
        'one.jpg,cat', // 2 good
        'sub/two.jpg,  dog  ', // 3 good, label trimmed
        '"three, with comma.jpg","big, cat"', // 4 good, quoted
        'four.jpg,', // 5 good, unlabeled
        '', // 6 blank: ignored
        ',cat', // 7 missing path
        'one.jpg,cat,extra', // 8 too many columns
        'missing.jpg,cat', // 9 not found
        '../outside.jpg,cat', // 10 escapes the folder
        `${outside},cat`, // 11 absolute, outside
        'link.jpg,cat', // 12 symlink leading outside
        'sub,cat', // 13 a folder
        'four.jpg,dup,,', // 14 trailing empty cells are fine
      ].join('\n'),
    );
    const { candidates, skipped } = await csvCandidates(csv);
    const real = fs.realpathSync(dir);
    expect(candidates).toEqual([
      { file: path.join(real, 'one.jpg'), display: 'one.jpg', label: 'cat' },
      { file: path.join(real, 'sub/two.jpg'), display: 'sub/two.jpg', label: 'dog' },
      { file: path.join(real, 'three, with comma.jpg'), display: 'three, with comma.jpg', label: 'big, cat' },
      { file: path.join(real, 'four.jpg'), display: 'four.jpg', label: null },
      { file: path.join(real, 'four.jpg'), display: 'four.jpg', label: 'dup' },
    ]);
    expect(skipped).toEqual([
      { path: 'labels.csv', reason: 'line 7: missing path' },
      { path: 'one.jpg', reason: 'line 8: too many columns (3; expected path,label)' },
      { path: 'missing.jpg', reason: 'line 9: file not found' },
      { path: '../outside.jpg', reason: "line 10: path is outside the CSV's folder" },
      { path: outside, reason: "line 11: path is outside the CSV's folder" },
      { path: 'link.jpg', reason: "line 12: path leads outside the CSV's folder (symbolic link)" },
      { path: 'sub', reason: 'line 13: not a file' },
    ]);
  });

  it('treats a first row as data when it is not a header', async () => {
    const csv = path.join(dir, 'noheader.csv');
    fs.writeFileSync(csv, 'one.jpg,cat\n');
    const { candidates } = await csvCandidates(csv);
    expect(candidates.map((c) => c.label)).toEqual(['cat']);
  });

  it('reads the split column the dataset export writes, and still refuses a third column without that header', async () => {
    const withSplit = path.join(dir, 'split.csv');
    fs.writeFileSync(withSplit, 'path,label,split\none.jpg,cat,train\nfour.jpg,,\nsub/two.jpg,dog,test,extra\n');
    const a = await csvCandidates(withSplit);
    expect(a.candidates.map((c) => [c.display, c.label])).toEqual([
      ['one.jpg', 'cat'],
      ['four.jpg', null],
    ]);
    expect(a.skipped).toEqual([{ path: 'sub/two.jpg', reason: 'line 4: too many columns (4; expected path,label)' }]);
    const noSplit = path.join(dir, 'nosplit.csv');
    fs.writeFileSync(noSplit, 'path,label\none.jpg,cat,train\n');
    expect((await csvCandidates(noSplit)).skipped).toEqual([
      { path: 'one.jpg', reason: 'line 2: too many columns (3; expected path,label)' },
    ]);
  });

  it('reports an unreadable CSV instead of throwing', async () => {
    const { candidates, skipped } = await csvCandidates(path.join(dir, 'nope.csv'));
    expect(candidates).toEqual([]);
    expect(skipped).toEqual([{ path: 'nope.csv', reason: 'CSV file could not be read (ENOENT)' }]);
  });
});
