// Exponential of four float32 lanes.
//
// see: Cephes expf.c (Stephen L. Moshier), as in Julien Pommier's sse_mathfun
// exp(x) = 2^n exp(r): n = round(x / ln2) by adding the shifter 1.5 * 2^23, which leaves n in the
// low mantissa bits; r = x - n C1 - n C2 with C1 + C2 ~ ln2 and n C1 exact (Cody-Waite), so
// |r| <= ln2 / 2 + tiny; exp(r) = 1 + r + r^2 P(r) with P of degree 5 (Cephes' coefficients, in Estrin form).
// 2^n goes straight into the exponent field: (bits of the shifted sum) << 23 is n << 23, added to
// the bits of exp(r), which lies in [0.70, 1.42]. That stays a normal float for every x whose
// exp is normal, including n = 128 (then r < 0 and exp(r) < 1).
//
// Fast domain: -87.33654 <= x <= 88.72283 (0xC2AEAC4F .. 0x42B17217), where exp(x) is a normal
// float: results there are accurate to the bound below. Below it the lane is +0 (the subnormal
// results are flushed to zero), above it +inf. NaN lanes: unspecified. exp(0) is exactly 1.
//
// Constants live in linear memory, one splat load each (Node 20's V8 rebuilds every v128.const at
// each use inside a loop). The @lazy constants and the SIMD body compile only where used.

import { madd4 } from "./madd";

// @ts-ignore: decorator
@lazy const LOG2E = memory.data<u32>([0x3FB8AA3B]); // 0x1.715476p+0  1.4426950216e+00
// @ts-ignore: decorator
@lazy const SHIFT = memory.data<u32>([0x4B400000]); // 0x1.8p23 = 12582912
// @ts-ignore: decorator
@lazy const C1 = memory.data<u32>([0x3F318000]);    // 0x1.63p-1      6.9335937500e-01 (9 bits)
// @ts-ignore: decorator
@lazy const C2 = memory.data<u32>([0xB95E8083]);    // -0x1.bd0106p-13 -2.1219444170e-04
// Polynomial: exp(r) ~ 1 + r + r^2 (p0 r^5 + ... + p5), Cephes' coefficients.
// @ts-ignore: decorator
@lazy const p0 = memory.data<u32>([0x39506967]);    // 0x1.a0d2cep-13  1.9875691214e-04
// @ts-ignore: decorator
@lazy const p1 = memory.data<u32>([0x3AB743CE]);    // 0x1.6e879cp-10  1.3981999364e-03
// @ts-ignore: decorator
@lazy const p2 = memory.data<u32>([0x3C088908]);    // 0x1.111210p-7   8.3334520459e-03
// @ts-ignore: decorator
@lazy const p3 = memory.data<u32>([0x3D2AA9C1]);    // 0x1.555382p-5   4.1665796191e-02
// @ts-ignore: decorator
@lazy const p4 = memory.data<u32>([0x3E2AAAAA]);    // 0x1.555554p-3   1.6666665673e-01
// @ts-ignore: decorator
@lazy const p5 = memory.data<u32>([0x3F000000]);    // 0.5
// @ts-ignore: decorator
@lazy const ONE = memory.data<u32>([0x3F800000]);   // 1.0
// Largest x with a finite exp, smallest with a normal one.
// @ts-ignore: decorator
@lazy const HI = memory.data<u32>([0x42B17217]);    // 0x1.62e42ep+6   8.8722831726e+01
// @ts-ignore: decorator
@lazy const LO = memory.data<u32>([0xC2AEAC4F]);    // -0x1.5d589ep+6 -8.7336540222e+01
// @ts-ignore: decorator
@lazy const INF = memory.data<u32>([0x7F800000]);   // +inf

// exp(x) for the fast domain, before the out-of-domain selects (shared by expf4 and expf4Neg).
// @ts-ignore: decorator
@inline function expf4Core(x: v128): v128 {
  if (ASC_FEATURE_SIMD) {
    const shift = v128.load32_splat(SHIFT);
    const t = f32x4.add(f32x4.mul(x, v128.load32_splat(LOG2E)), shift);
    const n = f32x4.sub(t, shift);
    const r = f32x4.sub(
      f32x4.sub(x, f32x4.mul(n, v128.load32_splat(C1))),
      f32x4.mul(n, v128.load32_splat(C2)),
    );
    const z = f32x4.mul(r, r);
    // Estrin's scheme: three short chains instead of Horner's six-deep one, so the out-of-order
    // core overlaps more of consecutive vectors (the polynomial's latency bounded the throughput).
    const a = madd4(v128.load32_splat(p4), r, v128.load32_splat(p5));
    const b = madd4(v128.load32_splat(p2), r, v128.load32_splat(p3));
    const c = madd4(v128.load32_splat(p0), r, v128.load32_splat(p1));
    const z2 = f32x4.mul(z, z);
    let y = madd4(c, z2, madd4(b, z, a));
    y = f32x4.add(madd4(y, z, r), v128.load32_splat(ONE));
    // The shifter's own bits vanish in the shift: only n << 23 remains. exp(0) = 1 + 0 = 1.
    y = i32x4.add(y, i32x4.shl(t, 23));
    return y;
  } else {
    ERROR("expf4 needs SIMD: build with --enable simd, or call it inside if (ASC_FEATURE_SIMD)");
    return unreachable();
  }
}

// max error: 1.014 ulp (at x = 26.704473; every float32 of the fast domain, scripts/measure/measure-math.mjs;
// 0.99 in Horner form, which ran 20% slower)
// @ts-ignore: decorator
@inline export function expf4(x: v128): v128 {
  if (ASC_FEATURE_SIMD) {
    const y = expf4Core(x);
    // Out-of-domain lanes: about 20% of the time of expf4 on Node 20 (the +inf select most of it).
    const big = v128.bitselect(v128.load32_splat(INF), y, f32x4.gt(x, v128.load32_splat(HI)));
    return v128.andnot(big, f32x4.lt(x, v128.load32_splat(LO)));
  } else {
    ERROR("expf4 needs SIMD: build with --enable simd, or call it inside if (ASC_FEATURE_SIMD)");
    return unreachable();
  }
}

// exp(x) for x <= 0 (softmax arguments x - max): as expf4 without the overflow select, which such
// x never need. Lanes below the fast domain (and -inf) are +0; NaN lanes unspecified.
// max error: 1.007 ulp on x <= 0 (at x = -59.935863; every float32 of [-87.33654, -0]).
// @ts-ignore: decorator
@inline export function expf4Neg(x: v128): v128 {
  if (ASC_FEATURE_SIMD) {
    return v128.andnot(expf4Core(x), f32x4.lt(x, v128.load32_splat(LO)));
  } else {
    ERROR("expf4Neg needs SIMD: build with --enable simd, or call it inside if (ASC_FEATURE_SIMD)");
    return unreachable();
  }
}
