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
