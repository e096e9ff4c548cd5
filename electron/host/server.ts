// The web host: the studio core behind a loopback HTTP server, for browsers and for machines
// where Electron cannot run. See the wire protocol: token → cookie, static renderer, /ws,
// /img/<variant>/<id>, /upload, /exports/<id>.zip.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Studio } from '../core/studio.js';
import { isAuthorised, isOwnHost, isOwnOrigin, newToken, sameToken, sessionCookie } from './auth.js';
import { sendJson, sendText, setSecurityHeaders } from './headers.js';
import { sendStaleLink } from './stale-link.js';
import { serveStatic } from './static-files.js';
import { serveImage } from './images.js';
import { isExportRoute, serveExportZip } from './export-zip.js';
import { isDatasetExportRoute, serveDatasetZip } from './dataset-zip.js';
import { isBackupRoute, serveBackup } from './backup-download.js';
import { UploadError, UploadSessions } from './upload.js';
import { WsTransport } from './ws-transport.js';

export interface WebHostOptions {
  studio: Studio;
  /** 0 = any free port. */
  port?: number;
  /** Defaults to the environment's built renderer. */
  rendererDir?: string;
  /** Defaults to a fresh random token. */
  token?: string;
}

export interface WebHost {
  port: number;
  token: string;
  /** The one URL to open: it carries the token. */
  url: string;
  close(): Promise<void>;
}

const MAX_JSON_BODY = 64 * 1024;

export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const { studio } = options;
  const token = options.token ?? newToken();
  const rendererDir = options.rendererDir ?? studio.environment.resources.rendererDir;
  const uploads = new UploadSessions(studio.paths.staging(), studio.sources);
  const ws = new WsTransport(studio);
  let port = 0;

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      console.error('[studio] request failed:', err);
      if (!res.headersSent) sendText(res, 500, 'Internal error.');
      else res.destroy();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    setSecurityHeaders(res, port);
    if (!isOwnHost(req, port)) return sendText(res, 403, 'Forbidden: unexpected Host header.');
    const url = requestUrl(req, port);
    if (!url) return sendText(res, 400, 'Bad request: the request target is not a valid path.');
    const method = req.method ?? 'GET';
    if (method === 'GET' && url.pathname === '/' && sameToken(url.searchParams.get('token'), token)) {
      // Trade the token in the URL for a cookie, and drop it from the address bar.
      res.statusCode = 302;
      res.setHeader('Set-Cookie', sessionCookie(token));
      res.setHeader('Location', '/');
      res.setHeader('Cache-Control', 'no-store');
      return void res.end();
    }
    if (!isAuthorised(req, url, token)) return sendStaleLink(req, res);

    if (url.pathname.startsWith('/img/')) {
      if (method !== 'GET' && method !== 'HEAD') return sendText(res, 405, 'Method not allowed.');
      return serveImage(studio, url.pathname, res);
    }
    if (url.pathname === '/upload' || url.pathname.startsWith('/upload/')) return handleUpload(req, res, url.pathname, method);
    if (isExportRoute(url.pathname)) {
      if (method !== 'GET' && method !== 'HEAD') return sendText(res, 405, 'Method not allowed.');
      return serveExportZip(studio, url.pathname, res, method);
    }
    if (isDatasetExportRoute(url.pathname)) {
      if (method !== 'GET' && method !== 'HEAD') return sendText(res, 405, 'Method not allowed.');
      return serveDatasetZip(studio, url.pathname, res, method);
    }
    if (isBackupRoute(url.pathname)) {
      if (method !== 'GET' && method !== 'HEAD') return sendText(res, 405, 'Method not allowed.');
      return serveBackup(studio, url.pathname, res, method);
    }
    if (method !== 'GET' && method !== 'HEAD') return sendText(res, 405, 'Method not allowed.');
    return serveStatic(rendererDir, url.pathname, res, method);
  }

  async function handleUpload(req: http.IncomingMessage, res: http.ServerResponse, pathname: string, method: string): Promise<void> {
    // Uploads change state: a cross-site form must not be able to start one.
    const origin = req.headers.origin;
    if (origin !== undefined && !isOwnOrigin(req, port)) return sendJson(res, 403, { error: 'Uploads are accepted only from this app.' });
    const parts = pathname.split('/').filter(Boolean); // ['upload', session?, 'finish'?]
    try {
      if (parts.length === 1 && method === 'POST') return sendJson(res, 200, { session: uploads.create() });
      if (parts.length === 2 && method === 'PUT') {
        const header = req.headers['x-relative-path'];
        const put = await uploads.put(parts[1]!, Array.isArray(header) ? header[0] : header, req);
        return sendJson(res, 200, put);
      }
      if (parts.length === 3 && parts[2] === 'finish' && method === 'POST') {
        const body = await readJsonBody(req);
        return sendJson(res, 200, uploads.finish(parts[1]!, body));
      }
      return sendJson(res, 404, { error: 'Unknown upload route.' });
    } catch (err) {
      if (err instanceof UploadError) {
        // The client may still be sending a refused body; let it finish into the void.
        req.resume();
        return sendJson(res, err.status, { error: err.message });
      }
      throw err;
    }
  }

  server.on('upgrade', (req, socket, head) => {
    const refuse = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    socket.on('error', () => socket.destroy());
    // An event handler: anything thrown here would stop the host, so every failure becomes a refusal.
    try {
      const url = requestUrl(req, port);
      if (!url) return refuse('400 Bad Request');
      if (url.pathname !== '/ws') return refuse('404 Not Found');
      if (!isOwnHost(req, port) || !isOwnOrigin(req, port) || !isAuthorised(req, url, token)) return refuse('403 Forbidden');
      ws.upgrade(req, socket, head);
    } catch (err) {
      console.error('[studio] upgrade failed:', err);
      refuse('500 Internal Server Error');
    }
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;

  return {
    port,
    token,
    url: `http://127.0.0.1:${port}/?token=${token}`,
    close: async () => {
      ws.close();
      uploads.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The request target as a URL, or null when it is not one (`GET http://[ HTTP/1.1` reaches us as is). */
function requestUrl(req: http.IncomingMessage, port: number): URL | null {
  try {
    return new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
  } catch {
    return null;
  }
}

async function readJsonBody(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_JSON_BODY) throw new UploadError(413, 'The request body is too large.');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return value;
  } catch {
    throw new UploadError(400, 'The request body must be a JSON object.');
  }
}
