import { describe, it, expect } from 'vitest';
import { scrubInstallPaths } from '../../electron/core/install-paths.js';

describe('scrubInstallPaths', () => {
  const roots = ['/opt/Transfer Studio/resources', '/home/ana/dev/transfer-studio'];
  it('cuts paths of the installation to their file name', () => {
    expect(
      scrubInstallPaths("ENOENT: no such file or directory, open '/opt/Transfer Studio/resources/bases/mobilenet-v2/model.json'", roots),
    ).toBe("ENOENT: no such file or directory, open 'model.json'");
    expect(scrubInstallPaths('Cannot find module /home/ana/dev/transfer-studio/dist/electron/engine/entry.js imported from x', roots)).toBe(
      'Cannot find module entry.js imported from x',
    );
  });
  it("leaves the user's own paths alone", () => {
    const msg = 'There is no file /home/ana/Pictures/owl.jpg; /home/ana/dev/transfer-studio-data is not ours either';
    expect(scrubInstallPaths(msg, roots)).toBe(msg);
  });
});
