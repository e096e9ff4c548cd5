// Distinct, readable label colours, handed out in order and then reused; the label editor offers the same palette.
export const LABEL_COLOURS = [
  '#e6194b',
  '#3cb44b',
  '#4363d8',
  '#f58231',
  '#911eb4',
  '#42d4f4',
  '#f032e6',
  '#9a6324',
  '#469990',
  '#800000',
  '#808000',
  '#000075',
  '#bfef45',
  '#fabed4',
  '#ffd8b1',
  '#aaffc3',
];

export function colourFor(index: number): string {
  return LABEL_COLOURS[index % LABEL_COLOURS.length]!;
}

/** WCAG relative luminance of a #rrggbb colour. */
function luminance(hex: string): number {
  const channel = (i: number) => {
    const v = parseInt(hex.slice(i, i + 2), 16) / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
}

/**
 * Black or white, whichever reads better on `background` (a #rrggbb label colour). One of the two
 * always reaches WCAG AA's 4.5:1 for any background (both give 4.58:1 where they cross), so text on
 * any colour a user picks stays readable; white alone failed on the palette's greens and yellows.
 */
export function textOn(background: string): '#000000' | '#ffffff' {
  if (!/^#[0-9a-f]{6}$/i.test(background)) return '#ffffff';
  const l = luminance(background);
  return (l + 0.05) / 0.05 > 1.05 / (l + 0.05) ? '#000000' : '#ffffff';
}
