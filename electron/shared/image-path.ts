// The one URL shape for images by id, shared by the web route (/img/…) and the desktop
// protocol (studio-image://img/…).

export type ImageVariant = 'thumb' | 'full';

/** Parses `/img/<variant>/<id>`; null for anything else. */
export function parseImagePath(pathname: string): { variant: ImageVariant; id: number } | null {
  const m = /^\/img\/(thumb|full)\/(\d{1,15})$/.exec(pathname);
  if (!m) return null;
  const id = Number(m[2]);
  return Number.isSafeInteger(id) && id > 0 ? { variant: m[1] as ImageVariant, id } : null;
}
