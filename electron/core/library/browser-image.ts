// The bytes or file a browser can display for an image id, for both hosts: the web host's
// /img/… route and the desktop's studio-image:// protocol (through the core process). Formats a
// browser cannot show (TIFF) are converted on the fly; the stored originals stay untouched.
import type { Studio } from '../studio.js';
import type { ImageVariant } from '../../shared/image-path.js';

const BROWSER_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/bmp']);

/** The bytes or file a browser can display for an image id; null when there is no such image. */
export async function browserImage(
  studio: Studio,
  id: number,
  variant: ImageVariant,
): Promise<{ path: string; mime: string } | { data: Buffer; mime: string } | null> {
  const found = await studio.imageFile(id, variant);
  if (!found) return null;
  if (BROWSER_TYPES.has(found.mime)) return found;
  const { default: sharp } = await import('sharp');
  // rotate() with no angle applies the EXIF orientation.
  const data = await sharp(found.path).rotate().png().toBuffer();
  return { data, mime: 'image/png' };
}
