// File and folder names for an export that any OS can create and the importer reads back: no
// separators or characters Windows refuses, no leading dot (the importer skips hidden entries),
// no reserved device names, and unique within a folder even on case-insensitive file systems.
import path from 'node:path';

const RESERVED = /^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$/i;
const MAX = 120;

/** One path segment from a name a person typed or a file once had. */
export function safeSegment(name: string, fallback: string): string {
  let s = name.normalize('NFC').replace(/[\u0000-\u001f\u007f<>:"/\\|?*]/g, '_');
  s = s.replace(/^[\s.]+/, '_').replace(/[\s.]+$/, '');
  if (s === '' || s === '_') s = fallback;
  if (RESERVED.test(s)) s = `_${s}`;
  if (s.length > MAX) {
    const ext = path.extname(s).slice(0, 16);
    s = s.slice(0, MAX - ext.length) + ext;
  }
  return s;
}

/** Hands out names unique within one folder, case-insensitively: "a.jpg", "a (2).jpg", … */
export class UniqueNames {
  private taken = new Set<string>();

  claim(name: string): string {
    const ext = path.extname(name);
    const stem = ext ? name.slice(0, -ext.length) : name;
    let candidate = name;
    for (let n = 2; this.taken.has(candidate.toLowerCase()); n++) candidate = `${stem} (${n})${ext}`;
    this.taken.add(candidate.toLowerCase());
    return candidate;
  }
}

const EXT: Record<string, string[]> = {
  jpg: ['.jpg', '.jpeg', '.jpe'],
  png: ['.png'],
  webp: ['.webp'],
  gif: ['.gif'],
  tiff: ['.tif', '.tiff'],
  bmp: ['.bmp'],
};

/** The original's name, made safe, with an extension that matches its content. */
export function exportFileName(originalName: string, format: string, fallback: string): string {
  const base = safeSegment(path.basename(originalName.replace(/\\/g, '/')), fallback);
  const ok = EXT[format] ?? [`.${format}`];
  return ok.includes(path.extname(base).toLowerCase()) ? base : `${base}${ok[0]}`;
}
