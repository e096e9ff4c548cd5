// Enlarging a small picture to fill a big stage only shows its blur. Once the picture loads, this
// action sizes it to at most twice its own pixels (the element's max-width/max-height still shrink
// a large one); a tiny one (an icon, a thumbnail-sized photo) may grow 4× with crisp, square pixels.
const TINY_PX = 64;
const MAX_SCALE = 2;
const TINY_SCALE = 4;

export function naturalSize(img: HTMLImageElement): { destroy(): void } {
  const fit = () => {
    const w = img.naturalWidth;
    const h = img.naturalHeight;
    if (!w || !h) return;
    const tiny = Math.max(w, h) <= TINY_PX;
    const scale = tiny ? TINY_SCALE : MAX_SCALE;
    img.style.width = `${w * scale}px`;
    img.style.height = `${h * scale}px`;
    img.style.imageRendering = tiny ? 'pixelated' : '';
  };
  // A new src (the preview's arrows reuse the element): back to the stylesheet's size until it loads.
  const reset = () => {
    img.style.width = '';
    img.style.height = '';
    img.style.imageRendering = '';
  };
  const observer = new MutationObserver(reset);
  observer.observe(img, { attributes: true, attributeFilter: ['src'] });
  img.addEventListener('load', fit);
  if (img.complete) fit();
  return {
    destroy() {
      observer.disconnect();
      img.removeEventListener('load', fit);
    },
  };
}
