// Numbers and durations in words a newcomer reads at a glance.
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

export function etaInWords(ms: number | null): string {
  if (ms === null) return 'estimating time left…';
  const s = Math.round(ms / 1000);
  // Counted in seconds near the end, so a live estimate visibly moves.
  if (s < 3) return 'a few seconds left';
  if (s < 10) return `about ${s} seconds left`;
  if (s < 60) return `about ${Math.round(s / 5) * 5} seconds left`;
  const m = Math.round(s / 60);
  if (m < 60) return `about ${plural(m, 'minute')} left`;
  const h = Math.floor(m / 60);
  return `about ${plural(h, 'hour')}${m % 60 ? ` ${plural(m % 60, 'minute')}` : ''} left`;
}

export function bytesInWords(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
}

/** True when a key event is typing into a field, so app shortcuts must not fire. */
export function isTyping(e: KeyboardEvent): boolean {
  const t = e.target;
  if (!(t instanceof HTMLElement)) return false;
  return t.isContentEditable || t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT';
}

/** Ctrl on Linux/Windows, Cmd on macOS. */
export function isMod(e: KeyboardEvent | MouseEvent): boolean {
  return e.ctrlKey || e.metaKey;
}
