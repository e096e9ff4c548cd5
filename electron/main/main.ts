// Electron main: windows, dialogs, protocols and the IPC transport. The studio core runs in a
// utility process (core-process.ts) so imports and training never block the UI thread.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, shell } from 'electron';
import { resolveDataDir } from '../core/paths.js';
import { readSettings } from '../core/environment.js';
import { CoreClient } from './core-client.js';
import { pickSource } from './dialogs.js';
import { forwardEvent, handleInvoke } from './ipc.js';
import { installMenu } from './help-menu.js';
import { electronSqliteBinding } from './native-binding.js';
import { handleProtocols, registerSchemes } from './protocols.js';
import { createMainWindow, hardenSession } from './window.js';

// Bundled to dist/electron/main/main.js; siblings: core-process.js, ../preload/preload.cjs, ../../renderer.
const here = path.dirname(fileURLToPath(import.meta.url));
const rendererDir = path.resolve(here, '../../renderer');

app.setName('Transfer Studio');
registerSchemes();
app.enableSandbox();

function dataDirFlag(): string | undefined {
  const i = process.argv.indexOf('--data-dir');
  if (i >= 0) return process.argv[i + 1];
  return process.argv.find((a) => a.startsWith('--data-dir='))?.slice('--data-dir='.length);
}

if (!app.requestSingleInstanceLock()) app.quit();

let window: BrowserWindow | null = null;
let core: CoreClient | null = null;

app.on('second-instance', () => {
  if (window) {
    if (window.isMinimized()) window.restore();
    window.focus();
  }
});

app
  .whenReady()
  .then(() => {
    hardenSession();
    const dataDir = resolveDataDir(dataDirFlag(), readSettings().dataDir);
    core = new CoreClient({
      modulePath: path.join(here, 'core-process.js'),
      dataDir,
      nativeBinding: electronSqliteBinding(app.getAppPath()),
      pickSource: (kind) => pickSource(window, kind),
      // The path comes from the core's own exports table, never from the renderer.
      reveal: (file) => shell.showItemInFolder(file),
      onEvent: (name, payload) => forwardEvent(window, name, payload),
      onFatal: (message) => {
        dialog.showErrorBox('Transfer Studio cannot open its data', `${message}\n\nData folder: ${dataDir}`);
        app.exit(1);
      },
    });
    handleProtocols(rendererDir, core);
    handleInvoke(core, () => window);
    installMenu(core, () => window);
    window = createMainWindow(path.resolve(here, '../preload/preload.cjs'));
    window.on('closed', () => (window = null));
  })
  .catch((err: unknown) => {
    dialog.showErrorBox('Transfer Studio failed to start', err instanceof Error ? err.message : String(err));
    app.exit(1);
  });

app.on('window-all-closed', () => app.quit());

let quitting = false;
app.on('before-quit', (event) => {
  if (quitting || !core) return;
  // Let the core close SQLite cleanly (WAL checkpoint) before the process goes.
  event.preventDefault();
  quitting = true;
  void core.stop().finally(() => app.quit());
});
