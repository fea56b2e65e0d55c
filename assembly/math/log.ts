// Natural logarithm of two float64 lanes.
//
// see: fdlibm e_log.c (musl src/math/log.c; SUN COPYRIGHT NOTICE in std/assembly/math.ts)
// x = 2^k (1 + f) with sqrt(2)/2 <= 1 + f < sqrt(2): adding (bits of 1.0) - (bits of sqrt(2)/2)
// to the bits of x as an integer carries into the exponent field exactly when the significand of
// x is at least sqrt(2), so k and f fall out of one add, a shift and a mask. With s = f / (2 + f)
// (the one division), log(1 + f) = f - hfsq + s (hfsq + R(s^2)), hfsq = f^2 / 2, R of degree 7
// in s^2 (Lg1..Lg7), and k ln2 split hi + lo so that k * LN2_HI is exact; fdlibm's order of sums.
// k goes to f64 without an i64x2 -> f64x2 conversion: the exponent field k + 1023 is ORed into the
// low bits of 1.5 * 2^52, and subtracting 1.5 * 2^52 + 1023 leaves k exactly.
//
// Domain: positive, normal, finite x. Lanes holding 0, negatives, subnormals, inf or NaN get
// unspecified values: callers mask them. log(1) is exactly +0.
//
// Constants live in linear memory, one splat load each (Node 20's V8 rebuilds every v128.const at
// each use inside a loop). The @lazy constants and the SIMD body compile only where used.

// @ts-ignore: decorator
@lazy const SHIFT = memory.data<u64>([0x00095F619980C433]); // bits of 1.0 minus bits of sqrt(2)/2
// @ts-ignore: decorator
@lazy const SQRT1_2 = memory.data<u64>([0x3FE6A09E667F3BCD]); // 7.07106781186547572737e-01
// @ts-ignore: decorator
@lazy const MANT = memory.data<u64>([0x000FFFFFFFFFFFFF]); // mantissa mask
// @ts-ignore: decorator
@lazy const MAGIC = memory.data<u64>([0x4338000000000000]); // 0x1.8p52 = 6755399441055744
// @ts-ignore: decorator
@lazy const MAGIC_BIAS = memory.data<u64>([0x43380000000003FF]); // 0x1.8p52 + 1023 = 6755399441056767
// @ts-ignore: decorator
@lazy const ONE = memory.data<u64>([0x3FF0000000000000]); // 1.0
// @ts-ignore: decorator
@lazy const TWO = memory.data<u64>([0x4000000000000000]); // 2.0
// @ts-ignore: decorator
@lazy const HALF = memory.data<u64>([0x3FE0000000000000]); // 0.5
// @ts-ignore: decorator
@lazy const LN2_HI = memory.data<u64>([0x3FE62E42FEE00000]); // 6.93147180369123816490e-01
// @ts-ignore: decorator
@lazy const LN2_LO = memory.data<u64>([0x3DEA39EF35793C76]); // 1.90821492927058770002e-10
// @ts-ignore: decorator
@lazy const Lg1 = memory.data<u64>([0x3FE5555555555593]); // 6.666666666666735130e-01
// @ts-ignore: decorator
@lazy const Lg2 = memory.data<u64>([0x3FD999999997FA04]); // 3.999999999940941908e-01
// @ts-ignore: decorator
@lazy const Lg3 = memory.data<u64>([0x3FD2492494229359]); // 2.857142874366239149e-01
// @ts-ignore: decorator
@lazy const Lg4 = memory.data<u64>([0x3FCC71C51D8E78AF]); // 2.222219843214978396e-01
// @ts-ignore: decorator
@lazy const Lg5 = memory.data<u64>([0x3FC7466496CB03DE]); // 1.818357216161805012e-01
// @ts-ignore: decorator
@lazy const Lg6 = memory.data<u64>([0x3FC39A09D078C69F]); // 1.531383769920937332e-01
// @ts-ignore: decorator
@lazy const Lg7 = memory.data<u64>([0x3FC2F112DF3E5244]); // 1.479819860511658591e-01

// The pieces of log2d, for callers that reduce a ratio themselves (assembly/math/logratio.ts):
// u = log2dShift(x) holds k and f, log2dK(u) is k as float lanes, log2dF(u) is f, and log2dJoin
// assembles log(x) from them, s = f / (2 + f) and R = Lg1 s^2 + ... + Lg7 s^14 (or any R of that
// accuracy).
// @ts-ignore: decorator
@inline export function log2dShift(x: v128): v128 {
  return i64x2.add(x, v128.load64_splat(SHIFT));
}

// The exponent field of u is k + 1023 (u stays below the sign bit for any finite x).
// @ts-ignore: decorator
@inline export function log2dK(u: v128): v128 {
  return f64x2.sub(v128.or(i64x2.shr_u(u, 52), v128.load64_splat(MAGIC)), v128.load64_splat(MAGIC_BIAS));
}

// @ts-ignore: decorator
@inline export function log2dF(u: v128): v128 {
  return f64x2.sub(
    i64x2.add(v128.and(u, v128.load64_splat(MANT)), v128.load64_splat(SQRT1_2)),
    v128.load64_splat(ONE),
  );
}

// s (hfsq + R) + k LN2_LO - hfsq + f + k LN2_HI, left to right; +0 at x = 1 (k = f = 0).
// @ts-ignore: decorator
@inline export function log2dJoin(dk: v128, f: v128, s: v128, R: v128): v128 {
  const hfsq = f64x2.mul(f64x2.mul(v128.load64_splat(HALF), f), f);
  let y = f64x2.add(f64x2.mul(s, f64x2.add(hfsq, R)), f64x2.mul(dk, v128.load64_splat(LN2_LO)));
  y = f64x2.add(f64x2.sub(y, hfsq), f);
  return f64x2.add(y, f64x2.mul(dk, v128.load64_splat(LN2_HI)));
}

// max error: 0.82 ulp (at x = 0.70007922; 3.7 million samples against an 80-bit reference,
// scripts/measure/measure-math.mjs)
// @ts-ignore: decorator
@inline export function log2d(x: v128): v128 {
  if (ASC_FEATURE_SIMD) {
    const u = log2dShift(x);
    const dk = log2dK(u);
    const f = log2dF(u);
    const s = f64x2.div(f, f64x2.add(v128.load64_splat(TWO), f));
    const z = f64x2.mul(s, s);
    const w = f64x2.mul(z, z);
    // R = t2 + t1, even and odd powers of w = s^4 in two chains, as fdlibm.
    let t1 = f64x2.add(v128.load64_splat(Lg4), f64x2.mul(w, v128.load64_splat(Lg6)));
    t1 = f64x2.add(v128.load64_splat(Lg2), f64x2.mul(w, t1));
    t1 = f64x2.mul(w, t1);
    let t2 = f64x2.add(v128.load64_splat(Lg5), f64x2.mul(w, v128.load64_splat(Lg7)));
    t2 = f64x2.add(v128.load64_splat(Lg3), f64x2.mul(w, t2));
    t2 = f64x2.add(v128.load64_splat(Lg1), f64x2.mul(w, t2));
    t2 = f64x2.mul(z, t2);
    return log2dJoin(dk, f, s, f64x2.add(t2, t1));
  } else {
    ERROR("log2d needs SIMD: build with --enable simd, or call it inside if (ASC_FEATURE_SIMD)");
    return unreachable();
  }
}

// log2d's operations on one float64, in the same order: the same bits as either lane of log2d,
// for the scalar build and scalar tails of kernels that must match their SIMD build bit for bit.
// Domain as log2d's.
// @ts-ignore: decorator
@inline export function log1d(x: f64): f64 {
  const u = reinterpret<u64>(x) + load<u64>(SHIFT);
  const dk = reinterpret<f64>((u >> 52) | load<u64>(MAGIC)) - reinterpret<f64>(load<u64>(MAGIC_BIAS));
  const f = reinterpret<f64>((u & load<u64>(MANT)) + load<u64>(SQRT1_2)) - load<f64>(ONE);
  const s = f / (load<f64>(TWO) + f);
  const z = s * s;
  const w = z * z;
  let t1 = load<f64>(Lg4) + w * load<f64>(Lg6);
  t1 = load<f64>(Lg2) + w * t1;
  t1 = w * t1;
  let t2 = load<f64>(Lg5) + w * load<f64>(Lg7);
  t2 = load<f64>(Lg3) + w * t2;
  t2 = load<f64>(Lg1) + w * t2;
  t2 = z * t2;
  const R = t2 + t1;
  const hfsq = load<f64>(HALF) * f * f;
  let y = s * (hfsq + R) + dk * load<f64>(LN2_LO);
  y = y - hfsq + f;
  return y + dk * load<f64>(LN2_HI);
}
