// Shared by the elementwise loss kernels (logistic.ts, gaussian.ts): the stats record each kernel
// fills for one range of elements, per-row totals of per-element terms (reduction 'none'), and the
// small helpers of their loops.
//
// Those kernels see a flat range of elements: rows matter only to the reduction, so a row of one
// element (binary cross-entropy's default) runs the same SIMD loop as one long row.

// Stats record of one range: the sum of its terms and the OR of its invalid-element flags, both f64.
export const LOSS_TOTAL: i32 = 0;
export const LOSS_FLAGS: i32 = 8;

// Elements per block: of row_totals' two-level sum, and of the kernels' SIMD blocks, where each f32
// accumulator lane adds at most BLOCK/4 terms before the block sum moves to f64 (two-level blocked
// summation, Higham 1993, "The accuracy of floating point summation"), as in divergence.ts.
export const BLOCK: i32 = 128;

// Element i of an array of T, as f64.
@inline export function loadAs<T>(ptr: usize, i: i32): f64 {
  return <f64>load<T>(ptr + (<usize>i << alignof<T>()));
}

// Stores the four f32 lanes of v as f64 at ptr (per-element terms of float32 kernels).
@inline export function storePromotedF32(ptr: usize, v: v128): void {
  v128.store(ptr, f64x2.promote_low_f32x4(v));
  v128.store(ptr, f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)), 16);
}

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
