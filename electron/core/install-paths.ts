// Where the app is installed is no business of a message a user reads (and it leaks a user name
// or a build machine's layout into screenshots and bug reports): errors that reach a client name
// a file of the installation by its file name only. Paths the user gave (their photos, an export
// folder) and the data folder are theirs and stay as they are.
import path from 'node:path';

const roots = new Set<string>();

/** Registers folders of the installation (the app root, the resources folder); the host's environment does it once. */
export function addInstallRoots(...dirs: (string | null | undefined)[]): void {
  for (const d of dirs) if (d && path.isAbsolute(d) && path.resolve(d) !== path.parse(path.resolve(d)).root) roots.add(path.resolve(d));
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `message` with every path under an install root cut to its last segment. */
export function scrubInstallPaths(message: string, extraRoots: string[] = []): string {
  let out = message;
  const all = [...roots, ...extraRoots].sort((a, b) => b.length - a.length);
  for (const root of all) {
    // The root itself must end there (so "/app-data" is not under "/app"); the path then runs
    // to the next quote, bracket, comma, semicolon or whitespace.
    const re = new RegExp(`${escape(root)}(?=$|[\\\\/\\s'"\`()<>,;])(?:[\\\\/][^\\s'"\`()<>,;]*)?`, 'g');
    out = out.replace(re, (m) => {
      const base = m.split(/[\\/]/).filter(Boolean).at(-1);
      return base && m !== root ? base : path.basename(root);
    });
  }
  return out;
}
