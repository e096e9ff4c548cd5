// A CSV of `path,label` rows: what spreadsheets and other labeling tools export. Relative
// paths resolve against the CSV's own folder, and no row may reach outside that folder.
import fs from 'node:fs';
import path from 'node:path';
import type { SkippedFile } from '../../shared/schemas.js';
import type { Candidate, ScanResult } from './scan.js';

export interface CsvRecord {
  /** 1-based line on which the record starts (quoted fields may span lines). */
  line: number;
  fields: string[];
  error?: string;
}

/** RFC 4180 with the usual leniency: LF or CRLF, a UTF-8 BOM, `""` inside quotes. */
export function parseCsv(text: string): CsvRecord[] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const records: CsvRecord[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const start = line;
    const fields: string[] = [];
    let error: string | undefined;
    let field = '';
    for (;;) {
      if (text[i] === '"') {
        // Quoted field: runs to the closing quote, across commas and newlines.
        i++;
        let closed = false;
        while (i < text.length) {
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            closed = true;
            break;
          }
          if (c === '\n') line++;
          field += c;
          i++;
        }
        if (!closed) error = 'unclosed quote';
        // Anything between the closing quote and the next separator is kept, as spreadsheets do.
        while (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') field += text[i++];
      } else {
        while (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') field += text[i++];
      }
      fields.push(field);
      field = '';
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '\r') i++;
      if (text[i] === '\n') {
        i++;
        line++;
      }
      break;
    }
    records.push(error ? { line: start, fields, error } : { line: start, fields });
  }
  return records;
}

const PATH_HEADERS = new Set(['path', 'file', 'filename', 'file_name', 'filepath', 'file_path', 'image', 'image_path', 'imagepath']);
const LABEL_HEADERS = new Set(['label', 'class', 'category', 'tag', 'labels', 'class_name']);

function isHeader(fields: string[]): boolean {
  const [a, b, c] = fields.map((f) => f.trim().toLowerCase());
  return a !== undefined && PATH_HEADERS.has(a) && (b === undefined || LABEL_HEADERS.has(b)) && (c === undefined || c === 'split');
}

/** A third column is allowed only when the header names it `split` (the dataset export writes one; the app draws its own splits). */
const hasSplitColumn = (fields: string[]) => fields.length === 3 && fields[2]!.trim().toLowerCase() === 'split';

const isInside = (root: string, p: string) => {
  const rel = path.relative(root, p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
};

/** Reads the CSV and checks every row; rows that cannot be imported are reported by line. */
export async function csvCandidates(csvFile: string): Promise<ScanResult> {
  const candidates: Candidate[] = [];
  const skipped: SkippedFile[] = [];
  const csvName = path.basename(csvFile);
  let text: string;
  try {
    const st = await fs.promises.stat(csvFile);
    if (st.size > 64 * 1024 * 1024) return { candidates, skipped: [{ path: csvName, reason: 'CSV file is larger than 64 MB' }] };
    text = await fs.promises.readFile(csvFile, 'utf8');
  } catch (err) {
    return {
      candidates,
      skipped: [{ path: csvName, reason: `CSV file could not be read (${(err as NodeJS.ErrnoException).code ?? 'error'})` }],
    };
  }
  const dir = path.dirname(path.resolve(csvFile));
  const realDir = await fs.promises.realpath(dir);
  const records = parseCsv(text);
  const bad = (rec: CsvRecord, p: string, reason: string) => skipped.push({ path: p || csvName, reason: `line ${rec.line}: ${reason}` });

  let columns = 2;
  for (const [n, rec] of records.entries()) {
    if (n === 0 && isHeader(rec.fields)) {
      if (hasSplitColumn(rec.fields)) columns = 3;
      continue;
    }
    // Spreadsheets pad rows with empty cells; only real values count as extra columns.
    const fields = [...rec.fields];
    while (fields.length > 2 && fields[fields.length - 1]!.trim() === '') fields.pop();
    if (columns === 3 && fields.length === 3) fields.pop();
    const raw = (fields[0] ?? '').trim();
    if (fields.every((f) => f.trim() === '')) continue; // blank line
    if (rec.error) {
      bad(rec, raw, rec.error);
      continue;
    }
    if (fields.length > 2) {
      bad(rec, raw, `too many columns (${fields.length}; expected path,label)`);
      continue;
    }
    if (raw === '') {
      bad(rec, '', 'missing path');
      continue;
    }
    if (raw.includes('\0')) {
      bad(rec, '', 'invalid path');
      continue;
    }
    // CSVs written on Windows use backslashes.
    const written = path.sep === '/' ? raw.replace(/\\/g, '/') : raw;
    const abs = path.resolve(dir, written);
    if (!isInside(dir, abs)) {
      bad(rec, raw, "path is outside the CSV's folder");
      continue;
    }
    let real: string;
    try {
      real = await fs.promises.realpath(abs);
    } catch {
      bad(rec, raw, 'file not found');
      continue;
    }
    if (!isInside(realDir, real)) {
      bad(rec, raw, "path leads outside the CSV's folder (symbolic link)");
      continue;
    }
    const st = await fs.promises.stat(real).catch(() => null);
    if (!st?.isFile()) {
      bad(rec, raw, 'not a file');
      continue;
    }
    const label = (fields[1] ?? '').trim();
    candidates.push({ file: real, display: raw, label: label === '' ? null : label });
  }
  return { candidates, skipped };
}
