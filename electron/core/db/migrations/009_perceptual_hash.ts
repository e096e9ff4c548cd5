// Two facts about an image that the "learn from mistakes" views need:
// - phash: a perceptual hash (electron/core/duplicates/phash.ts), 16 hex digits that stay nearly
//   the same for resized, recompressed or slightly cropped copies, so near-duplicates (and the
//   train/test leaks they cause) can be found. Set at import; images imported before this version
//   are hashed on first use (duplicates/find.ts), hence nullable.
// - confirmed_label_id: the label a person confirmed as right when a run doubted it, so the
//   picture leaves the doubted list for good (until it is relabeled: the confirmation names the
//   label it was about). Set and unset through the undo history.
export const up = `
ALTER TABLE images ADD COLUMN phash TEXT CHECK (phash IS NULL OR (length(phash) = 16 AND phash NOT GLOB '*[^0-9a-f]*'));
ALTER TABLE images ADD COLUMN confirmed_label_id INTEGER REFERENCES labels(id) ON DELETE SET NULL;
`;
