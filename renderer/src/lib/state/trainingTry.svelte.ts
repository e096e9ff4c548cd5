// "Try it": one picture (dropped, picked, or a webcam frame) through a finished run's model.
import { messageOf } from './toasts.svelte';
import { trainingCall, type Classification, type ClassifyMime } from './trainingApi.svelte';

const MIMES: readonly string[] = ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/tiff', 'image/bmp'];
/** Pictures above this are re-encoded as JPEG first: the call carries base64 in one message. */
const MAX_BYTES = 8_000_000;

export class TryIt {
  result = $state.raw<Classification | null>(null);
  /** Where the shown result's picture came from. */
  source = $state<'file' | 'camera' | null>(null);
  /** What was classified, as an object URL (or a data URL of the webcam frame). */
  shown = $state<string | null>(null);
  busy = $state(false);
  error = $state('');
  /** The tried file's name, for messages about it. */
  fileName = $state('');
  /** The browser could not show the picture: the stage says so instead of a broken-image icon. */
  unviewable = $state(false);
  private inFlight = false;

  constructor(readonly runId: number) {}

  async classifyFile(file: File): Promise<void> {
    // A new picture: nothing of the last one's answer may stay beside it.
    this.result = null;
    this.error = '';
    this.fileName = file.name;
    this.unviewable = false;
    if (!file.type.startsWith('image/')) {
      this.setShown(null);
      this.error = `“${file.name}” is not a picture. Drop a JPEG, PNG or WebP image.`;
      return;
    }
    this.setShown(URL.createObjectURL(file));
    let mime = file.type;
    let blob: Blob = file;
    // Other formats (HEIC, AVIF where the browser reads them) and huge files go as JPEG.
    if (!MIMES.includes(mime) || file.size > MAX_BYTES) {
      const jpeg = await reencode(file);
      if (!jpeg) {
        this.unviewable = true;
        this.error = `This browser cannot read “${file.name}”. Try a JPEG or PNG.`;
        return;
      }
      blob = jpeg;
      mime = 'image/jpeg';
    }
    await this.classify(mime as ClassifyMime, await toBase64(blob), 'file');
  }

  /** A webcam frame (base64 JPEG). Frames arriving while one is in flight are skipped. */
  async classifyFrame(dataBase64: string): Promise<void> {
    if (this.inFlight) return;
    this.setShown(null);
    this.fileName = '';
    this.unviewable = false;
    await this.classify('image/jpeg', dataBase64, 'camera');
  }

  async classify(mime: ClassifyMime, dataBase64: string, source: 'file' | 'camera'): Promise<void> {
    this.inFlight = true;
    this.busy = true;
    try {
      this.result = await trainingCall('runs.classify', { runId: this.runId, mime, dataBase64 });
      this.source = source;
      this.error = '';
    } catch (err) {
      this.result = null;
      this.error = source === 'file' && this.fileName ? `“${this.fileName}” could not be tried. ${messageOf(err)}` : messageOf(err);
    } finally {
      this.inFlight = false;
      this.busy = false;
    }
  }

  dispose(): void {
    this.setShown(null);
  }

  private setShown(url: string | null): void {
    if (this.shown?.startsWith('blob:')) URL.revokeObjectURL(this.shown);
    this.shown = url;
  }
}

async function toBase64(blob: Blob): Promise<string> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let binary = '';
  // Chunked: String.fromCharCode with millions of arguments overflows the stack.
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

async function reencode(file: File): Promise<Blob | null> {
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, 1024 / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext('2d')?.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    return await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.9));
  } catch {
    return null;
  }
}
