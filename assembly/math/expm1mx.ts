// e^x - 1 - x (the curvature part of exp) near 0, to full relative precision.
//
// see: the Taylor series e^x - 1 - x = x^2 (1/2! + x/3! + x^2/4! + ...), truncated where the next
// term is below half an ulp of the sum over |x| <= 1/2 (after 1/15! for float64: the first term
// left out is under 6e-18 relative; after 1/8! for float32: under 3e-8), evaluated by Horner.
// Computed as exp(x) - 1 - x the value loses about log2(2 / x^2) bits to cancellation (all of
// them at |x| = 1e-8); the polynomial keeps them, which a Gaussian KL with nearly equal variances
// needs: its variance term is exactly e^d - 1 - d of the log-variance difference d.
// Beyond |x| = 1/2 the cancellation costs less than 3 bits and exp(x) - 1 - x is the better form:
// callers select (expm1mx does it for the scalar code).
//
// Domain of the vector forms: |x| <= 1/2. Result +0 at x = +-0.

// 1/k! for k = 2 .. 15 (float64) and 2 .. 8 (float32), rounded to nearest.
// @ts-ignore: decorator
@lazy const D2 = memory.data<u64>([0x3FE0000000000000]);  // 5.00000000000000000000e-01
// @ts-ignore: decorator
@lazy const D3 = memory.data<u64>([0x3FC5555555555555]);  // 1.66666666666666657415e-01
// @ts-ignore: decorator
@lazy const D4 = memory.data<u64>([0x3FA5555555555555]);  // 4.16666666666666643537e-02
// @ts-ignore: decorator
@lazy const D5 = memory.data<u64>([0x3F81111111111111]);  // 8.33333333333333321769e-03
// @ts-ignore: decorator
@lazy const D6 = memory.data<u64>([0x3F56C16C16C16C17]);  // 1.38888888888888894189e-03
// @ts-ignore: decorator
@lazy const D7 = memory.data<u64>([0x3F2A01A01A01A01A]);  // 1.98412698412698412526e-04
// @ts-ignore: decorator
@lazy const D8 = memory.data<u64>([0x3EFA01A01A01A01A]);  // 2.48015873015873015658e-05
// @ts-ignore: decorator
@lazy const D9 = memory.data<u64>([0x3EC71DE3A556C734]);  // 2.75573192239858925110e-06
// @ts-ignore: decorator
@lazy const D10 = memory.data<u64>([0x3E927E4FB7789F5C]); // 2.75573192239858882758e-07
// @ts-ignore: decorator
@lazy const D11 = memory.data<u64>([0x3E5AE64567F544E4]); // 2.50521083854417202239e-08
// @ts-ignore: decorator
@lazy const D12 = memory.data<u64>([0x3E21EED8EFF8D898]); // 2.08767569878681001866e-09
// @ts-ignore: decorator
@lazy const D13 = memory.data<u64>([0x3DE6124613A86D09]); // 1.60590438368216133409e-10
// @ts-ignore: decorator
@lazy const D14 = memory.data<u64>([0x3DA93974A8C07C9D]); // 1.14707455977297245073e-11
// @ts-ignore: decorator
@lazy const D15 = memory.data<u64>([0x3D6AE7F3E733B81F]); // 7.64716373181981640551e-13
// @ts-ignore: decorator
@lazy const F2 = memory.data<u32>([0x3F000000]); // 5.0000000000e-01
// @ts-ignore: decorator
@lazy const F3 = memory.data<u32>([0x3E2AAAAB]); // 1.6666667163e-01
// @ts-ignore: decorator
@lazy const F4 = memory.data<u32>([0x3D2AAAAB]); // 4.1666667908e-02
// @ts-ignore: decorator
@lazy const F5 = memory.data<u32>([0x3C088889]); // 8.3333337680e-03
// @ts-ignore: decorator
@lazy const F6 = memory.data<u32>([0x3AB60B61]); // 1.3888889225e-03
// @ts-ignore: decorator
@lazy const F7 = memory.data<u32>([0x39500D01]); // 1.9841270114e-04
// @ts-ignore: decorator
@lazy const F8 = memory.data<u32>([0x37D00D01]); // 2.4801587642e-05

// Horner step p * x + c, c loaded from the table.
// @ts-ignore: decorator
@inline function stepF64(p: v128, x: v128, c: usize): v128 {
  return f64x2.add(f64x2.mul(p, x), v128.load64_splat(c));
}

// @ts-ignore: decorator
@inline function stepF32(p: v128, x: v128, c: usize): v128 {
  return f32x4.add(f32x4.mul(p, x), v128.load32_splat(c));
}

// max error: 2 ulp from the correctly rounded value (20,000 samples of [-1/2, 1/2], half of them
// log-uniform down to 2^-41, against the exact series in rational arithmetic, test/math.test.ts)
// @ts-ignore: decorator
@inline export function expm1mxPoly2d(x: v128): v128 {
  if (ASC_FEATURE_SIMD) {
    let p = stepF64(v128.load64_splat(D15), x, D14);
    p = stepF64(p, x, D13);
    p = stepF64(p, x, D12);
    p = stepF64(p, x, D11);
    p = stepF64(p, x, D10);
    p = stepF64(p, x, D9);
    p = stepF64(p, x, D8);
    p = stepF64(p, x, D7);
    p = stepF64(p, x, D6);
    p = stepF64(p, x, D5);
    p = stepF64(p, x, D4);
    p = stepF64(p, x, D3);
    p = stepF64(p, x, D2);
    return f64x2.mul(f64x2.mul(x, x), p);
  } else {
    ERROR("expm1mxPoly2d needs SIMD: build with --enable simd, or call it inside if (ASC_FEATURE_SIMD)");
    return unreachable();
  }
}

// max error: 2.32 ulp (at x = 0.46131325; every float32 of [-1/2, 1/2] against the float64 series,
// scripts/measure/measure-math.mjs)
// @ts-ignore: decorator
@inline export function expm1mxPolyf4(x: v128): v128 {
  if (ASC_FEATURE_SIMD) {
    let p = stepF32(v128.load32_splat(F8), x, F7);
    p = stepF32(p, x, F6);
    p = stepF32(p, x, F5);
    p = stepF32(p, x, F4);
    p = stepF32(p, x, F3);
    p = stepF32(p, x, F2);
    return f32x4.mul(f32x4.mul(x, x), p);
  } else {
    ERROR("expm1mxPolyf4 needs SIMD: build with --enable simd, or call it inside if (ASC_FEATURE_SIMD)");
    return unreachable();
  }
}

// e^x - 1 - x for every float64 x, for the scalar code: the float64 polynomial (same coefficients,
// same order of operations as expm1mxPoly2d) for |x| <= 1/2, else expm1(x) - x; +inf at x = +-inf.
// @ts-ignore: decorator
@inline export function expm1mx(x: f64): f64 {
  if (Math.abs(x) <= 0.5) {
    let p = load<f64>(D15) * x + load<f64>(D14);
    p = p * x + load<f64>(D13);
    p = p * x + load<f64>(D12);
    p = p * x + load<f64>(D11);
    p = p * x + load<f64>(D10);
    p = p * x + load<f64>(D9);
    p = p * x + load<f64>(D8);
    p = p * x + load<f64>(D7);
    p = p * x + load<f64>(D6);
    p = p * x + load<f64>(D5);
    p = p * x + load<f64>(D4);
    p = p * x + load<f64>(D3);
    p = p * x + load<f64>(D2);
    return x * x * p;
  }
  // expm1(+inf) - inf would be NaN.
  return x == Infinity ? Infinity : Math.expm1(x) - x;
}
