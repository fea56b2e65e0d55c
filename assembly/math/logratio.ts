// x ln(x/y) and the kl_div term x ln(x/y) - (x - y) for positive x and y, accurate where x/y is
// near 1: two float64 lanes, the scalar code, and the kl_div term of four float32 lanes.
//
// see: the series atanh(u) = u + u^3/3 + u^5/5 + ... (Abramowitz and Stegun 4.6.33 with
// ln((1 + u)/(1 - u)) = 2 atanh(u)); coefficients by scripts/data/fit-divergence-poly.py
// With u = (x - y)/(x + y), x/y = (1 + u)/(1 - u), so ln(x/y) = 2u + u z P(z), z = u^2, and
//   x ln(x/y) - (x - y) = u ((x - y) + x z P(z))          ((x - y) = u (x + y))
// where both parts of the sum have the sign of u for |u| <= 0.1716: the term is >= 0 and keeps its
// relative accuracy however close x is to y. x - y is exact there (Sterbenz: x/y in [1/2, 2]),
// x + y and the quotient are rounded once each. ln of the rounded ratio x/y instead carries the
// ratio's rounding error (half an ulp of 1) whole, eps / |ln(x/y)| relative, and x ln(x/y) - (x - y)
// computed from it cancels to nothing.
// Elsewhere x/y is reduced as in log2d (x/y = 2^k (1 + f), sqrt(2)/2 <= 1 + f < sqrt(2)); the lanes
// with k = 0 are exactly the near ones, |u| <= 0.1716, so one division serves both: (x - y)/(x + y)
// where k = 0, else f/(2 + f), and P of its square gives log2d's R = s^2 P(s^2) too. There the kl_div
// term x ln(x/y) - (x - y) loses at most 3.6 bits to cancellation (at x/y = sqrt(2)). The float32
// form has no log reduction of its own: callers use it where |u| <= 1/3 (x/y in [1/2, 2]), with P
// in float32 on that range.
//
// Domain of the float64 vector forms: x/y positive, normal and finite, x + y finite (callers mask
// or redo other lanes). Lanes where x = 0 <= y (y finite) give 0 for x ln(x/y) and y for the
// kl_div term.

import { log2dF, log2dJoin, log2dK, log2dShift } from "./log";

// P(z) ~ 2 (1/3 + z/5 + z^2/7 + ...) on [0, 0.0295] (|u| <= 0.1716), degree 7.
// max error: 5.6e-17 relative (at z = 0: 2/3 rounded; truncation 3.2e-18), exact evaluation of the
// rounded polynomial at 20,001 points, scripts/data/fit-divergence-poly.py
// @ts-ignore: decorator
@lazy const A0 = memory.data<u64>([0x3FE5555555555555]); // 6.66666666666666629659e-1
// @ts-ignore: decorator
@lazy const A1 = memory.data<u64>([0x3FD9999999999A3A]); // 4.00000000000008903989e-1
// @ts-ignore: decorator
@lazy const A2 = memory.data<u64>([0x3FD249249247670A]); // 2.85714285707954318561e-1
// @ts-ignore: decorator
@lazy const A3 = memory.data<u64>([0x3FCC71C7201FC0E6]); // 2.22222223935666096661e-1
// @ts-ignore: decorator
@lazy const A4 = memory.data<u64>([0x3FC745CF8C09A9D4]); // 1.8181795442371984084e-1
// @ts-ignore: decorator
@lazy const A5 = memory.data<u64>([0x3FC3B1C43C68EB6D]); // 1.53862504479401890345e-1
// @ts-ignore: decorator
@lazy const A6 = memory.data<u64>([0x3FC0FBD140544B63]); // 1.32684856806544265728e-1
// @ts-ignore: decorator
@lazy const A7 = memory.data<u64>([0x3FC0C135ADCF3011]); // 1.30896291606746234537e-1
// @ts-ignore: decorator
@lazy const TWO = memory.data<f64>([2.0]);
// The same P on [0, 1/9] (|u| <= 1/3) in float32, degree 4.
// max error: 3.0e-8 relative (at z = 0: 2/3 rounded), as above
// @ts-ignore: decorator
@lazy const AF0 = memory.data<u32>([0x3F2AAAAB]); // 6.6666668653e-1
// @ts-ignore: decorator
@lazy const AF1 = memory.data<u32>([0x3ECCCC6A]); // 3.9999705553e-1
// @ts-ignore: decorator
@lazy const AF2 = memory.data<u32>([0x3E926493]); // 2.8592357039e-1
// @ts-ignore: decorator
@lazy const AF3 = memory.data<u32>([0x3E5E467C]); // 2.1706575155e-1
// @ts-ignore: decorator
@lazy const AF4 = memory.data<u32>([0x3E6DD130]); // 2.3224329948e-1

// |u| bound of the near form: (sqrt(2) - 1)/(sqrt(2) + 1) = 0.171572875..., where log2d's
// reduction changes k; the scalar code and klDivNear2d's callers use the same bound.
const NEAR: f64 = 0.1716;
export const NEAR_U: f64 = NEAR;

// z P(z), Estrin's scheme: a dependency chain of three multiply-adds instead of Horner's eight
// (the kernels are latency-bound on it).
// @ts-ignore: decorator
@inline function pairF64(z: v128, c0: usize, c1: usize): v128 {
  return f64x2.add(v128.load64_splat(c0), f64x2.mul(z, v128.load64_splat(c1)));
}

// @ts-ignore: decorator
@inline function zP2d(z: v128): v128 {
  const z2 = f64x2.mul(z, z);
  const z4 = f64x2.mul(z2, z2);
  const lo = f64x2.add(pairF64(z, A0, A1), f64x2.mul(z2, pairF64(z, A2, A3)));
  const hi = f64x2.add(pairF64(z, A4, A5), f64x2.mul(z2, pairF64(z, A6, A7)));
  return f64x2.mul(z, f64x2.add(lo, f64x2.mul(z4, hi)));
}

// The same polynomial and order of operations in scalar code.
// @ts-ignore: decorator
@inline function zP(z: f64): f64 {
  const z2 = z * z;
  const z4 = z2 * z2;
  const lo = (load<f64>(A0) + z * load<f64>(A1)) + z2 * (load<f64>(A2) + z * load<f64>(A3));
  const hi = (load<f64>(A4) + z * load<f64>(A5)) + z2 * (load<f64>(A6) + z * load<f64>(A7));
  return z * (lo + z4 * hi);
}

// c0 + z c1 in float32 lanes.
// @ts-ignore: decorator
@inline function pairF32(z: v128, c0: usize, c1: usize): v128 {
  return f32x4.add(v128.load32_splat(c0), f32x4.mul(z, v128.load32_splat(c1)));
}

// The kl_div term x ln(x/y) - (x - y) of four float32 lanes where |u| <= 1/3 (x/y in [1/2, 2]),
// from x, dxy = x - y (exact there) and sxy = x + y; Estrin's scheme for z P(z).
// @ts-ignore: decorator
@inline export function klDivNearf4(x: v128, dxy: v128, sxy: v128): v128 {
  if (ASC_FEATURE_SIMD) {
    const u = f32x4.div(dxy, sxy);
    const z = f32x4.mul(u, u);
    const z2 = f32x4.mul(z, z);
    const p = f32x4.add(
      f32x4.add(pairF32(z, AF0, AF1), f32x4.mul(z2, pairF32(z, AF2, AF3))),
      f32x4.mul(f32x4.mul(z2, z2), v128.load32_splat(AF4)),
    );
    return f32x4.mul(u, f32x4.add(dxy, f32x4.mul(f32x4.mul(x, z), p)));
  } else {
    ERROR("klDivNearf4 needs SIMD: build with --enable simd, or call it inside if (ASC_FEATURE_SIMD)");
    return unreachable();
  }
}

// x ln(x/y) from x, y and r = x/y (rounded).
// max error: 3.5e-16 relative (1.6 eps; the scalar form alike) over the elementwise cases of
// test/fixtures/accuracy.json: every ratio 1 +- 2^-k, random ratios at every distance, the
// reduction's boundaries, tiny and huge values (test/divergence.accuracy.test.ts, mpmath)
// @ts-ignore: decorator
@inline export function xlogRatio2d(x: v128, y: v128, r: v128): v128 {
  if (ASC_FEATURE_SIMD) {
    const u = log2dShift(r);
    const dk = log2dK(u);
    const f = log2dF(u);
    const near = f64x2.eq(dk, f64x2.splat(0));
    const two = v128.load64_splat(TWO);
    const s = f64x2.div(
      v128.bitselect(f64x2.sub(x, y), f, near),
      v128.bitselect(f64x2.add(x, y), f64x2.add(two, f), near),
    );
    const R = zP2d(f64x2.mul(s, s));
    // Near: 2s + s R rounds once after a small correction; far: log2d's assembly.
    const lnNear = f64x2.add(f64x2.add(s, s), f64x2.mul(s, R));
    return f64x2.mul(x, v128.bitselect(lnNear, log2dJoin(dk, f, s, R), near));
  } else {
    ERROR("xlogRatio2d needs SIMD: build with --enable simd, or call it inside if (ASC_FEATURE_SIMD)");
    return unreachable();
  }
}

// x ln(x/y) - (x - y) from x, y, dxy = x - y and r = x/y (rounded). Lanes with x = 0 give -dxy.
// @ts-ignore: decorator
@inline export function klDiv2d(x: v128, y: v128, dxy: v128, r: v128): v128 {
  if (ASC_FEATURE_SIMD) {
    const u = log2dShift(r);
    const dk = log2dK(u);
    const f = log2dF(u);
    const near = f64x2.eq(dk, f64x2.splat(0));
    const two = v128.load64_splat(TWO);
    const s = f64x2.div(
      v128.bitselect(dxy, f, near),
      v128.bitselect(f64x2.add(x, y), f64x2.add(two, f), near),
    );
    const R = zP2d(f64x2.mul(s, s));
    const gNear = f64x2.mul(s, f64x2.add(dxy, f64x2.mul(x, R)));
    const gFar = f64x2.sub(f64x2.mul(x, log2dJoin(dk, f, s, R)), dxy);
    return v128.bitselect(gNear, gFar, near);
  } else {
    ERROR("klDiv2d needs SIMD: build with --enable simd, or call it inside if (ASC_FEATURE_SIMD)");
    return unreachable();
  }
}

// The near form alone, for blocks whose lanes are all near (|u| <= NEAR_U, checked by the caller):
// the kl_div term from x, dxy = x - y and sxy = x + y, as klDiv2d's near lanes compute it.
// @ts-ignore: decorator
@inline export function klDivNear2d(x: v128, dxy: v128, sxy: v128): v128 {
  if (ASC_FEATURE_SIMD) {
    const s = f64x2.div(dxy, sxy);
    return f64x2.mul(s, f64x2.add(dxy, f64x2.mul(x, zP2d(f64x2.mul(s, s)))));
  } else {
    ERROR("klDivNear2d needs SIMD: build with --enable simd, or call it inside if (ASC_FEATURE_SIMD)");
    return unreachable();
  }
}

// ln(x/y) for positive finite x, y: where x/y overflows or underflows (subnormal y),
// ln x - ln y keeps the finite exact value.
// @ts-ignore: decorator
@inline function logRatio(x: f64, y: f64): f64 {
  const r = x / y;
  if (r >= 2.2250738585072014e-308 && r <= 1.7976931348623157e308) return Math.log(r);
  return Math.log(x) - Math.log(y);
}

// x ln(x/y) for positive finite x and y (scalar code; the same near form and bound).
// @ts-ignore: decorator
@inline export function xlogRatio(x: f64, y: f64): f64 {
  const d = x - y;
  let t = x + y, h = d;
  // Halved where x + y overflows (both above 2^1023: halving is exact).
  if (t == Infinity) {
    t = x * 0.5 + y * 0.5;
    h = d * 0.5;
  }
  if (Math.abs(h) <= NEAR * t) {
    const s = h / t;
    return x * (s + s + s * zP(s * s));
  }
  return x * logRatio(x, y);
}

// x ln(x/y) - (x - y) for positive finite x and y, given dxy = x - y (scalar code).
// @ts-ignore: decorator
@inline export function klDiv(x: f64, y: f64, dxy: f64): f64 {
  let t = x + y, h = dxy;
  if (t == Infinity) {
    t = x * 0.5 + y * 0.5;
    h = dxy * 0.5;
  }
  if (Math.abs(h) <= NEAR * t) {
    const s = h / t;
    return s * (dxy + x * zP(s * s));
  }
  return x * logRatio(x, y) - dxy;
}

// ln(1 + w) - w for w > -1, to full relative precision near 0: with v = w / (2 + w),
// ln(1 + w) = 2v + v z P(z) (z = v^2) and 2v - w = -w v, so ln(1 + w) - w = v (z P(z) - w), a
// product of factors without cancellation while |v| <= 0.1716 (w in [-0.29, 0.41]); outside, the
// subtraction loses under 3 bits.
// @ts-ignore: decorator
@inline export function log1pmx(w: f64): f64 {
  const v = w / (2 + w);
  if (Math.abs(v) <= NEAR) return v * (zP(v * v) - w);
  return Math.log1p(w) - w;
}
