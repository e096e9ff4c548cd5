// The desktop app's security policy in one place: our own schemes, the CSP, and which page may
// call the core.
export const APP_SCHEME = 'app';
export const APP_HOST = 'studio';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const IMAGE_SCHEME = 'studio-image';

export const CSP = [
  "default-src 'self'",
  `img-src 'self' ${IMAGE_SCHEME}: blob: data:`,
  "media-src 'self' blob: mediastream:",
  "connect-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "script-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

/** Only our own page (top frame, loaded from app://studio/) may reach the core. */
export function isTrustedPageUrl(url: string | undefined | null): boolean {
  if (!url) return false;
  try {
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST;
  } catch {
    return false;
  }
}
