// The Jensen-Shannon term of nearly equal x and y, without cancellation: four float32 lanes, two
// float64 lanes and the scalar code.
//
// see: the series (1 + d) ln(1 + d) + (1 - d) ln(1 - d) = sum_k d^(2k) / (k (2k - 1)) (the two
// ln(1 +- d) series added term by term); coefficients by scripts/data/fit-divergence-poly.py
// With s = x + y, m = s/2 and d = (x - y)/s: x ln(x/m) + y ln(y/m) = (s/2) f(d), f(d) = d^2 F(d^2),
// F(z) = 1 + z/6 + z^2/15 + ..., so the term is (x - y) d F(d^2) / 2: a product of factors each
// with a small relative error, >= 0. The two logarithms instead cancel to first order in d (their
// sum is about d^2 of terms about d each), losing eps / d^2 relative, all of it below d = 1e-8 in
// float64. Where |d| > 1/2 the logarithms lose under 2 bits: callers use them there.
//
// Domain: z = d^2 in [0, 1/4]. F(0) = 1 exactly (fitted as F = 1 + z G(z)).

// G(z) ~ (F(z) - 1)/z on [0, 1/4], degree 11 (float64) and 4 (float32).
// max error of F: 2.8e-17 (float64) and 1.1e-8 (float32) relative, at z = 1/4; exact evaluation of
// the rounded polynomials at 20,001 points, scripts/data/fit-divergence-poly.py
// @ts-ignore: decorator
@lazy const J0 = memory.data<u64>([0x3FC5555555555552]); // 1.66666666666666574148e-1
// @ts-ignore: decorator
@lazy const J1 = memory.data<u64>([0x3FB1111111112AB0]); // 6.66666666667576901517e-2
// @ts-ignore: decorator
@lazy const J2 = memory.data<u64>([0x3FA2492492232003]); // 3.57142856969972152803e-2
// @ts-ignore: decorator
@lazy const J3 = memory.data<u64>([0x3F96C16C2CC61E0D]); // 2.22222235038583189326e-2
// @ts-ignore: decorator
@lazy const J4 = memory.data<u64>([0x3F8F07BB608689EB]); // 1.51514662582643202388e-2
// @ts-ignore: decorator
@lazy const J5 = memory.data<u64>([0x3F8681FB162D0762]); // 1.09901062147660967538e-2
// @ts-ignore: decorator
@lazy const J6 = memory.data<u64>([0x3F8108F6C9C5EABC]); // 8.31787875425981509947e-3
// @ts-ignore: decorator
@lazy const J7 = memory.data<u64>([0x3F7B5AA2799FD2D5]); // 6.67823283037157367642e-3
// @ts-ignore: decorator
@lazy const J8 = memory.data<u64>([0x3F7206DC326A779A]); // 4.40107359341181982038e-3
// @ts-ignore: decorator
@lazy const J9 = memory.data<u64>([0x3F7F8A8F6510D5A0]); // 7.70050061787710959926e-3
// @ts-ignore: decorator
@lazy const J10 = memory.data<u64>([0xBF71E3A1CAF95540]); // -4.36747742022208784718e-3
// @ts-ignore: decorator
@lazy const J11 = memory.data<u64>([0x3F8A1CF233FC9133]); // 1.2750522815232123372e-2
// @ts-ignore: decorator
@lazy const ONE_F64 = memory.data<f64>([1.0]);
// @ts-ignore: decorator
@lazy const JF0 = memory.data<u32>([0x3E2AAAAD]); // 1.6666670144e-1
// @ts-ignore: decorator
@lazy const JF1 = memory.data<u32>([0x3D8884DB]); // 6.6659651697e-2
// @ts-ignore: decorator
@lazy const JF2 = memory.data<u32>([0x3D132FAD]); // 3.5934139043e-2
// @ts-ignore: decorator
@lazy const JF3 = memory.data<u32>([0x3CA2C40B]); // 1.9868871197e-2
// @ts-ignore: decorator
@lazy const JF4 = memory.data<u32>([0x3CCBC061]); // 2.4872006848e-2
// @ts-ignore: decorator
@lazy const ONE_F32 = memory.data<f32>([1.0]);

// The bound of d where callers switch forms.
export const JS_NEAR: f64 = 0.5;

// c0 + z c1, one node of Estrin's scheme (the kernels are latency-bound on the polynomial: its
// dependency chain is four multiply-adds deep instead of Horner's twelve).
// @ts-ignore: decorator
@inline function pairF64(z: v128, c0: usize, c1: usize): v128 {
  return f64x2.add(v128.load64_splat(c0), f64x2.mul(z, v128.load64_splat(c1)));
}

// @ts-ignore: decorator
@inline function pairF32(z: v128, c0: usize, c1: usize): v128 {
  return f32x4.add(v128.load32_splat(c0), f32x4.mul(z, v128.load32_splat(c1)));
}

// F(z) of two float64 lanes.
// @ts-ignore: decorator
@inline export function jsNear2d(z: v128): v128 {
  if (ASC_FEATURE_SIMD) {
    const z2 = f64x2.mul(z, z);
    const z4 = f64x2.mul(z2, z2);
    const z8 = f64x2.mul(z4, z4);
    const a = f64x2.add(pairF64(z, J0, J1), f64x2.mul(z2, pairF64(z, J2, J3)));
    const b = f64x2.add(pairF64(z, J4, J5), f64x2.mul(z2, pairF64(z, J6, J7)));
    const c = f64x2.add(pairF64(z, J8, J9), f64x2.mul(z2, pairF64(z, J10, J11)));
    const g = f64x2.add(f64x2.add(a, f64x2.mul(z4, b)), f64x2.mul(z8, c));
    return f64x2.add(v128.load64_splat(ONE_F64), f64x2.mul(z, g));
  } else {
    ERROR("jsNear2d needs SIMD: build with --enable simd, or call it inside if (ASC_FEATURE_SIMD)");
    return unreachable();
  }
}

// F(z) of four float32 lanes.
// @ts-ignore: decorator
@inline export function jsNearf4(z: v128): v128 {
  if (ASC_FEATURE_SIMD) {
    const z2 = f32x4.mul(z, z);
    const a = f32x4.add(pairF32(z, JF0, JF1), f32x4.mul(z2, pairF32(z, JF2, JF3)));
    const g = f32x4.add(a, f32x4.mul(f32x4.mul(z2, z2), v128.load32_splat(JF4)));
    return f32x4.add(v128.load32_splat(ONE_F32), f32x4.mul(z, g));
  } else {
    ERROR("jsNearf4 needs SIMD: build with --enable simd, or call it inside if (ASC_FEATURE_SIMD)");
    return unreachable();
  }
}

// F(z) in float64 for the scalar code (the coefficients and order of jsNear2d).
// @ts-ignore: decorator
@inline export function jsNear(z: f64): f64 {
  const z2 = z * z;
  const z4 = z2 * z2;
  const z8 = z4 * z4;
  const a = (load<f64>(J0) + z * load<f64>(J1)) + z2 * (load<f64>(J2) + z * load<f64>(J3));
  const b = (load<f64>(J4) + z * load<f64>(J5)) + z2 * (load<f64>(J6) + z * load<f64>(J7));
  const c = (load<f64>(J8) + z * load<f64>(J9)) + z2 * (load<f64>(J10) + z * load<f64>(J11));
  return 1 + z * ((a + z4 * b) + z8 * c);
}
