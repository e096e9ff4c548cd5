// The export's progress and time left (electron/core/export/eta.ts): a fraction that follows the
// phases' shares and moves inside the long check, and a time left scaled from the time so far.
import { describe, expect, it } from 'vitest';
import { ExportClock } from '../../electron/core/export/eta.js';

const PHASES = ['predicting with the app', 'writing models', 'checking parity', 'writing the model card', 'zipping'] as const;

describe('ExportClock', () => {
  it('moves within the parity check as pictures are checked, and the time left changes with it', () => {
    const clock = new ExportClock([...PHASES], 0);
    const a = clock.at('checking parity', 0.1, 10_000);
    const b = clock.at('checking parity', 0.5, 20_000);
    expect(b.fraction).toBeGreaterThan(a.fraction);
    expect(a.etaMs).not.toBeNull();
    expect(b.etaMs).not.toBe(a.etaMs);
    // Half the check done after 20 s: the rest of the check and the zip are still ahead.
    expect(b.etaMs!).toBeGreaterThan(5_000);
    expect(b.etaMs!).toBeLessThan(40_000);
  });

  it('does not guess a time left in the first second or before 5% of the work', () => {
    const clock = new ExportClock([...PHASES], 0);
    expect(clock.at('predicting with the app', 0, 500).etaMs).toBeNull();
    expect(clock.at('predicting with the app', 0.2, 5_000).etaMs).toBeNull();
  });

  it('counts only the phases this export goes through (8-bit weights add one)', () => {
    const plain = new ExportClock([...PHASES], 0).at('writing models', 0, 1);
    const quantized = new ExportClock(['predicting with the app', 'measuring 8-bit weights', ...PHASES.slice(1)], 0).at(
      'writing models',
      0,
      1,
    );
    expect(quantized.fraction).toBeGreaterThan(plain.fraction);
    expect(new ExportClock([...PHASES], 0).at('done', 0, 9)).toEqual({ fraction: 1, etaMs: 0 });
  });
});
