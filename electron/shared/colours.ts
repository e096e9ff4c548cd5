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
