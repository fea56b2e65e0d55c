// a b + c of four float32 lanes, the multiply-add of the dense kernels and of the float32 log and
// exp polynomials. The shipped builds multiply, then add: two roundings, the same bits in every
// engine. The opt-in FMA build (asconfig.json's "fma" target, with relaxed SIMD) uses
// f32x4.relaxed_madd instead, which an engine may fuse (one rounding, as x86's vfmadd and Arm's
// fmla) or not: faster, at most as far from the exact value, but its bits may differ between engines.
// see: the WebAssembly relaxed SIMD proposal, "Relaxed fused multiply-add and fused negative
// multiply-add" (https://github.com/WebAssembly/relaxed-simd/blob/main/proposals/relaxed-simd/Overview.md)

// @ts-ignore: decorator
@inline export function madd4(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}
