// Runs a person can tell apart and build on: a name and notes of their own, and, for a run that
// started from an earlier run's network ("train again from this run"), which run that was. The
// link is kept as a plain id with no foreign key: deleting the earlier run must not delete or
// rewrite the later one, whose record still says where it came from.
export const up = `
ALTER TABLE runs ADD COLUMN name TEXT CHECK (name IS NULL OR length(name) BETWEEN 1 AND 200);
ALTER TABLE runs ADD COLUMN notes TEXT CHECK (notes IS NULL OR length(notes) <= 10000);
ALTER TABLE runs ADD COLUMN continued_from INTEGER;
`;
