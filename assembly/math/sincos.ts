// Sine and cosine of float64 on [-pi/4, pi/4], two lanes (sin2dk, cos2dk) and one value (sin1dk,
// cos1dk) with the same operations in the same order, so both give the same bits. Callers reduce
// their argument to that interval themselves (assembly/vi.ts turns a uniform number u into
// 2 pi u, a quarter turn q and a remainder, both exact).
//
// see: Cephes sin.c (Stephen L. Moshier, Cephes Math Library Release 2.8), its sin and cos
// polynomials for |x| <= pi/4:
//   sin x = x + x z S(z),  cos x = 1 - z / 2 + z^2 C(z),  z = x^2, S and C of degree 5.
// max error over 20,001 points of [-pi/4, pi/4] against mpmath at 120 bits: 1.01 ulp (sin) and
// 0.71 ulp (cos) (evaluated in float64 in NumPy; the wasm operations are the same IEEE ones).
//
// Constants live in linear memory, one splat load each (see assembly/math/exp.ts).

// @ts-ignore: decorator
@lazy const S0 = memory.data<u64>([0x3DE5D8FD1FD19CCD]); // 1.58962301576546568060e-10
// @ts-ignore: decorator
@lazy const S1 = memory.data<u64>([0xBE5AE5E5A9291F5D]); // -2.50507477628578072866e-08
// @ts-ignore: decorator
@lazy const S2 = memory.data<u64>([0x3EC71DE3567D48A1]); // 2.75573136213857245213e-06
// @ts-ignore: decorator
@lazy const S3 = memory.data<u64>([0xBF2A01A019BFDF03]); // -1.98412698295895385996e-04
// @ts-ignore: decorator
@lazy const S4 = memory.data<u64>([0x3F8111111110F7D0]); // 8.33333333332211858878e-03
// @ts-ignore: decorator
@lazy const S5 = memory.data<u64>([0xBFC5555555555548]); // -1.66666666666666307295e-01
// @ts-ignore: decorator
@lazy const K0 = memory.data<u64>([0xBDA8FA49A0861A9B]); // -1.13585365213876817300e-11
// @ts-ignore: decorator
@lazy const K1 = memory.data<u64>([0x3E21EE9D7B4E3F05]); // 2.08757008419747316778e-09
// @ts-ignore: decorator
@lazy const K2 = memory.data<u64>([0xBE927E4F7EAC4BC6]); // -2.75573141792967388112e-07
// @ts-ignore: decorator
@lazy const K3 = memory.data<u64>([0x3EFA01A019C844F5]); // 2.48015872888517045348e-05
// @ts-ignore: decorator
@lazy const K4 = memory.data<u64>([0xBF56C16C16C14F91]); // -1.38888888888730564116e-03
// @ts-ignore: decorator
@lazy const K5 = memory.data<u64>([0x3FA555555555554B]); // 4.16666666666665929218e-02
// @ts-ignore: decorator
@lazy const HALF = memory.data<u64>([0x3FE0000000000000]); // 0.5
// @ts-ignore: decorator
@lazy const ONE = memory.data<u64>([0x3FF0000000000000]); // 1.0

// @ts-ignore: decorator
@inline function sp(c: usize): v128 {
  return v128.load64_splat(c);
}

// sin x of two lanes, |x| <= pi/4.
// @ts-ignore: decorator
@inline export function sin2dk(x: v128): v128 {
  if (ASC_FEATURE_SIMD) {
    const z = f64x2.mul(x, x);
    let p = f64x2.add(f64x2.mul(sp(S0), z), sp(S1));
    p = f64x2.add(f64x2.mul(p, z), sp(S2));
    p = f64x2.add(f64x2.mul(p, z), sp(S3));
    p = f64x2.add(f64x2.mul(p, z), sp(S4));
    p = f64x2.add(f64x2.mul(p, z), sp(S5));
    return f64x2.add(x, f64x2.mul(f64x2.mul(x, z), p));
  } else {
    ERROR("sin2dk needs SIMD: build with --enable simd, or call it inside if (ASC_FEATURE_SIMD)");
    return unreachable();
  }
}

// cos x of two lanes, |x| <= pi/4.
// @ts-ignore: decorator
@inline export function cos2dk(x: v128): v128 {
  if (ASC_FEATURE_SIMD) {
    const z = f64x2.mul(x, x);
    let p = f64x2.add(f64x2.mul(sp(K0), z), sp(K1));
    p = f64x2.add(f64x2.mul(p, z), sp(K2));
    p = f64x2.add(f64x2.mul(p, z), sp(K3));
    p = f64x2.add(f64x2.mul(p, z), sp(K4));
    p = f64x2.add(f64x2.mul(p, z), sp(K5));
    const y = f64x2.sub(sp(ONE), f64x2.mul(sp(HALF), z));
    return f64x2.add(y, f64x2.mul(f64x2.mul(z, z), p));
  } else {
    ERROR("cos2dk needs SIMD: build with --enable simd, or call it inside if (ASC_FEATURE_SIMD)");
    return unreachable();
  }
}

// sin2dk's operations on one value.
// @ts-ignore: decorator
@inline export function sin1dk(x: f64): f64 {
  const z = x * x;
  let p = load<f64>(S0) * z + load<f64>(S1);
  p = p * z + load<f64>(S2);
  p = p * z + load<f64>(S3);
  p = p * z + load<f64>(S4);
  p = p * z + load<f64>(S5);
  return x + x * z * p;
}

// cos2dk's operations on one value.
// @ts-ignore: decorator
@inline export function cos1dk(x: f64): f64 {
  const z = x * x;
  let p = load<f64>(K0) * z + load<f64>(K1);
  p = p * z + load<f64>(K2);
  p = p * z + load<f64>(K3);
  p = p * z + load<f64>(K4);
  p = p * z + load<f64>(K5);
  return load<f64>(ONE) - load<f64>(HALF) * z + z * z * p;
}
