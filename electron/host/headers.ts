// Security headers sent with every web-host response.
import type { ServerResponse } from 'node:http';

export function contentSecurityPolicy(port: number): string {
  return [
    "default-src 'self'",
    "img-src 'self' blob: data:",
    "media-src 'self' blob: mediastream:",
    `connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}`,
    "style-src 'self' 'unsafe-inline'",
    "script-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
  ].join('; ');
}

export function setSecurityHeaders(res: ServerResponse, port: number): void {
  res.setHeader('Content-Security-Policy', contentSecurityPolicy(port));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  // The first URL carries the token; never leak it to another site through Referer.
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}

export function sendText(res: ServerResponse, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(text.endsWith('\n') ? text : `${text}\n`);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(JSON.stringify(value));
}
