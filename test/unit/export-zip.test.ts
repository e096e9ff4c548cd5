// The export's zip writer: deflating on the thread pool (what an export uses, so the event loop
// stays free) gives the very bytes of the synchronous writer, big entries and small alike.
import { describe, it, expect } from 'vitest';
import { zipBytes, zipBytesAsync } from '../../electron/core/export/zip.js';

describe('zipBytesAsync', () => {
  it('writes the same archive as zipBytes', async () => {
    let s = 7;
    const noise = new Uint8Array(1_500_000).map(() => ((s = (s * 1103515245 + 12345) >>> 0), s >>> 24));
    const entries = [
      { name: 'bundle/README.md', data: Buffer.from('# A model\n'.repeat(200)) },
      { name: 'bundle/tfjs/weights.bin', data: noise }, // big and incompressible: stored
      { name: 'bundle/web-demo/model.js', data: Buffer.from('abcd'.repeat(400_000)) }, // big and compressible: fast level
      { name: 'bundle/empty.txt', data: new Uint8Array(0) },
    ];
    const sync = zipBytes(entries);
    expect((await zipBytesAsync(entries)).equals(sync)).toBe(true);
    expect(sync.length).toBeLessThan(noise.length + 400_000);
  });
});
