// Who may talk to the web host: whoever holds the random token printed by `studio serve`.
// The token arrives once in the URL, becomes an HttpOnly cookie, and is then checked on every
// request (static files too), so another local user or a web page cannot drive the studio.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const COOKIE_NAME = 'studio_token';

/** 32 random bytes as base64url: 43 url-safe characters. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function readCookie(req: IncomingMessage, name: string): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** Constant-time comparison, so the token cannot be guessed byte by byte from response times. */
export function sameToken(given: string | null | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function isAuthorised(req: IncomingMessage, url: URL, token: string): boolean {
  return sameToken(readCookie(req, COOKIE_NAME), token) || sameToken(url.searchParams.get('token'), token);
}

export function sessionCookie(token: string): string {
  return `${COOKIE_NAME}=${token}; HttpOnly; SameSite=Strict; Path=/`;
}

/**
 * Only our own loopback names are accepted in Host, so a DNS-rebinding page that resolves its
 * own name to 127.0.0.1 is turned away even before the token check.
 */
export function isOwnHost(req: IncomingMessage, port: number): boolean {
  const host = req.headers.host;
  return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
}

/** The WebSocket is opened only by pages served from this host. */
export function isOwnOrigin(req: IncomingMessage, port: number): boolean {
  const origin = req.headers.origin;
  return origin === `http://127.0.0.1:${port}` || origin === `http://localhost:${port}`;
}
