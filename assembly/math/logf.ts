// Natural logarithm of four float32 lanes.
//
// see: Arm optimized-routines, math/aarch64/advsimd/logf.c (MIT OR Apache-2.0 WITH LLVM-exception)
// x = 2^n (1 + r) with 2/3 <= 1 + r < 4/3, found by subtracting the bits of 2/3 as an integer:
// n is the exponent of x plus one, minus the borrow out of the mantissa field, which happens
// exactly when the significand of x is below 4/3. Then log(x) = n ln2 + r + r^2 P(r), P of
// degree 6 evaluated in Estrin form (short dependency chains).
// Without FMA the result is rounded a few more times than in Arm's version (3.34 ulp with FMA).
//
// Domain: positive, normal, finite x. Lanes holding 0, negatives, subnormals, inf or NaN get
// unspecified values: callers mask them. log(1) is exactly +0.
//
// Constants live in linear memory, one splat load each: Node 20's V8 rebuilds every v128.const at
// each use inside a loop, which made the kernels 12-25% slower (docs/engine-notes.md).
// The @lazy constants (and the SIMD body) are compiled only where used, so a scalar build that
// never calls logf4 carries neither.

import { madd4 } from "./madd";

// @ts-ignore: decorator
@lazy const OFF = memory.data<u32>([0x3F2AAAAB]);  // bits of 2/3 (0x1.555556p-1, 6.6666668653e-01)
// @ts-ignore: decorator
@lazy const MANT = memory.data<u32>([0x007FFFFF]); // mantissa mask
// @ts-ignore: decorator
@lazy const ONE = memory.data<u32>([0x3F800000]);  // 1.0
// @ts-ignore: decorator
@lazy const LN2 = memory.data<u32>([0x3F317218]);  // 0x1.62e430p-1  6.9314718246e-01
// Polynomial: log(1 + r) ~ r + r^2 (P1 + P2 r + ... + P7 r^6), Arm's "3.34 ulp" set.
// @ts-ignore: decorator
@lazy const P1 = memory.data<u32>([0xBEFFFFE4]);   // -0x1.ffffc8p-2 -4.9999916553e-01
// @ts-ignore: decorator
@lazy const P2 = memory.data<u32>([0x3EAAAEBE]);   //  0x1.555d7cp-2  3.3336442709e-01
// @ts-ignore: decorator
@lazy const P3 = memory.data<u32>([0xBE800C3E]);   // -0x1.00187cp-2 -2.5009340048e-01
// @ts-ignore: decorator
@lazy const P4 = memory.data<u32>([0x3E4B09A4]);   //  0x1.961348p-3  1.9827896357e-01
// @ts-ignore: decorator
@lazy const P5 = memory.data<u32>([0xBE27CC9A]);   // -0x1.4f9934p-3 -1.6386643052e-01
// @ts-ignore: decorator
@lazy const P6 = memory.data<u32>([0x3E2D4D51]);   //  0x1.5a9aa2p-3  1.6924025118e-01
// @ts-ignore: decorator
@lazy const P7 = memory.data<u32>([0xBE1F39BE]);   // -0x1.3e737cp-3 -1.5549370646e-01

// log(2^n (1 + r)) = n ln2 + r + r^2 P(r) for float lanes n and |r| < 1/3: the polynomial part,
// shared by logf4 and logRatiof4.
// @ts-ignore: decorator
@inline function logf4Reduced(n: v128, r: v128): v128 {
  if (ASC_FEATURE_SIMD) {
    const r2 = f32x4.mul(r, r);
    let p = madd4(v128.load32_splat(P6), r, v128.load32_splat(P5));
    let q = madd4(v128.load32_splat(P4), r, v128.load32_splat(P3));
    let y = madd4(v128.load32_splat(P2), r, v128.load32_splat(P1));
    p = madd4(v128.load32_splat(P7), r2, p);
    q = madd4(p, r2, q);
    y = madd4(q, r2, y);
    // At x = 1: n = r = 0, so (+0 + +0) + (P1 * +0 = -0) = +0 exactly.
    return f32x4.add(f32x4.add(f32x4.mul(n, v128.load32_splat(LN2)), r), f32x4.mul(y, r2));
  } else {
    ERROR("logf4 needs SIMD: build with --enable simd, or call it inside if (ASC_FEATURE_SIMD)");
    return unreachable();
  }
}

// max error: 3.52 ulp (at x = 1.3334093; every positive normal float32, scripts/measure/measure-math.mjs)
// @ts-ignore: decorator
@inline export function logf4(x: v128): v128 {
  if (ASC_FEATURE_SIMD) {
    const off = v128.load32_splat(OFF);
    const u = i32x4.sub(x, off);
    const n = f32x4.convert_i32x4_s(i32x4.shr_s(u, 23));
    const r = f32x4.sub(i32x4.add(v128.and(u, v128.load32_splat(MANT)), off), v128.load32_splat(ONE));
    return logf4Reduced(n, r);
  } else {
    ERROR("logf4 needs SIMD: build with --enable simd, or call it inside if (ASC_FEATURE_SIMD)");
    return unreachable();
  }
}

// ln(p/q) given x = p/q (rounded) and d = (p - q)/q computed as (p - q) * (1/q). Where x lies in
// [2/3, 4/3), p - q is exact (Sterbenz) and d is within about 1 ulp of the true ratio minus one,
// so the result keeps its relative accuracy as p/q -> 1, where x - 1 would carry x's rounding error
// (half an ulp of 1, large next to a small logarithm). Elsewhere it is logf4(x).
// Domain: x positive, normal, finite. ln(1) = +0 exactly (p = q gives d = +0).
// @ts-ignore: decorator
@inline export function logRatiof4(x: v128, d: v128): v128 {
  if (ASC_FEATURE_SIMD) {
    const off = v128.load32_splat(OFF);
    const u = i32x4.sub(x, off);
    const k = i32x4.shr_s(u, 23);
    const rx = f32x4.sub(i32x4.add(v128.and(u, v128.load32_splat(MANT)), off), v128.load32_splat(ONE));
    const r = v128.bitselect(d, rx, i32x4.eq(k, i32x4.splat(0)));
    return logf4Reduced(f32x4.convert_i32x4_s(k), r);
  } else {
    ERROR("logRatiof4 needs SIMD: build with --enable simd, or call it inside if (ASC_FEATURE_SIMD)");
    return unreachable();
  }
}
