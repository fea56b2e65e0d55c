// What every kernel family shares: the block of the two-level sums and typed element access.

// Elements per block: each f32 accumulator lane adds at most BLOCK/4 terms before the block's sum
// moves to f64 (two-level blocked summation, Higham 1993, "The accuracy of floating point
// summation"), so float32 sums keep about 1e-7 of their value whatever their length; lanes summing
// a whole row would lose accuracy in proportion to it. row_totals (rows.ts) sums float64 terms in
// the same blocks.
export const BLOCK: i32 = 128;

// Element i of an array of T, as f64.
// @ts-ignore: decorator
@inline export function loadAs<T>(ptr: usize, i: i32): f64 {
  return <f64>load<T>(ptr + (<usize>i << alignof<T>()));
}

// Stores v as element i of an array of T.
// @ts-ignore: decorator
@inline export function storeAs<T>(ptr: usize, i: i32, v: f64): void {
  store<T>(ptr + (<usize>i << alignof<T>()), <T>v);
}

// Stores the four f32 lanes of v as f64 at ptr (per-element terms and losses of float32 kernels).
// @ts-ignore: decorator
@inline export function storePromotedF32(ptr: usize, v: v128): void {
  v128.store(ptr, f64x2.promote_low_f32x4(v));
  v128.store(ptr, f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)), 16);
}
