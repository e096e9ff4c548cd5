// The desktop app's menu: the platform's usual menus plus Help → "Save diagnostics…". Main asks
// the core for the text (the same app.diagnostics call the CLI and web app use) and writes it where
// the user says in a native save dialog; file names only through the item that says so.
import fs from 'node:fs';
import path from 'node:path';
import { app, dialog, Menu, type BrowserWindow, type MenuItemConstructorOptions } from 'electron';
import type { CoreClient } from './core-client.js';

async function saveDiagnostics(core: CoreClient, window: BrowserWindow | null, includeFileNames: boolean): Promise<void> {
  const reply = await core.invoke('app.diagnostics', { includeFileNames });
  if (!reply.ok) return dialog.showErrorBox('Diagnostics could not be made', reply.error.message);
  const { text, fileName } = reply.value as { text: string; fileName: string };
  const options = {
    title: 'Save diagnostics',
    defaultPath: path.join(app.getPath('downloads'), fileName),
    filters: [{ name: 'Text', extensions: ['txt'] }],
  };
  const chosen = window ? await dialog.showSaveDialog(window, options) : await dialog.showSaveDialog(options);
  if (chosen.canceled || !chosen.filePath) return;
  // The save dialog has already asked before replacing an existing file.
  fs.writeFileSync(chosen.filePath, text);
}

export function installMenu(core: CoreClient, window: () => BrowserWindow | null): void {
  const save = (names: boolean) => () =>
    void saveDiagnostics(core, window(), names).catch((err: unknown) =>
      dialog.showErrorBox('Diagnostics could not be saved', err instanceof Error ? err.message : String(err)),
    );
  const template: MenuItemConstructorOptions[] = [
    ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
    { role: 'fileMenu' },
    { role: 'editMenu' },
    { role: 'viewMenu' },
    { role: 'windowMenu' },
    {
      role: 'help',
      submenu: [
        { label: 'Save diagnostics…', click: save(false) },
        { label: 'Save diagnostics with file names…', click: save(true) },
      ],
    },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}
