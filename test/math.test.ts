// The vector math helpers of assembly/math/ through the test-only probe (build/probe.wasm, built by
// `npm run build`): special points, then the maximum error in ulp over fixed-seed samples.
// The bounds sit slightly above the exhaustive / dense measurements of scripts/measure/measure-math.mjs;
// float64 references are Math.log / Math.exp, themselves within 1 ulp, hence measured + 1 there.
// Last, the compile-time guard: a scalar build holds no v128 code and none of the constants.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import asc from "assemblyscript/asc";
import { describe, expect, it } from "vitest";
import { rng } from "./helpers/fixtures.js";

const root = fileURLToPath(new URL("..", import.meta.url));

// Measured max error (scripts/measure/measure-math.mjs) and the bound each test allows.
const LOGF_ULP = 3.55; // measured 3.52 over every positive normal float32
const EXPF_ULP = 1.02; // measured 1.014 over every float32 of the fast domain (Estrin form)
const LOG_ULP = 0.82 + 1; // measured 0.82 against an 80-bit reference
const EXP_ULP = 1.7 + 1; // measured 1.70 against an 80-bit reference
const LOG1PF_ULP = 4.96; // measured 4.95 over every float32 of (-1, 1e30)
const LOG1P_ULP = 2.32 + 1; // measured 2.32 against an 80-bit reference
const EXPM1MXF_ULP = 2.33; // measured 2.32 over every float32 of [-1/2, 1/2]
const EXPM1MX_ULP = 2.0; // measured 2 (below) from the correctly rounded series

// Fast domains of the exponentials (see assembly/math/expf.ts and exp.ts).
const EXPF_HI = f32FromBits(0x42b17217); // 88.72283: largest float32 with a finite exp
const EXPF_LO = f32FromBits(0xc2aeac4f); // -87.33654: smallest float32 with a normal exp
const EXP_HI = 709.782712893384; // largest double with a finite exp (Cephes MAXLOG)
const EXP_LO = -708.3964185322641; // smallest double with a normal exp (Cephes MINLOG)

const FLT_MIN = 2 ** -126;
const FLT_MAX = f32FromBits(0x7f7fffff);
const DBL_MIN = 2 ** -1022;
const DBL_MAX = Number.MAX_VALUE;

interface Probe {
  memory: WebAssembly.Memory;
  alloc(bytes: number): number;
  dealloc(ptr: number): void;
  map_logf(src: number, dst: number, n: number): void;
  map_log(src: number, dst: number, n: number): void;
  map_expf(src: number, dst: number, n: number): void;
  map_exp(src: number, dst: number, n: number): void;
  map_log1pf(src: number, dst: number, n: number): void;
  map_log1p(src: number, dst: number, n: number): void;
  map_expm1mxf(src: number, dst: number, n: number): void;
  map_expm1mx(src: number, dst: number, n: number): void;
  map_exp1(src: number, dst: number, n: number): void;
  map_log1(src: number, dst: number, n: number): void;
  map_sin(src: number, dst: number, n: number): void;
  map_sin1(src: number, dst: number, n: number): void;
  map_cos(src: number, dst: number, n: number): void;
  map_cos1(src: number, dst: number, n: number): void;
}

function loadProbe(): Probe {
  const bytes = readFileSync(join(root, "build/probe.wasm"));
  const imports = {
    env: {
      abort(): never {
        throw new Error("abort called in probe.wasm");
      },
    },
  };
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), imports).exports as unknown as Probe;
}

const probe = loadProbe();

type MapName =
  | "map_logf"
  | "map_log"
  | "map_expf"
  | "map_exp"
  | "map_log1pf"
  | "map_log1p"
  | "map_expm1mxf"
  | "map_expm1mx"
  | "map_exp1"
  | "map_log1"
  | "map_sin"
  | "map_sin1"
  | "map_cos"
  | "map_cos1";

// Applies a map_* export to xs (padded to a whole number of vectors) and returns a copy.
function apply(map: MapName, xs: ArrayLike<number>): Float64Array {
  const f32 = map.endsWith("f");
  const lanes = f32 ? 4 : 2;
  const n = Math.ceil(xs.length / lanes) * lanes;
  const bytes = n * (f32 ? 4 : 8);
  const src = probe.alloc(bytes);
  const dst = probe.alloc(bytes);
  // Views only after the last allocation: growing memory detaches earlier ones.
  const View = f32 ? Float32Array : Float64Array;
  const srcView = new View(probe.memory.buffer, src, n);
  srcView.fill(1);
  srcView.set(xs);
  probe[map](src, dst, n);
  const out = Float64Array.from(new View(probe.memory.buffer, dst, xs.length));
  probe.dealloc(src);
  probe.dealloc(dst);
  return out;
}

function f32FromBits(bits: number): number {
  return new Float32Array(new Uint32Array([bits]).buffer)[0]!;
}

function f32Bits(x: number): number {
  return new Uint32Array(new Float32Array([x]).buffer)[0]!;
}

function f64Bits(x: number): bigint {
  return new BigUint64Array(new Float64Array([x]).buffer)[0]!;
}

function f64FromBits(bits: bigint): number {
  return new Float64Array(new BigUint64Array([bits]).buffer)[0]!;
}

// Spacing of the result format (float32: 24-bit, float64: 53-bit significand) in the binade of v.
const scratch = new Float64Array(1);
const scratchHi = new Uint32Array(scratch.buffer, 4, 1);
function ulp(v: number, mantissaBits: number): number {
  scratch[0] = v;
  const e = ((scratchHi[0]! >>> 20) & 0x7ff) - 1023;
  return 2 ** Math.max(e - mantissaBits + 1, mantissaBits === 24 ? -149 : -1074);
}

function ulpError(y: number, exact: number, mantissaBits: number): number {
  if (exact === 0) return y === 0 ? 0 : Infinity;
  return Math.abs(y - exact) / ulp(exact, mantissaBits);
}

// Max error in ulp over xs, and where it occurred.
function maxError(
  map: MapName,
  xs: ArrayLike<number>,
  ref: (x: number) => number,
  mantissaBits: number,
): { max: number; x: number } {
  const ys = apply(map, xs);
  let max = 0;
  let x = NaN;
  for (let i = 0; i < xs.length; i++) {
    const err = ulpError(ys[i]!, ref(xs[i]!), mantissaBits);
    if (!(err <= max)) {
      max = err;
      x = xs[i]!;
    }
  }
  return { max, x };
}

// The float32 values k ulp around each of xs, k in [-radius, radius].
function aroundF32(xs: number[], radius: number): Float32Array {
  const out: number[] = [];
  for (const x of xs) {
    for (let k = -radius; k <= radius; k++) out.push(f32FromBits(f32Bits(x) + k));
  }
  return Float32Array.from(out);
}

function aroundF64(xs: number[], radius: number): Float64Array {
  const out: number[] = [];
  for (const x of xs) {
    for (let k = -radius; k <= radius; k++) out.push(f64FromBits(f64Bits(x) + BigInt(k)));
  }
  return Float64Array.from(out);
}

const binades = (lo: number, hi: number): number[] =>
  Array.from({ length: hi - lo + 1 }, (_, i) => 2 ** (lo + i));

describe("logf4 (float32 log)", () => {
  it("is exactly +0 at 1", () => {
    const [y] = apply("map_logf", [1]);
    expect(Object.is(y, 0)).toBe(true);
  });

  it("is within bound at special points", () => {
    const points = [2, Math.fround(Math.E), 0.5, 10, FLT_MIN, FLT_MAX, 1e-30, 1e30];
    for (const x of points) {
      const [y] = apply("map_logf", [x]);
      expect(ulpError(y!, Math.log(Math.fround(x)), 24), `x = ${x}`).toBeLessThanOrEqual(LOGF_ULP);
    }
    expect(apply("map_logf", [Math.fround(Math.E)])[0]).toBeCloseTo(1, 6);
  });

  it("is within bound near the reduction boundaries 2/3 and 4/3 in every binade", () => {
    const edges = binades(-125, 126).flatMap((s) => [(2 / 3) * s, (4 / 3) * s]);
    const xs = aroundF32(
      edges.filter((x) => x >= FLT_MIN && x <= FLT_MAX),
      8,
    );
    const { max, x } = maxError("map_logf", xs, Math.log, 24);
    expect(max, `worst at x = ${x}`).toBeLessThanOrEqual(LOGF_ULP);
  });

  it("is within bound over 2^20 log-uniform float32 values and near 1", () => {
    const next = rng(1);
    const xs = new Float32Array(1 << 20);
    const bits = new Uint32Array(xs.buffer);
    for (let i = 0; i < xs.length; i++) {
      // Uniform bit patterns over the positive normals: log-uniform values. A quarter near 1.
      if (i % 4 === 0) xs[i] = 1 + (next() - 0.5) * 2 ** -10;
      else bits[i] = 0x00800000 + Math.floor(next() * (0x7f7fffff - 0x00800000));
    }
    const { max, x } = maxError("map_logf", xs, Math.log, 24);
    expect(max, `worst at x = ${x}`).toBeLessThanOrEqual(LOGF_ULP);
  });
});

describe("expf4 (float32 exp)", () => {
  it("is exactly 1 at +0 and -0", () => {
    expect(Array.from(apply("map_expf", [0, -0]))).toEqual([1, 1]);
  });

  it("is within bound at special points and at the edges of the fast domain", () => {
    const points = [1, -1, Math.fround(Math.LN2), 10, -10, EXPF_HI, EXPF_LO, 2 ** -30, -(2 ** -30)];
    for (const x of points) {
      const [y] = apply("map_expf", [x]);
      expect(ulpError(y!, Math.exp(Math.fround(x)), 24), `x = ${x}`).toBeLessThanOrEqual(EXPF_ULP);
    }
    const [atHi, atLo] = apply("map_expf", [EXPF_HI, EXPF_LO]);
    expect(atHi).toBeLessThanOrEqual(FLT_MAX);
    expect(atLo).toBeGreaterThanOrEqual(FLT_MIN);
  });

  it("gives +inf above the fast domain and +0 below it", () => {
    const above = [f32FromBits(0x42b17218), 89, 100, 1e30, FLT_MAX, Infinity];
    const below = [f32FromBits(0xc2aeac50), -88, -103, -104, -1e30, -FLT_MAX, -Infinity];
    expect(Array.from(apply("map_expf", above))).toEqual(above.map(() => Infinity));
    const zeros = apply("map_expf", below);
    for (const y of zeros) expect(Object.is(y, 0)).toBe(true);
  });

  it("is within bound near the reduction boundaries (k + 1/2) ln2", () => {
    const edges: number[] = [];
    for (let k = -126; k <= 127; k++) {
      const x = (k + 0.5) * Math.LN2;
      if (x > EXPF_LO && x < EXPF_HI) edges.push(Math.fround(x));
    }
    const { max, x } = maxError("map_expf", aroundF32(edges, 16), Math.exp, 24);
    expect(max, `worst at x = ${x}`).toBeLessThanOrEqual(EXPF_ULP);
  });

  it("is within bound over 2^20 float32 values of the fast domain", () => {
    const next = rng(2);
    const xs = new Float32Array(1 << 20);
    for (let i = 0; i < xs.length; i++) {
      // Three quarters uniform over the domain, a quarter log-uniform small magnitudes.
      xs[i] =
        i % 4 === 0
          ? (next() < 0.5 ? -1 : 1) * 2 ** (-40 + 40 * next())
          : EXPF_LO + (EXPF_HI - EXPF_LO) * next();
    }
    const { max, x } = maxError(
      "map_expf",
      xs.filter((x) => x >= EXPF_LO && x <= EXPF_HI),
      Math.exp,
      24,
    );
    expect(max, `worst at x = ${x}`).toBeLessThanOrEqual(EXPF_ULP);
  });
});

describe("log2d (float64 log)", () => {
  it("is exactly +0 at 1", () => {
    const [y] = apply("map_log", [1]);
    expect(Object.is(y, 0)).toBe(true);
  });

  it("is within bound at special points", () => {
    const points = [2, Math.E, 10, 0.5, DBL_MIN, DBL_MAX, Math.SQRT2, Math.SQRT1_2];
    for (const x of points) {
      const [y] = apply("map_log", [x]);
      expect(ulpError(y!, Math.log(x), 53), `x = ${x}`).toBeLessThanOrEqual(LOG_ULP);
    }
    const [ln2, lnE] = apply("map_log", [2, Math.E]);
    expect(ln2).toBe(Math.LN2);
    expect(Math.abs(lnE! - 1)).toBeLessThanOrEqual(2 ** -52);
  });

  it("is within bound near the reduction boundaries sqrt(2)/2 and sqrt(2) in every binade", () => {
    const edges = [-1000, -500, -100, -10, -1, 0, 1, 10, 100, 500, 1000].flatMap((k) => [
      Math.SQRT1_2 * 2 ** k,
      Math.SQRT2 * 2 ** k,
    ]);
    const { max, x } = maxError("map_log", aroundF64(edges, 32), Math.log, 53);
    expect(max, `worst at x = ${x}`).toBeLessThanOrEqual(LOG_ULP);
  });

  it("is within bound over 2^18 float64 values (normal range, [0.5, 2], near 1)", () => {
    const next = rng(3);
    const xs = new Float64Array(1 << 18);
    const span = Number(f64Bits(DBL_MAX) - f64Bits(DBL_MIN));
    for (let i = 0; i < xs.length; i++) {
      const kind = i % 4;
      xs[i] =
        kind === 0
          ? f64FromBits(f64Bits(DBL_MIN) + BigInt(Math.floor(next() * span)))
          : kind === 1
            ? 2 ** (200 * next() - 100)
            : kind === 2
              ? 0.5 + 1.5 * next()
              : 1 + (next() - 0.5) * 2 ** -20;
    }
    const { max, x } = maxError("map_log", xs, Math.log, 53);
    expect(max, `worst at x = ${x}`).toBeLessThanOrEqual(LOG_ULP);
  });
});

describe("exp2d (float64 exp)", () => {
  it("is exactly 1 at +0 and -0", () => {
    expect(Array.from(apply("map_exp", [0, -0]))).toEqual([1, 1]);
  });

  it("is within bound at special points and at the edges of the fast domain", () => {
    const points = [1, -1, Math.LN2, 0.5, -0.5, 100, -100, EXP_HI, EXP_LO, 2 ** -60, -(2 ** -60)];
    for (const x of points) {
      const [y] = apply("map_exp", [x]);
      expect(ulpError(y!, Math.exp(x), 53), `x = ${x}`).toBeLessThanOrEqual(EXP_ULP);
    }
    const [atHi, atLo] = apply("map_exp", [EXP_HI, EXP_LO]);
    expect(atHi).toBeLessThanOrEqual(DBL_MAX);
    expect(atLo).toBeGreaterThanOrEqual(DBL_MIN);
  });

  it("gives +inf above the fast domain and +0 below it", () => {
    const nextUp = f64FromBits(f64Bits(EXP_HI) + 1n);
    const nextDown = -f64FromBits(f64Bits(-EXP_LO) + 1n);
    const above = [nextUp, 710, 1e3, 1e300, DBL_MAX, Infinity];
    const below = [nextDown, -709, -745.2, -746, -1e300, -DBL_MAX, -Infinity];
    expect(Array.from(apply("map_exp", above))).toEqual(above.map(() => Infinity));
    for (const y of apply("map_exp", below)) expect(Object.is(y, 0)).toBe(true);
  });

  it("is within bound near the reduction boundaries (k + 1/2) ln2", () => {
    const xs: number[] = [];
    for (let k = -1021; k <= 1023; k += 7) {
      const edge = (k + 0.5) * Math.LN2;
      for (const x of aroundF64([Math.abs(edge)], 16)) xs.push(Math.sign(edge) * x);
    }
    const { max, x } = maxError(
      "map_exp",
      xs.filter((x) => x >= EXP_LO && x <= EXP_HI),
      Math.exp,
      53,
    );
    expect(max, `worst at x = ${x}`).toBeLessThanOrEqual(EXP_ULP);
  });

  it("is within bound over 2^18 float64 values of the fast domain", () => {
    const next = rng(4);
    const xs = new Float64Array(1 << 18);
    for (let i = 0; i < xs.length; i++) {
      const kind = i % 4;
      xs[i] =
        kind < 2
          ? EXP_LO + (EXP_HI - EXP_LO) * next()
          : kind === 2
            ? 2 * next() - 1
            : (next() < 0.5 ? -1 : 1) * 2 ** (-60 + 59 * next());
    }
    const { max, x } = maxError("map_exp", xs, Math.exp, 53);
    expect(max, `worst at x = ${x}`).toBeLessThanOrEqual(EXP_ULP);
  });
});

// e^x - 1 - x for a double x, correctly rounded up to about 2^-11 ulp: the Taylor series to x^30/30!
// summed exactly as a rational with BigInt (x = M / 2^E exactly), then divided once. For |x| <= 1.
function expm1mxExact(x: number): number {
  if (x === 0) return 0;
  let m = x;
  let e = 0n;
  while (!Number.isInteger(m)) {
    m *= 2;
    e++;
  }
  const M = BigInt(m);
  const K = 30;
  let kFact = 1n;
  for (let i = 2n; i <= BigInt(K); i++) kFact *= i;
  // S = sum_k M^k / (2^(E k) k!) = N / D, D = 2^(E K) K!.
  let N = 0n;
  let power = M * M;
  let fact = 2n;
  for (let k = 2; k <= K; k++) {
    N += power * (1n << (e * BigInt(K - k))) * (kFact / fact);
    power *= M;
    fact *= BigInt(k + 1);
  }
  const D = (1n << (e * BigInt(K))) * kFact;
  // An integer quotient of about 80 bits, rounded to a double once (Number(bigint) rounds to nearest).
  const shift = 80 - (N.toString(2).length - D.toString(2).length);
  const q = shift >= 0 ? (N << BigInt(shift)) / D : N / (D << BigInt(-shift));
  return Number(q) * 2 ** -shift;
}

describe("log1pf4 (float32 log1p)", () => {
  it("is exactly +-0 at +-0 and x itself where 1 + x rounds to 1", () => {
    const [pz, nz] = apply("map_log1pf", [0, -0]);
    expect(Object.is(pz, 0) && Object.is(nz, -0)).toBe(true);
    const tiny = [2 ** -25, -(2 ** -26), 1e-30, -1e-38, FLT_MIN, 1e-45];
    expect(Array.from(apply("map_log1pf", tiny))).toEqual(tiny.map(Math.fround));
  });

  it("keeps the relative accuracy where log(1 + x) would not: x = e^-20", () => {
    const x = Math.fround(Math.exp(-20));
    const [y] = apply("map_log1pf", [x]);
    expect(ulpError(y!, Math.log1p(x), 24)).toBeLessThanOrEqual(LOG1PF_ULP);
  });

  it("is within bound over 2^20 float32 values of (-1, 1e30) and e^-[0, 87]", () => {
    const next = rng(5);
    const xs = new Float32Array(1 << 20);
    for (let i = 0; i < xs.length; i++) {
      const kind = i % 5;
      xs[i] =
        kind === 0
          ? next()
          : kind === 1
            ? -next()
            : kind === 2
              ? (next() < 0.5 ? -1 : 1) * 2 ** (-40 * next())
              : kind === 3
                ? Math.exp(-87 * next())
                : 10 ** (30 * next());
    }
    const { max, x } = maxError(
      "map_log1pf",
      xs.filter((x) => x > -1 && x < 1e30),
      Math.log1p,
      24,
    );
    expect(max, `worst at x = ${x}`).toBeLessThanOrEqual(LOG1PF_ULP);
  });

  it("is within bound around the u == 1 switch and near -1", () => {
    const xs = aroundF32([2 ** -24, 2 ** -23, 2 ** -25, 0.5, 1], 16).filter((x) => x > 0);
    const neg = aroundF32([2 ** -24, 2 ** -25, 0.5], 16).map((x) => -x);
    const edge = Float32Array.from([-1 + 2 ** -24, -1 + 2 ** -23, -0.999, -0.75]);
    for (const set of [xs, Float32Array.from(neg), edge]) {
      const { max, x } = maxError("map_log1pf", set, Math.log1p, 24);
      expect(max, `worst at x = ${x}`).toBeLessThanOrEqual(LOG1PF_ULP);
    }
  });
});

describe("log1p2d (float64 log1p)", () => {
  it("is exactly +-0 at +-0 and x itself where 1 + x rounds to 1", () => {
    const [pz, nz] = apply("map_log1p", [0, -0]);
    expect(Object.is(pz, 0) && Object.is(nz, -0)).toBe(true);
    const tiny = [2 ** -54, -(2 ** -55), 1e-100, -1e-300, DBL_MIN, 5e-324];
    expect(Array.from(apply("map_log1p", tiny))).toEqual(tiny);
  });

  it("is within bound over 2^18 float64 values of (-1, 1e300] and e^-[0, 708]", () => {
    const next = rng(6);
    const xs = new Float64Array(1 << 18);
    for (let i = 0; i < xs.length; i++) {
      const kind = i % 5;
      xs[i] =
        kind === 0
          ? next()
          : kind === 1
            ? -next()
            : kind === 2
              ? (next() < 0.5 ? -1 : 1) * 2 ** (-60 * next())
              : kind === 3
                ? Math.exp(-708 * next())
                : 10 ** (300 * next());
    }
    const { max, x } = maxError(
      "map_log1p",
      xs.filter((x) => x > -1),
      Math.log1p,
      53,
    );
    expect(max, `worst at x = ${x}`).toBeLessThanOrEqual(LOG1P_ULP);
  });
});

describe("expm1mxPolyf4 / expm1mxPoly2d (e^x - 1 - x for |x| <= 1/2)", () => {
  const samples = (n: number, seed: number): number[] => {
    const next = rng(seed);
    return Array.from({ length: n }, (_, i) =>
      i % 2 ? next() - 0.5 : (next() < 0.5 ? -1 : 1) * 2 ** (-1 - 40 * next()),
    );
  };

  it("is +0 at +-0 and exact at the ends of the interval", () => {
    expect(Array.from(apply("map_expm1mxf", [0, -0]), (v) => Object.is(v, 0))).toEqual([true, true]);
    expect(Array.from(apply("map_expm1mx", [0, -0]), (v) => Object.is(v, 0))).toEqual([true, true]);
    const [hi, lo] = apply("map_expm1mx", [0.5, -0.5]);
    expect(ulpError(hi!, expm1mxExact(0.5), 53)).toBeLessThanOrEqual(EXPM1MX_ULP);
    expect(ulpError(lo!, expm1mxExact(-0.5), 53)).toBeLessThanOrEqual(EXPM1MX_ULP);
  });

  it("float32: within bound over 2^16 values, and where exp(x) - 1 - x keeps no digit", () => {
    const xs = Float32Array.from([...samples(1 << 16, 7), 1e-4, -1e-4, 2 ** -12, -(2 ** -20)]);
    const { max, x } = maxError("map_expm1mxf", xs, expm1mxExact, 24);
    expect(max, `worst at x = ${x}`).toBeLessThanOrEqual(EXPM1MXF_ULP);
  });

  it("float64: within bound over 20,000 values against the exact series", () => {
    const xs = Float64Array.from([...samples(20_000, 8), 1e-8, -1e-8, 0.5, -0.5, 2 ** -30]);
    const { max, x } = maxError("map_expm1mx", xs, expm1mxExact, 53);
    expect(max, `worst at x = ${x}`).toBeLessThanOrEqual(EXPM1MX_ULP);
    // As exp(x) - 1 - x reads, float64 keeps nothing at x = 1e-8: the series keeps every digit.
    expect(Math.exp(1e-8) - 1 - 1e-8).not.toBeCloseTo(5.000000016666667e-17, 25);
    expect(ulpError(apply("map_expm1mx", [1e-8])[0]!, expm1mxExact(1e-8), 53)).toBeLessThanOrEqual(1);
  });
});

describe("the ASC_FEATURE_SIMD guard", () => {
  // A kernel the way assembly/ writes them: SIMD loop under the compile-time flag, scalar tail.
  const guarded = `
    import { logf4 } from "./assembly/math/logf";
    import { log2d } from "./assembly/math/log";
    import { expf4 } from "./assembly/math/expf";
    import { exp2d } from "./assembly/math/exp";
    export function f(p: usize, q: usize, n: i32): void {
      let i = 0;
      if (ASC_FEATURE_SIMD) {
        for (; i + 4 <= n; i += 4) {
          const o = <usize>i << 2;
          v128.store(p + o, expf4(logf4(v128.load(p + o))));
          v128.store(q + o * 2, exp2d(log2d(v128.load(q + o * 2))));
        }
      }
      for (; i < n; i++) store<f32>(p + (<usize>i << 2), load<f32>(p + (<usize>i << 2)) + 1);
    }`;
  const unguarded = `
    import { logf4 } from "./assembly/math/logf";
    export function f(p: usize): void { v128.store(p, logf4(v128.load(p))); }`;

  async function compile(
    source: string,
    simd: boolean,
  ): Promise<{ error: Error | null; text: string; stderr: string }> {
    let text = "";
    const stderr: string[] = [];
    const flags = ["-O3", "--runtime", "stub", "--noAssert", "--config", "/dev/null"];
    const { error } = await asc.main(
      ["kernel.ts", ...flags, ...(simd ? ["--enable", "simd"] : []), "--textFile", "kernel.wat"],
      {
        readFile: (name, baseDir) => {
          if (name === "kernel.ts") return source;
          try {
            return readFileSync(join(baseDir, name), "utf8");
          } catch {
            return null;
          }
        },
        writeFile: (name, contents) => {
          if (name.endsWith(".wat")) text = String(contents);
        },
        listFiles: () => [],
        stdout: { write: () => true },
        stderr: { write: (chunk: string | Uint8Array) => (stderr.push(String(chunk)), true) },
      },
    );
    return { error, text, stderr: stderr.join("") };
  }

  it("leaves no v128 code and no constants in a scalar build", async () => {
    const scalar = await compile(guarded, false);
    expect(scalar.error).toBeNull();
    expect(scalar.text).toContain("(func $kernel/f");
    expect(scalar.text).not.toMatch(/v128|i32x4|f32x4|f64x2|i64x2/);
    expect(scalar.text).not.toContain("(data");
  });

  it("uses SIMD and the constant tables in a SIMD build", async () => {
    const simd = await compile(guarded, true);
    expect(simd.error).toBeNull();
    expect(simd.text).toContain("v128.load32_splat");
    expect(simd.text).toContain("v128.load64_splat");
    expect(simd.text).not.toContain("v128.const");
    expect(simd.text).toContain("(data");
  });

  it("stops a scalar build that calls a helper outside the guard, with a message", async () => {
    const scalar = await compile(unguarded, false);
    expect(scalar.error).not.toBeNull();
    expect(scalar.stderr).toContain("logf4 needs SIMD");
  });
});

// The one-value mirrors (exp1d, log1d, sin1dk, cos1dk) serve the scalar build and scalar tails of
// kernels whose SIMD build must give the same bits (assembly/vi.ts, assembly/vitargets.ts).
describe("one-value mirrors of the float64 lanes", () => {
  const rng = (seed: number) => () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const bitsEqual = (a: Float64Array, b: Float64Array): number => {
    let diff = 0;
    for (let i = 0; i < a.length; i++) if (f64Bits(a[i]!) !== f64Bits(b[i]!)) diff++;
    return diff;
  };

  it("exp1d gives exp2d's bits, over the fast domain, its edges and beyond", () => {
    const r = rng(3);
    const xs = Array.from({ length: 1 << 16 }, () => (r() * 2 - 1) * 720);
    xs.push(0, -0, 709.782712893384, -708.3964185322641, 710, -710, 1e-300, -1e-300, 0.5 * Math.LN2);
    if (xs.length % 2) xs.push(1);
    const a = apply("map_exp", xs);
    expect(bitsEqual(apply("map_exp1", xs), a)).toBe(0);
    expect(a[xs.indexOf(0)]).toBe(1);
  });

  it("log1d gives log2d's bits, over every binade and near 1", () => {
    const r = rng(5);
    const xs = Array.from({ length: 1 << 16 }, (_, i) =>
      i % 2 ? 1 + (r() - 0.5) * 1e-3 : 2 ** ((r() * 2 - 1) * 1020),
    );
    xs.push(1, Math.SQRT1_2, Math.SQRT2, 2 ** -52, 2 ** -1022, 1.7976931348623157e308);
    if (xs.length % 2) xs.push(1);
    expect(bitsEqual(apply("map_log1", xs), apply("map_log", xs))).toBe(0);
  });

  it("sin1dk and cos1dk give the lanes' bits, within 2 ulp of Math.sin and Math.cos on [-pi/4, pi/4]", () => {
    const n = 1 << 16;
    const xs = Array.from({ length: n }, (_, i) => (i / (n - 1) - 0.5) * (Math.PI / 2));
    xs.push(0, -0, Math.PI / 4, -Math.PI / 4, 1e-300, 2 ** -30);
    const sin = apply("map_sin", xs);
    const cos = apply("map_cos", xs);
    expect(bitsEqual(apply("map_sin1", xs), sin)).toBe(0);
    expect(bitsEqual(apply("map_cos1", xs), cos)).toBe(0);
    let worstSin = 0;
    let worstCos = 0;
    xs.forEach((x, i) => {
      // V8's Math.sin and Math.cos are fdlibm's (under 1 ulp): the bound allows both errors.
      worstSin = Math.max(worstSin, ulpError(sin[i]!, Math.sin(x), 53));
      worstCos = Math.max(worstCos, ulpError(cos[i]!, Math.cos(x), 53));
    });
    expect(worstSin).toBeLessThan(2);
    expect(worstCos).toBeLessThan(2);
    expect(sin[xs.indexOf(0)]).toBe(0);
    expect(cos[xs.indexOf(0)]).toBe(1);
  });
});
