// One confirm/prompt dialog for the whole app, awaited like a function call.
export interface ConfirmRequest {
  kind: 'confirm';
  title: string;
  message: string;
  confirmLabel: string;
  danger: boolean;
  resolve: (ok: boolean) => void;
}
export interface PromptRequest {
  kind: 'prompt';
  title: string;
  label: string;
  initial: string;
  confirmLabel: string;
  /** Runs the action with the value; a message keeps the dialog open with it beside the field. */
  submit?: (value: string) => Promise<string | null>;
  resolve: (value: string | null) => void;
}

class Dialogs {
  current = $state<ConfirmRequest | PromptRequest | null>(null);

  confirm(opts: { title: string; message: string; confirmLabel?: string; danger?: boolean }): Promise<boolean> {
    return new Promise((resolve) => {
      this.current = { kind: 'confirm', confirmLabel: 'OK', danger: false, ...opts, resolve };
    });
  }

  prompt(opts: {
    title: string;
    label: string;
    initial?: string;
    confirmLabel?: string;
    submit?: (value: string) => Promise<string | null>;
  }): Promise<string | null> {
    return new Promise((resolve) => {
      this.current = { kind: 'prompt', initial: '', confirmLabel: 'Save', ...opts, resolve };
    });
  }

  close(): void {
    this.current = null;
  }
}

export const dialogs = new Dialogs();
