// The webcam: opening it, saying plainly why it cannot be opened, and grabbing frames as JPEG.
export type CameraState = 'off' | 'starting' | 'on' | 'error';

export class Camera {
  state = $state<CameraState>('off');
  error = $state('');
  stream = $state.raw<MediaStream | null>(null);

  async start(): Promise<void> {
    if (!navigator.mediaDevices?.getUserMedia) {
      this.fail('This browser window cannot use a camera here (camera access needs a secure page such as http://127.0.0.1).');
      return;
    }
    this.state = 'starting';
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
      this.state = 'on';
    } catch (err) {
      const name = err instanceof DOMException ? err.name : '';
      if (name === 'NotAllowedError' || name === 'SecurityError')
        this.fail('Camera permission was denied. Allow the camera for this page in your browser’s site settings, then try again.');
      else if (name === 'NotFoundError' || name === 'OverconstrainedError') this.fail('No camera was found. Plug one in, then try again.');
      else if (name === 'NotReadableError') this.fail('The camera is busy in another program. Close it there, then try again.');
      else this.fail(`The camera could not be opened: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  stop(): void {
    this.stream?.getTracks().forEach((t) => t.stop());
    this.stream = null;
    if (this.state !== 'error') this.state = 'off';
  }

  /** The current video frame as base64 JPEG (no data: prefix). */
  grab(video: HTMLVideoElement): string | null {
    if (!video.videoWidth) return null;
    const canvas = document.createElement('canvas');
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    const ctx = canvas.getContext('2d');
    if (!ctx) return null;
    ctx.drawImage(video, 0, 0);
    return canvas.toDataURL('image/jpeg', 0.9).split(',')[1] ?? null;
  }

  private fail(message: string): void {
    this.error = message;
    this.state = 'error';
  }
}
