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

/** Runs a call; on failure shows its message and resolves to undefined. */
export async function attempt<T>(work: Promise<T>): Promise<T | undefined> {
  try {
    return await work;
  } catch (err) {
    toasts.push(messageOf(err));
    return undefined;
  }
}
