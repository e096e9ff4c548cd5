// What the UI needs from a host, whatever carries it: the typed contract client, image
// URLs by id, the connection state, and (in the web host only) browser uploads.
import type { StudioApi } from '../../../../electron/shared/contract';

export type ImageVariant = 'thumb' | 'full';
export type ConnectionState = 'connecting' | 'open' | 'lost';

export interface UploadSession {
  /** PUTs one file under its relative path (forward slashes). */
  put(relativePath: string, file: Blob, signal?: AbortSignal): Promise<void>;
  /** Ends the upload; the host hands back a source token for `import.start`. */
  finish(csv?: string): Promise<{ source: string; displayName: string }>;
}

export interface Transport {
  readonly api: StudioApi;
  imageUrl(imageId: number, variant: ImageVariant): string;
  onConnection(listener: (state: ConnectionState) => void): () => void;
  /** Present only where the host has no native file dialog. */
  readonly startUpload?: () => Promise<UploadSession>;
}

/** A failed call: `message` is written for the user and shown as is. */
export class CallError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CallError';
  }
}
