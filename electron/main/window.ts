// The one window: sandboxed, context-isolated, no Node in the page, no navigation away, no
// pop-ups, CSP on every response, and only the camera permission (for webcam capture).
import { BrowserWindow, session, shell } from 'electron';
import { APP_ORIGIN, CSP, isTrustedPageUrl } from './security.js';

export function hardenSession(): void {
  const ses = session.defaultSession;
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP], 'X-Content-Type-Options': ['nosniff'] } });
  });
  ses.setPermissionRequestHandler((webContents, permission, callback) => {
    callback(permission === 'media' && isTrustedPageUrl(webContents.getURL()));
  });
  ses.setPermissionCheckHandler((_wc, permission, requestingOrigin) => permission === 'media' && requestingOrigin === APP_ORIGIN);
}

export function createMainWindow(preloadPath: string): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 840,
    minWidth: 800,
    minHeight: 560,
    title: 'Transfer Studio',
    show: false,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  const wc = win.webContents;
  wc.on('will-navigate', (event, url) => {
    event.preventDefault();
    if (/^https?:\/\//.test(url)) void shell.openExternal(url);
  });
  wc.on('will-redirect', (event) => event.preventDefault());
  wc.on('will-attach-webview', (event) => event.preventDefault());
  wc.setWindowOpenHandler(({ url }) => {
    // Links to documentation open in the user's browser, never inside the app.
    if (/^https:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  void win.loadURL(`${APP_ORIGIN}/index.html`);
  return win;
}
