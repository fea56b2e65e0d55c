// The command line's hold-out splits (`train --validation` and the experiment), from the
// library's own generator, so one seed means the same thing everywhere.

import { mulberry32, shuffle } from "../random.js";

/**
 * A seeded random `held` of the rows 0..n-1 and the rest, each in ascending order (Fisher-Yates on
 * the row numbers; the first `held` of the permutation are held out).
 */
export function splitRows(n: number, held: number, seed: number): { train: Int32Array; held: Int32Array } {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  shuffle(order, mulberry32(seed));
  return { held: order.slice(0, held).sort(), train: order.slice(held).sort() };
}

/**
 * A seeded random `held` of the rows, taken from each class in proportion to its rows (a stratified
 * split, so a small table's held-out rows have its class balance), and the rest, each ascending.
 * Class k holds out floor(held * n_k / n) rows, and the rows left over go to the classes with the
 * largest remainders (the lower class first among equals). Each class's rows are shuffled by one
 * generator, class by class.
 */
export function stratifiedSplit(
  y: Int32Array,
  classes: number,
  held: number,
  seed: number,
): { train: Int32Array; held: Int32Array } {
  const n = y.length;
  const members = Array.from({ length: classes }, (): number[] => []);
  for (let r = 0; r < n; r++) members[y[r]!]!.push(r);
  const quota = members.map((m) => Math.floor((held * m.length) / n));
  const order = members
    .map((m, k) => ({ k, rest: (held * m.length) % n }))
    .sort((a, b) => b.rest - a.rest || a.k - b.k);
  for (let left = held - quota.reduce((a, b) => a + b, 0), i = 0; left > 0; i++, left--)
    quota[order[i]!.k]!++;
  const random = mulberry32(seed);
  const out: number[] = [];
  const kept: number[] = [];
  members.forEach((m, k) => {
    const rows = Int32Array.from(m);
    shuffle(rows, random);
    out.push(...rows.subarray(0, quota[k]));
    kept.push(...rows.subarray(quota[k]));
  });
  return { held: Int32Array.from(out).sort(), train: Int32Array.from(kept).sort() };
}
