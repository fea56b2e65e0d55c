// Horizontal sums of a vector's lanes, shared by every kernel family.

// Sum of the four f32 lanes, in f64 (blocks of float32 terms are summed in f64 across blocks).
// @ts-ignore: decorator
@inline export function hsumF32(v: v128): f64 {
  const lo = f64x2.promote_low_f32x4(v);
  const hi = f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1));
  const s = f64x2.add(lo, hi);
  return f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
}

// Sum of the two f64 lanes.
// @ts-ignore: decorator
@inline export function hsumF64(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

// Sum of the four i32 lanes.
// @ts-ignore: decorator
@inline export function hsumI32(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}
