// Messages for the user: every failed call ends up here with the host's own words.
export interface Toast {
  id: number;
  kind: 'error' | 'info';
  message: string;
}

class Toasts {
  items = $state<Toast[]>([]);
  private nextId = 1;

  push(message: string, kind: Toast['kind'] = 'error'): void {
    const id = this.nextId++;
    this.items = [...this.items.slice(-3), { id, kind, message }];
    setTimeout(() => this.dismiss(id), kind === 'error' ? 8000 : 4000);
  }

  dismiss(id: number): void {
    this.items = this.items.filter((t) => t.id !== id);
  }
}

export const toasts = new Toasts();

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A field's own error without the field's name in front ("name: A name cannot be empty"): it is shown beside the field. */
export function fieldMessage(err: unknown): string {
  return messageOf(err).replace(/^[A-Za-z][\w.]*: /, '');
}

/**
 * Runs a call whose failure belongs to one field: the message goes beside that field (`show`),
 * where the person is looking, instead of a toast over the page. `show('')` clears it first.
 */
export async function attemptField<T>(work: Promise<T>, show: (message: string) => void): Promise<T | undefined> {
  show('');
  try {
    return await work;
  } catch (err) {
    show(fieldMessage(err));
    return undefined;
  }
}

/** Runs a call; on failure shows its message and resolves to undefined. */
export async function attempt<T>(work: Promise<T>): Promise<T | undefined> {
  try {
    return await work;
  } catch (err) {
    toasts.push(messageOf(err));
    return undefined;
  }
}
