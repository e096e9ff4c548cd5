// Feature rows laid end to end in one array: a batch of rows for a 2-D tensor, or one picture's
// parts (several trunks' pooled features) as one row.

/** The rows one after another, in a new array (rows may differ in length). */
export function concatRows(rows: Float32Array[]): Float32Array {
  const out = new Float32Array(rows.reduce((n, r) => n + r.length, 0));
  let at = 0;
  for (const r of rows) {
    out.set(r, at);
    at += r.length;
  }
  return out;
}
