// What clicks and keys on the grid do to the open project's selection, cursor and preview.
import type { ProjectSession } from './state/project.svelte';
import { attempt, toasts } from './state/toasts.svelte';
import { isMod, isTyping } from './format';

/** Plain click selects one; ctrl/cmd toggles; shift selects the range from the anchor. */
export async function clickImage(s: ProjectSession, id: number, index: number, e: MouseEvent): Promise<void> {
  s.cursor = index;
  const sel = s.selection;
  if (e.shiftKey && sel.anchor !== null) {
    const from = Math.min(sel.anchor, index);
    const to = Math.max(sel.anchor, index);
    const ids = rangeFromCache(s, from, to) ?? (await attempt(s.pages.idsInRange(from, to)));
    if (!ids || sel !== s.selection) return;
    if (isMod(e)) sel.addRange(ids);
    else sel.setRange(ids);
  } else if (isMod(e)) sel.toggle(id, index);
  else sel.selectOnly(id, index);
}

function rangeFromCache(s: ProjectSession, from: number, to: number): number[] | null {
  const ids: number[] = [];
  for (let i = from; i <= to; i++) {
    const row = s.pages.rowAt(i);
    if (!row) return null;
    ids.push(row.id);
  }
  return ids;
}

export function openPreview(s: ProjectSession, index: number): void {
  if (index < 0 || index >= s.total) return;
  s.cursor = index;
  s.previewIndex = index;
}

/** Number key n (1–9): the n-th label in the sidebar; 0 removes the label. */
export function labelByKey(s: ProjectSession, key: string, imageId?: number): boolean {
  if (key === '0' || key === 'Backspace') {
    void s.assign(null, imageId);
    return true;
  }
  if (!/^[1-9]$/.test(key)) return false;
  const label = s.labels[Number(key) - 1];
  if (!label) toasts.push(`There is no label number ${key} yet. Create one in the sidebar.`, 'info');
  else void s.assign(label.id, imageId);
  return true;
}

/** Shortcuts of the project view (the preview and dialogs handle their own keys). */
export function onProjectKey(s: ProjectSession, e: KeyboardEvent, openHelp: () => void): void {
  if (e.defaultPrevented || isTyping(e) || document.querySelector('dialog[open]')) return;
  const key = e.key.toLowerCase();
  if (isMod(e) && !e.altKey) {
    if (key === 'z') {
      e.preventDefault();
      void (e.shiftKey ? s.redo() : s.undo());
    } else if (key === 'y') {
      e.preventDefault();
      void s.redo();
    } else if (key === 'a') {
      e.preventDefault();
      s.selection.selectAll();
    }
    return;
  }
  if (e.altKey) return;
  if (e.key === 'Escape') s.selection.clear();
  else if (e.key === '?') openHelp();
  else if (e.key === 'Enter' && s.cursor !== null && !(e.target instanceof HTMLButtonElement)) openPreview(s, s.cursor);
  else if (labelByKey(s, e.key)) e.preventDefault();
}
