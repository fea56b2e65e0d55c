// Exponential of two float64 lanes.
//
// see: Cephes exp.c (Stephen L. Moshier, Cephes Math Library Release 2.3)
// exp(x) = 2^n exp(r): n = round(x / ln2) by adding the shifter 1.5 * 2^52, which leaves n in the
// low mantissa bits; r = x - n C1 - n C2 with C1 + C2 ~ ln2 and n C1 exact (Cody-Waite), so
// |r| <= ln2 / 2 + tiny; exp(r) = 1 + 2 r P(r^2) / (Q(r^2) - r P(r^2)), a degree 2/3 Pade form
// (the one division). 2^n goes straight into the exponent field: (bits of the shifted sum) << 52
// is n << 52, added to the bits of exp(r), which lies in [0.70, 1.42]. That stays a normal double
// for every x whose exp is normal, including n = 1024 (then r < 0 and exp(r) < 1).
//
// Fast domain: -708.3964185322641 <= x <= 709.782712893384 (Cephes' MINLOG and MAXLOG, as
// doubles), where exp(x) is a normal double: results there are accurate to the bound below. Below
// it the lane is +0 (the subnormal results are flushed to zero), above it +inf. NaN lanes:
// unspecified. exp(0) is exactly 1.
//
// Constants live in linear memory, one splat load each (Node 20's V8 rebuilds every v128.const at
// each use inside a loop). The @lazy constants and the SIMD body compile only where used.

// @ts-ignore: decorator
@lazy const LOG2E = memory.data<u64>([0x3FF71547652B82FE]); // 1.44269504088896338700e+00
// @ts-ignore: decorator
@lazy const SHIFT = memory.data<u64>([0x4338000000000000]); // 0x1.8p52 = 6755399441055744
// @ts-ignore: decorator
@lazy const C1 = memory.data<u64>([0x3FE62E4000000000]); // 6.93145751953125e-01 (17 bits)
// @ts-ignore: decorator
@lazy const C2 = memory.data<u64>([0x3EB7F7D1CF79ABCA]); // 1.42860682030941723212e-06
// Pade form: P(x) = P0 x^2 + P1 x + P2, Q(x) = Q0 x^3 + Q1 x^2 + Q2 x + Q3, Cephes' coefficients.
// @ts-ignore: decorator
@lazy const P0 = memory.data<u64>([0x3F2089CDD5E44BE8]); // 1.26177193074810590878e-04
// @ts-ignore: decorator
@lazy const P1 = memory.data<u64>([0x3F9F06D10CCA2C7E]); // 3.02994407707441961300e-02
// @ts-ignore: decorator
@lazy const P2 = memory.data<u64>([0x3FF0000000000000]); // 9.99999999999999999910e-01 (rounds to 1)
// @ts-ignore: decorator
@lazy const Q0 = memory.data<u64>([0x3EC92EB6BC365FA0]); // 3.00198505138664455042e-06
// @ts-ignore: decorator
@lazy const Q1 = memory.data<u64>([0x3F64AE39B508B6C0]); // 2.52448340349684104192e-03
// @ts-ignore: decorator
@lazy const Q2 = memory.data<u64>([0x3FCD17099887E074]); // 2.27265548208155028766e-01
// @ts-ignore: decorator
@lazy const Q3 = memory.data<u64>([0x4000000000000000]); // 2.00000000000000000009e+00 (rounds to 2)
// @ts-ignore: decorator
@lazy const ONE = memory.data<u64>([0x3FF0000000000000]); // 1.0
// Largest x with a finite exp, smallest with a normal one (Cephes' MAXLOG and MINLOG).
// @ts-ignore: decorator
@lazy const HI = memory.data<u64>([0x40862E42FEFA39EF]); // 7.09782712893383973096e+02
// @ts-ignore: decorator
@lazy const LO = memory.data<u64>([0xC086232BDD7ABCD2]); // -7.08396418532264078749e+02
// @ts-ignore: decorator
@lazy const INF = memory.data<u64>([0x7FF0000000000000]); // +inf

// max error: 1.70 ulp (at x = -572.19300; 3.6 million samples against an 80-bit reference,
// scripts/measure/measure-math.mjs)
// @ts-ignore: decorator
@inline export function exp2d(x: v128): v128 {
  if (ASC_FEATURE_SIMD) {
    const shift = v128.load64_splat(SHIFT);
    const t = f64x2.add(f64x2.mul(x, v128.load64_splat(LOG2E)), shift);
    const n = f64x2.sub(t, shift);
    const r = f64x2.sub(
      f64x2.sub(x, f64x2.mul(n, v128.load64_splat(C1))),
      f64x2.mul(n, v128.load64_splat(C2)),
    );
    const rr = f64x2.mul(r, r);
    let p = f64x2.add(f64x2.mul(v128.load64_splat(P0), rr), v128.load64_splat(P1));
    p = f64x2.mul(r, f64x2.add(f64x2.mul(p, rr), v128.load64_splat(P2)));
    let q = f64x2.add(f64x2.mul(v128.load64_splat(Q0), rr), v128.load64_splat(Q1));
    q = f64x2.add(f64x2.mul(q, rr), v128.load64_splat(Q2));
    q = f64x2.add(f64x2.mul(q, rr), v128.load64_splat(Q3));
    const e = f64x2.div(p, f64x2.sub(q, p));
    // 1 + 2 e; the shifter's own bits vanish in the shift: only n << 52 remains. exp(0) = 1.
    let y = f64x2.add(v128.load64_splat(ONE), f64x2.add(e, e));
    y = i64x2.add(y, i64x2.shl(t, 52));
    y = v128.bitselect(v128.load64_splat(INF), y, f64x2.gt(x, v128.load64_splat(HI)));
    return v128.andnot(y, f64x2.lt(x, v128.load64_splat(LO)));
  } else {
    ERROR("exp2d needs SIMD: build with --enable simd, or call it inside if (ASC_FEATURE_SIMD)");
    return unreachable();
  }
}

// exp2d's operations on one float64, in the same order: the same bits as either lane of exp2d,
// for the scalar build and scalar tails of kernels that must match their SIMD build bit for bit.
// @ts-ignore: decorator
@inline export function exp1d(x: f64): f64 {
  const shift = load<f64>(SHIFT);
  const t = x * load<f64>(LOG2E) + shift;
  const n = t - shift;
  const r = x - n * load<f64>(C1) - n * load<f64>(C2);
  const rr = r * r;
  let p = load<f64>(P0) * rr + load<f64>(P1);
  p = r * (p * rr + load<f64>(P2));
  let q = load<f64>(Q0) * rr + load<f64>(Q1);
  q = q * rr + load<f64>(Q2);
  q = q * rr + load<f64>(Q3);
  const e = p / (q - p);
  const y = reinterpret<f64>(reinterpret<u64>(load<f64>(ONE) + (e + e)) + (reinterpret<u64>(t) << 52));
  return x > load<f64>(HI) ? load<f64>(INF) : x < load<f64>(LO) ? 0 : y;
}
