// The last internal errors of this process, kept so a diagnostics file can say what went wrong
// without asking the user to find a log. A small ring: old entries fall out, memory stays flat.
const LIMIT = 20;

export interface RecentError {
  at: string;
  where: string;
  message: string;
}

const ring: RecentError[] = [];

export function recordError(where: string, err: unknown): void {
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  ring.push({ at: new Date().toISOString(), where, message: message.slice(0, 500) });
  if (ring.length > LIMIT) ring.splice(0, ring.length - LIMIT);
}

/** Oldest first. */
export function recentErrors(): RecentError[] {
  return [...ring];
}
