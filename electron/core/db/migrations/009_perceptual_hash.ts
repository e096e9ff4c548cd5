// A perceptual hash per image (electron/core/duplicates/phash.ts): 16 hex digits that stay nearly
// the same for resized, recompressed or slightly cropped copies, so near-duplicates (and the
// train/test leaks they cause) can be found. Set at import; images imported before this
// version are hashed on first use (duplicates/backfill.ts), hence nullable.
export const up = `
ALTER TABLE images ADD COLUMN phash TEXT CHECK (phash IS NULL OR (length(phash) = 16 AND phash NOT GLOB '*[^0-9a-f]*'));
`;
