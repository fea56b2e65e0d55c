// log(1 + x) of four float32 lanes (log1pf4) and of two float64 lanes (log1p2d).
//
// see: D. Goldberg, "What every computer scientist should know about floating-point arithmetic",
// ACM Computing Surveys 23(1), 1991, Theorem 4 (after W. Kahan)
// With u = 1 + x rounded: log(1 + x) = x where u == 1, else log(u) * x / (u - 1). Computing log(u)
// alone keeps nothing of an x below half an ulp of 1 and only a few bits of a small x; the factor
// x / (u - 1) divides out the rounding error of u, so the result keeps the relative accuracy of
// the log itself (Goldberg proves 5 eps for 0 <= x < 3/4 with an exact log; the measured bounds
// below include the error of logf4 and log2d).
//
// Domain: -1 < x < +inf with 1 + x finite (every such float: u is then a positive normal number,
// the domain of logf4 and log2d). log1p(+-0) = +-0 exactly. Lanes holding NaN, x <= -1 or
// x = +inf get unspecified values: callers mask them.

import { logf4 } from "./logf";
import { log2d } from "./log";

// @ts-ignore: decorator
@lazy const ONE_F32 = memory.data<u32>([0x3F800000]); // 1.0
// @ts-ignore: decorator
@lazy const ONE_F64 = memory.data<u64>([0x3FF0000000000000]); // 1.0

// max error: 4.95 ulp (at x = 0.12470501; every float32 of (-1, 1e30), against Math.log1p in
// float64, scripts/measure/measure-math.mjs; 4.13 ulp on (-1, 0], 3.25 above 1)
// @ts-ignore: decorator
@inline export function log1pf4(x: v128): v128 {
  if (ASC_FEATURE_SIMD) {
    const one = v128.load32_splat(ONE_F32);
    const u = f32x4.add(one, x);
    // Where u == 1, u - 1 = 0 makes the quotient inf or NaN: the select discards that lane.
    const y = f32x4.mul(logf4(u), f32x4.div(x, f32x4.sub(u, one)));
    return v128.bitselect(x, y, f32x4.eq(u, one));
  } else {
    ERROR("log1pf4 needs SIMD: build with --enable simd, or call it inside if (ASC_FEATURE_SIMD)");
    return unreachable();
  }
}

// max error: 2.32 ulp (at x = 0.062433538; 3 million samples of (-1, 1e300] against an 80-bit
// reference, scripts/measure/measure-math.mjs)
// @ts-ignore: decorator
@inline export function log1p2d(x: v128): v128 {
  if (ASC_FEATURE_SIMD) {
    const one = v128.load64_splat(ONE_F64);
    const u = f64x2.add(one, x);
    const y = f64x2.mul(log2d(u), f64x2.div(x, f64x2.sub(u, one)));
    return v128.bitselect(x, y, f64x2.eq(u, one));
  } else {
    ERROR("log1p2d needs SIMD: build with --enable simd, or call it inside if (ASC_FEATURE_SIMD)");
    return unreachable();
  }
}
