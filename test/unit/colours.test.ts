// Text on a label's colour (thumbnail chips) is readable whatever colour the user picked.
import { describe, expect, it } from 'vitest';
import { LABEL_COLOURS, textOn } from '../../electron/shared/colours.js';

function luminance(hex: string): number {
  const c = [1, 3, 5]
    .map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
    .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
  return 0.2126 * c[0]! + 0.7152 * c[1]! + 0.0722 * c[2]!;
}
const contrast = (a: string, b: string) => {
  const [x, y] = [luminance(a), luminance(b)];
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
};

describe('textOn', () => {
  it('reaches WCAG AA (4.5:1) on every palette colour and on 2,000 other colours', () => {
    const others = Array.from({ length: 2000 }, (_, i) => `#${((i * 2654435761) >>> 8).toString(16).padStart(6, '0').slice(-6)}`);
    for (const bg of [...LABEL_COLOURS, ...others, '#000000', '#ffffff', '#777777'])
      expect(contrast(textOn(bg), bg), bg).toBeGreaterThanOrEqual(4.5);
  });
  it('picks black on light colours and white on dark ones', () => {
    expect(textOn('#ffd8b1')).toBe('#000000');
    expect(textOn('#000075')).toBe('#ffffff');
  });
});
