// app://studio/… serves the built renderer; studio-image://img/<thumb|full>/<id> serves images by
// id through the core process. Neither ever exposes a path the page could choose.
import fs from 'node:fs/promises';
import { protocol } from 'electron';
import { resolveStatic, contentType } from '../core/static-path.js';
import { parseImagePath } from '../shared/image-path.js';
import type { CoreClient } from './core-client.js';
import { APP_HOST, APP_SCHEME, CSP, IMAGE_SCHEME } from './security.js';

/** Must run before app 'ready'. */
export function registerSchemes(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
    { scheme: IMAGE_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true } },
  ]);
}

const text = (status: number, body: string) => new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } });

export function handleProtocols(rendererDir: string, core: CoreClient): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    if (url.host !== APP_HOST) return text(404, 'Not found');
    const file = resolveStatic(rendererDir, url.pathname);
    if (!file) return text(400, 'Bad path');
    try {
      const body = await fs.readFile(file);
      return new Response(body, {
        headers: { 'content-type': contentType(file), 'content-security-policy': CSP, 'x-content-type-options': 'nosniff' },
      });
    } catch {
      return text(404, 'Not found');
    }
  });

  protocol.handle(IMAGE_SCHEME, async (request) => {
    const url = new URL(request.url);
    const parsed = url.host === 'img' ? parseImagePath(`/img${url.pathname}`) : null;
    if (!parsed) return text(404, 'No such image');
    const image = await core.image(parsed.id, parsed.variant);
    if (!image) return text(404, 'No such image');
    const headers = { 'content-type': image.mime, 'cache-control': 'private, max-age=3600', 'x-content-type-options': 'nosniff' };
    if ('data' in image) return new Response(Buffer.from(image.data), { headers });
    try {
      return new Response(await fs.readFile(image.path), { headers });
    } catch {
      return text(404, 'No such image');
    }
  });
}
