// Shared by the elementwise loss kernels (logistic.ts, gaussian.ts): the stats record each kernel
// fills for one range of elements, and per-row totals of per-element terms (reduction 'none'):
//   row_totals (binaryCrossEntropyWithLogits and gaussianKL with reduction 'none')
//
// Those kernels see a flat range of elements: rows matter only to the reduction, so a row of one
// element (binary cross-entropy's default) runs the same SIMD loop as one long row.

import { BLOCK } from "./common";

// Stats record of one range: the sum of its terms and the OR of its invalid-element flags, both f64
// (byte offsets; LOSS_SIZE bytes in all).
export const LOSS_TOTAL: i32 = 0;
export const LOSS_FLAGS: i32 = 8;
export const LOSS_SIZE: i32 = 16;

// out[r] = the sum of terms[r * cols, (r + 1) * cols), all f64. Each block of BLOCK terms is summed
// on its own and the block sums then added (two-level blocked summation, Higham 1993, "The accuracy
// of floating point summation"), so the error grows with BLOCK + cols / BLOCK, not with cols.
export function row_totals(terms: usize, rows: i32, cols: i32, out: usize): void {
  for (let r = 0; r < rows; r++) {
    let total: f64 = 0;
    for (let j = 0; j < cols; j += BLOCK) {
      const end = min(j + BLOCK, cols);
      let s: f64 = 0;
      for (let i = j; i < end; i++) s += load<f64>(terms + (<usize>i << 3));
      total += s;
    }
    store<f64>(out + (<usize>r << 3), total);
    terms += <usize>cols << 3;
  }
}
