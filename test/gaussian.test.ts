// gaussianKL: the golden fixtures (NumPy float64 references from test/fixtures/generate_losses.py),
// the closed form checked in SEMANTICS.md, a float64 reference here, gradients against central
// finite differences, nearly equal Gaussians, every error (the module usable after each), inputs
// never modified, gradient buffers, the zero-copy training-loop path with flat memory, and both
// builds agreeing at every vector tail.
import { describe, expect, it } from "vitest";
import * as klcore from "../dist/index.js";
import { createInstanceSync, type Gaussian, type Klcore } from "../dist/index.js";
import { close, decodeF64, decodeScalar, lossCases, lossInput, rng } from "./helpers/fixtures.js";

const simd = createInstanceSync({ simd: true });
const scalar = createInstanceSync({ simd: false });
const builds: [string, Klcore][] = [
  ["simd", simd],
  ["scalar", scalar],
];

type Reduction = "none" | "sum" | "mean" | "batchmean";
type Arr = Float32Array | Float64Array;

interface Params {
  pm: Float64Array;
  plv: Float64Array;
  qm: Float64Array;
  qlv: Float64Array;
}

/** Means ~ N(0, 1.5), log-variances uniform in [-3, 3]. */
function params(n: number, seed: number): Params {
  const r = rng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(r() + 1e-300)) * Math.cos(2 * Math.PI * r());
  const make = (f: () => number) => Float64Array.from({ length: n }, f);
  return {
    pm: make(() => 1.5 * normal()),
    plv: make(() => 6 * r() - 3),
    qm: make(() => 1.5 * normal()),
    qlv: make(() => 6 * r() - 3),
  };
}

/** float64 reference: the loss and the four gradients (q's zero-length without q). */
function reference(
  { pm, plv, qm, qlv }: Params,
  withQ: boolean,
  dims: number,
  reduction: Reduction,
): { loss: number | Float64Array; g: Float64Array[] } {
  const n = pm.length;
  const rows = new Float64Array(n / dims);
  const scale = reduction === "mean" || reduction === "batchmean" ? dims / n : 1;
  const g = [0, 1, 2, 3].map(() => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    const b = withQ ? qm[i]! : 0;
    const lb = withQ ? qlv[i]! : 0;
    const d = plv[i]! - lb;
    const m = pm[i]! - b;
    const em1 = Math.expm1(d);
    // e^d - 1 - d: the series near 0, where expm1(d) - d would cancel.
    const phi = Math.abs(d) < 1e-3 ? d * d * (0.5 + d / 6 + (d * d) / 24 + (d * d * d) / 120) : em1 - d;
    const iv = Math.exp(-lb);
    rows[Math.floor(i / dims)]! += 0.5 * (phi + m * m * iv);
    g[0]![i] = m * iv * scale;
    g[1]![i] = 0.5 * em1 * scale;
    g[2]![i] = -m * iv * scale;
    g[3]![i] = -0.5 * (em1 + m * m * iv) * scale;
  }
  const loss = reduction === "none" ? rows : rows.reduce((a, v) => a + v, 0) * scale;
  return { loss, g: withQ ? g : g.slice(0, 2) };
}

const as = (T: typeof Float32Array | typeof Float64Array, p: Params): Params => ({
  pm: Float64Array.from(new T(p.pm)),
  plv: Float64Array.from(new T(p.plv)),
  qm: Float64Array.from(new T(p.qm)),
  qlv: Float64Array.from(new T(p.qlv)),
});

/** Calls gaussianKL on the params in precision T and returns the loss and gradients in kernel order. */
function run(
  k: Klcore,
  p: Params,
  withQ: boolean,
  T: typeof Float32Array | typeof Float64Array,
  options: Record<string, unknown>,
): { loss: number | Float64Array; g: Arr[] } {
  const r = k.gaussianKL(
    { mean: new T(p.pm), logVar: new T(p.plv) },
    withQ ? { mean: new T(p.qm), logVar: new T(p.qlv) } : null,
    { ...options, grad: true },
  );
  const g = [r.grad!.p.mean, r.grad!.p.logVar];
  if (withQ) g.push(r.grad!.q!.mean, r.grad!.q!.logVar);
  return { loss: r.loss, g };
}

function errorOfScale(got: ArrayLike<number>, want: ArrayLike<number>, floor = 1e-300): number {
  let scale = floor;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  let worst = got.length === want.length ? 0 : Infinity;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / scale);
  return worst;
}

function relErr(got: number | Float64Array, want: number | Float64Array): number {
  if (typeof got === "number" && typeof want === "number")
    return want === 0 ? Math.abs(got) : Math.abs(got - want) / Math.abs(want);
  const g = got as Float64Array;
  const w = want as Float64Array;
  let worst = g.length === w.length ? 0 : Infinity;
  for (let i = 0; i < w.length; i++) worst = Math.max(worst, relErr(g[i]!, w[i]!));
  return worst;
}

const sumOf = (l: number | Float64Array): number =>
  typeof l === "number" ? l : l.reduce((a, b) => a + b, 0);

// ---------------------------------------------------------------------------------------------

const fixtureCases = lossCases("gaussianKL");

describe("golden fixtures (losses.json, groups gaussian and edge)", () => {
  it("has the cases", () => {
    expect(fixtureCases.filter((c) => c.group === "gaussian").length).toBeGreaterThanOrEqual(80);
    expect(fixtureCases.filter((c) => c.group === "edge").length).toBeGreaterThan(0);
  });
  for (const [build, k] of builds) {
    it(`every case within tolerance (${build} build)`, () => {
      const failures: string[] = [];
      for (const c of fixtureCases) {
        const f64 = c.dtype === "float64";
        const arr = (key: string): Arr => lossInput(c, key);
        const withQ = c.inputs.qMean !== undefined;
        const r = k.gaussianKL(
          { mean: arr("pMean"), logVar: arr("pLogVar") },
          withQ ? { mean: arr("qMean"), logVar: arr("qLogVar") } : undefined,
          { ...c.options, grad: true },
        );
        // Loss: 1e-11 relative in float64, 3e-5 in float32 (reference on the float32-rounded inputs).
        const rel = f64 ? 1e-11 : 3e-5;
        if (c.expected.lossShape === "array") {
          const want = decodeF64(c.expected.loss as string);
          const got = r.loss as unknown as Float64Array;
          want.forEach((w, i) => {
            if (!close(got[i]!, w, rel, 1e-300)) failures.push(`${c.name}: loss[${i}] ${got[i]} want ${w}`);
          });
        } else {
          const want = decodeScalar(c.expected.loss!);
          if (!close(r.loss, want, rel, 1e-300)) failures.push(`${c.name}: loss ${r.loss} want ${want}`);
        }
        // Gradients: within 1e-12 (float64) or 2e-6 (float32) of their largest element.
        const grads: [string, Arr | undefined][] = [
          ["gradPMean", r.grad!.p.mean],
          ["gradPLogVar", r.grad!.p.logVar],
          ["gradQMean", r.grad!.q?.mean],
          ["gradQLogVar", r.grad!.q?.logVar],
        ];
        for (const [key, got] of grads) {
          const b64 = c.expected[key];
          if (b64 === undefined) {
            if (got !== undefined) failures.push(`${c.name}: ${key} given without q`);
            continue;
          }
          const err = errorOfScale(got!, decodeF64(b64 as string));
          if (!(err <= (f64 ? 1e-12 : 2e-6))) failures.push(`${c.name}: ${key} error ${err} of its scale`);
        }
      }
      expect(failures).toEqual([]);
    });
  }
});

// ---------------------------------------------------------------------------------------------

describe("values", () => {
  it("KL(N(0, 1^2) || N(1, 2^2)) = ln 2 + 2/8 - 1/2 = 0.4431471805599453 (SEMANTICS.md)", () => {
    for (const [, k] of builds) {
      const p = { mean: [0], logVar: [0] };
      const q = { mean: [1], logVar: [Math.log(4)] };
      expect(k.gaussianKL(p, q).loss).toBe(0.4431471805599453);
      const p32 = { mean: new Float32Array([0]), logVar: new Float32Array([0]) };
      const q32 = { mean: new Float32Array([1]), logVar: new Float32Array([Math.log(4)]) };
      expect(k.gaussianKL(p32, q32).loss).toBeCloseTo(0.4431471805599453, 6);
    }
    expect(klcore.gaussianKL({ mean: [0], logVar: [0] }, { mean: [1], logVar: [Math.log(4)] }).loss).toBe(
      0.4431471805599453,
    );
  });

  it("matches the float64 reference for every reduction, with q and against the standard normal", () => {
    for (const [, k] of builds) {
      for (const [n, dims] of [
        [1, 1],
        [13, 13],
        [36, 4],
        [300, 100],
        [1000, 1],
      ] as const) {
        const p = params(n, n + dims);
        for (const withQ of [true, false]) {
          for (const reduction of ["none", "sum", "mean", "batchmean"] as const) {
            const o = { dims, reduction };
            const want = reference(p, withQ, dims, reduction);
            const got = run(k, p, withQ, Float64Array, o);
            expect(relErr(got.loss, want.loss), `${n}x${dims} ${reduction}`).toBeLessThanOrEqual(1e-13);
            want.g.forEach((w, j) => expect(errorOfScale(got.g[j]!, w)).toBeLessThanOrEqual(1e-14));
            const p32 = as(Float32Array, p);
            const want32 = reference(p32, withQ, dims, reduction);
            const got32 = run(k, p32, withQ, Float32Array, o);
            expect(relErr(got32.loss, want32.loss)).toBeLessThanOrEqual(3e-6);
            want32.g.forEach((w, j) => {
              expect(got32.g[j]).toBeInstanceOf(Float32Array);
              expect(errorOfScale(got32.g[j]!, w)).toBeLessThanOrEqual(1e-6);
            });
          }
        }
      }
    }
  });

  it("defaults: one row of the whole length, reduction 'mean'; q null or undefined is N(0, I)", () => {
    const p = params(10, 3);
    const g = { mean: p.pm, logVar: p.plv };
    const total = reference(p, false, 10, "sum").loss as number;
    expect(simd.gaussianKL(g).loss).toBeCloseTo(total, 13);
    expect(simd.gaussianKL(g, null).loss).toBe(simd.gaussianKL(g).loss);
    expect(simd.gaussianKL(g, undefined, { dims: 5 }).loss).toBeCloseTo(total / 2, 13);
    expect(simd.gaussianKL(g, null, { dims: 5, reduction: "batchmean" }).loss).toBe(
      simd.gaussianKL(g, null, { dims: 5 }).loss,
    );
    const zeros = { mean: new Float64Array(10), logVar: new Float64Array(10) };
    expect(simd.gaussianKL(g, zeros).loss).toBeCloseTo(total, 13);
    expect(simd.gaussianKL(g).grad).toBeUndefined();
  });

  it("identical Gaussians give exactly 0 and a zero gradient, in every build and precision", () => {
    for (const [, k] of builds) {
      for (let n = 1; n <= 40; n++) {
        const p = params(n, 50 + n);
        for (const T of [Float32Array, Float64Array]) {
          const g = { mean: new T(p.pm), logVar: new T(p.plv) };
          const r = k.gaussianKL(g, g, { grad: true, dims: 1, reduction: "none" });
          expect(r.loss.every((v) => v === 0)).toBe(true);
          for (const a of [r.grad!.p.mean, r.grad!.p.logVar, r.grad!.q!.mean, r.grad!.q!.logVar]) {
            expect(a.every((v) => v === 0)).toBe(true);
          }
          const std = { mean: new T(n), logVar: new T(n) };
          expect(k.gaussianKL(std).loss).toBe(0);
        }
      }
    }
  });

  it("nearly equal variances keep their digits: KL = (e^d - 1 - d)/2 for d = 1e-8 and smaller", () => {
    for (const [, k] of builds) {
      for (const d of [1e-3, 1e-5, 1e-8, -1e-8, 1e-12, 2 ** -40]) {
        // The series: e^d - 1 - d = d^2/2 + d^3/6 + d^4/24 + ...
        const series = (x: number) => x * x * (0.5 + x / 6 + (x * x) / 24 + (x * x * x) / 120 + x ** 4 / 720);
        const want = 0.5 * series(d);
        const got = k.gaussianKL({ mean: [0.25], logVar: [d + 0.5] }, { mean: [0.25], logVar: [0.5] }).loss;
        // d + 0.5 rounds: compare with the difference the kernel sees.
        const seen = d + 0.5 - 0.5;
        const wantSeen = 0.5 * series(seen);
        expect(Math.abs(got - wantSeen) / wantSeen, `d = ${d}`).toBeLessThanOrEqual(1e-14);
        if (seen === d) expect(Math.abs(got - want) / want).toBeLessThanOrEqual(1e-14);
        // Against the standard normal, as a VAE's posterior close to its prior.
        const prior = k.gaussianKL({ mean: [0], logVar: [d] }, null, { grad: true });
        expect(Math.abs(prior.loss - want) / want).toBeLessThanOrEqual(1e-14);
        expect(
          Math.abs(prior.grad!.p.logVar[0]! - 0.5 * Math.expm1(d)) / (0.5 * Math.abs(d)),
        ).toBeLessThanOrEqual(1e-15);
      }
      // float32: d = 1e-4 (computed as exp(d) - 1 - d in float32 it would keep 1 digit).
      const d = Math.fround(1e-4);
      const want = 0.5 * d * d * (0.5 + d / 6 + (d * d) / 24);
      const got = k.gaussianKL({ mean: new Float32Array([0]), logVar: new Float32Array([d]) }).loss;
      expect(Math.abs(got - want) / want).toBeLessThanOrEqual(3e-7);
    }
  });

  it("extreme log-variances: finite, exact float64 terms also for float32 inputs", () => {
    for (const [, k] of builds) {
      for (const T of [Float32Array, Float64Array]) {
        const p = { mean: new T([0, 1e3, 5, 0]), logVar: new T([30, -30, -20, 100]) };
        const q = { mean: new T([0, -1e3, 5, 1]), logVar: new T([-20, 30, -20, -100]) };
        const r = k.gaussianKL(p, q, { reduction: "none", dims: 1 }).loss;
        const want = reference(
          as(T, {
            pm: Float64Array.from(p.mean),
            plv: Float64Array.from(p.logVar),
            qm: Float64Array.from(q.mean),
            qlv: Float64Array.from(q.logVar),
          }),
          true,
          1,
          "none",
        ).loss as Float64Array;
        // The last term (1e87) overflows float32 but not the float64 result: the exact code keeps it.
        for (let i = 0; i < 4; i++)
          expect(relErr(r[i]!, want[i]!), `i = ${i}`).toBeLessThanOrEqual(T === Float32Array ? 3e-6 : 1e-14);
        expect(Number.isFinite(r[3]!)).toBe(true);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe("gradients against central finite differences (float64, fixed seed)", () => {
  for (const reduction of ["none", "sum", "mean"] as const) {
    for (const withQ of [true, false]) {
      it(`reduction ${reduction}, ${withQ ? "q given" : "standard normal q"}`, () => {
        for (const [, k] of builds) {
          for (const [n, dims] of [
            [5, 1],
            [12, 4],
            [21, 7],
          ] as const) {
            const p = params(n, 7 * n + dims);
            const o = { dims, reduction };
            const { g } = run(k, p, withQ, Float64Array, o);
            const keys = (["pm", "plv", "qm", "qlv"] as const).slice(0, withQ ? 4 : 2);
            const f = (pp: Params): number => sumOf(run(k, pp, withQ, Float64Array, o).loss);
            keys.forEach((key, j) => {
              for (let i = 0; i < n; i++) {
                const x = p[key][i]!;
                const h = 1e-5 * Math.max(1, Math.abs(x));
                const plus = { ...p, [key]: p[key].slice() };
                const minus = { ...p, [key]: p[key].slice() };
                plus[key][i] = x + h;
                minus[key][i] = x - h;
                const fd = (f(plus) - f(minus)) / (plus[key][i]! - minus[key][i]!);
                expect(Math.abs(fd - g[j]![i]!), `${key}[${i}] ${n}x${dims}`).toBeLessThanOrEqual(
                  1e-7 + 1e-7 * Math.abs(fd),
                );
              }
            });
          }
        }
      });
    }
  }
});

// ---------------------------------------------------------------------------------------------

describe("errors", () => {
  const P = { mean: [0.5, -1, 2], logVar: [0, 0.5, -1] };
  const Q = { mean: [0, 0, 1], logVar: [1, 0, 0] };
  const stillWorks = (k: Klcore) =>
    expect(k.gaussianKL(P, Q).loss).toBeCloseTo(
      reference(
        {
          pm: new Float64Array(P.mean),
          plv: new Float64Array(P.logVar),
          qm: new Float64Array(Q.mean),
          qlv: new Float64Array(Q.logVar),
        },
        true,
        3,
        "mean",
      ).loss as number,
      14,
    );

  for (const [build, k] of builds) {
    it(`options and inputs (${build} build)`, () => {
      const f = (p: unknown, q?: unknown, o?: unknown) => () =>
        k.gaussianKL(p as Gaussian, q as Gaussian, o as never);
      const f32 = { mean: new Float32Array(3), logVar: new Float32Array(3) };
      const cases: [() => unknown, TypeErrorConstructor | RangeErrorConstructor, RegExp][] = [
        [f(P, Q, { reduce: "sum" }), TypeError, /gaussianKL: unknown option 'reduce'/],
        [f(P, Q, { classes: 3 }), TypeError, /unknown option 'classes'/],
        [f(P, Q, { reduction: "avg" }), RangeError, /reduction must be one of/],
        [f(P, Q, { dims: 2 }), RangeError, /dims must be a positive integer dividing the length 3; got 2/],
        [f(P, Q, { dims: 0 }), RangeError, /dims must be/],
        [f(P, Q, { dims: "3" }), TypeError, /dims must be a number/],
        [f(P, Q, { validate: "no" }), TypeError, /validate must be a boolean/],
        [f(P, Q, []), TypeError, /options must be an object/],
        [f([1, 2], Q), TypeError, /p must be an object \{ mean, logVar \} of numeric arrays; got an array/],
        [f(null, Q), TypeError, /p must be an object/],
        [f({ mean: [1] }, Q), TypeError, /p must be an object/],
        [f(P, { mean: [0, 0, 1] }), TypeError, /q must be an object/],
        [f(P, 5), TypeError, /q must be an object/],
        [f({ mean: "abc", logVar: [1] }), TypeError, /p\.mean must be a Float32Array/],
        [f({ mean: [1, "2"], logVar: [1, 2] }), TypeError, /p\.mean\[1\] must be a number/],
        [
          f({ mean: [1, 2], logVar: [1] }),
          RangeError,
          /p\.mean and p\.logVar must have the same length; got 2 and 1/,
        ],
        [
          f({ mean: [1], logVar: new Float32Array(1) }),
          TypeError,
          /p\.mean and p\.logVar must have the same precision/,
        ],
        [f(P, f32), TypeError, /p\.mean and q\.mean must have the same precision/],
        [f(P, { mean: [0, 0], logVar: [0, 0] }), RangeError, /p\.mean and q\.mean must have the same length/],
        [f({ mean: [], logVar: [] }), RangeError, /p\.mean must not be empty/],
        [
          f({ mean: [0, NaN, 0], logVar: [0, 0, 0] }, Q),
          RangeError,
          /p\.mean\[1\] \(row 0\) must be finite; got NaN/,
        ],
        [
          f({ mean: [0, 0, 0], logVar: [0, 0, Infinity] }, Q),
          RangeError,
          /p\.logVar\[2\] \(row 0\) must be finite; got Infinity/,
        ],
        [
          f(P, { mean: [0, -Infinity, 0], logVar: [0, 0, 0] }, { dims: 1 }),
          RangeError,
          /q\.mean\[1\] \(row 1\) .* -Infinity/,
        ],
        [
          f(P, { mean: [0, 0, 0], logVar: [NaN, 0, 0] }),
          RangeError,
          /q\.logVar\[0\] \(row 0\) must be finite; got NaN/,
        ],
        [
          f(P, Q, { grad: "yes" }),
          TypeError,
          /grad must be true, false, or \{ p: \{ mean, logVar \}, q: \{ mean, logVar \} \}/,
        ],
        [f(P, Q, { grad: new Float64Array(3) }), TypeError, /grad must be true, false, or/],
        [
          f(P, Q, { grad: { p: { mean: new Float64Array(3), logVar: new Float64Array(3) } } }),
          TypeError,
          /grad must be/,
        ],
        [
          f(P, null, { grad: { p: { mean: new Float64Array(3), logVar: new Float64Array(3) }, q: {} } }),
          TypeError,
          /q is the standard normal/,
        ],
        [
          f(P, null, { grad: { p: { mean: new Float64Array(3) } } }),
          TypeError,
          /grad\.p\.logVar must be a Float64Array; got null/,
        ],
        [
          f(P, null, { grad: { p: { mean: new Float32Array(3), logVar: new Float64Array(3) } } }),
          TypeError,
          /grad\.p\.mean must be a Float64Array; got Float32Array/,
        ],
        [
          f(P, null, { grad: { p: { mean: new Float64Array(3), logVar: new Float64Array(2) } } }),
          RangeError,
          /grad\.p\.logVar is too small: needs 3 elements, has 2/,
        ],
      ];
      for (const [call, type, message] of cases) {
        expect(call).toThrow(type);
        expect(call).toThrow(message);
        stillWorks(k);
      }
      // A bad element deep in a long input (a later chunk, inside a SIMD block) is found and named.
      const p = params(70_007, 3);
      p.qlv[50_001] = NaN;
      expect(f({ mean: p.pm, logVar: p.plv }, { mean: p.qm, logVar: p.qlv }, { dims: 7 })).toThrow(
        /q\.logVar\[50001\] \(row 7143\) must be finite; got NaN/,
      );
      stillWorks(k);
    });
  }

  it("validate: false computes the formula for any input", () => {
    for (const [, k] of builds) {
      expect(k.gaussianKL({ mean: [NaN], logVar: [0] }, null, { validate: false }).loss).toBeNaN();
      // A variance of p of e^1000: KL is +Infinity, as the formula says.
      expect(k.gaussianKL({ mean: [0], logVar: [1000] }, null, { validate: false }).loss).toBe(Infinity);
      expect(k.gaussianKL({ mean: [0], logVar: [Infinity] }, null, { validate: false }).loss).toBe(Infinity);
      stillWorks(k);
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe("memory, inputs and outputs", () => {
  it("inputs are never modified, also on error paths", () => {
    const p = params(29, 4);
    const arrays = [p.pm, p.plv, p.qm, p.qlv, ...[p.pm, p.plv, p.qm, p.qlv].map((a) => Float32Array.from(a))];
    const keep = arrays.map((a) => a.slice());
    for (const [, k] of builds) {
      k.gaussianKL(
        { mean: p.pm, logVar: p.plv },
        { mean: p.qm, logVar: p.qlv },
        { grad: true, reduction: "none" },
      );
      k.gaussianKL(
        { mean: arrays[4]!, logVar: arrays[5]! },
        { mean: arrays[6]!, logVar: arrays[7]! },
        { grad: true },
      );
      expect(() => k.gaussianKL({ mean: p.pm, logVar: p.plv }, null, { dims: 2 })).toThrow();
    }
    expect(arrays).toEqual(keep);
  });

  it("grad output buffers: filled and returned; elements past the input untouched", () => {
    const p = params(9, 5);
    const want = run(simd, p, true, Float64Array, {}).g;
    const out = [0, 1, 2, 3].map(() => new Float64Array(11).fill(7));
    const r = simd.gaussianKL(
      { mean: p.pm, logVar: p.plv },
      { mean: p.qm, logVar: p.qlv },
      { grad: { p: { mean: out[0]!, logVar: out[1]! }, q: { mean: out[2]!, logVar: out[3]! } } },
    );
    expect(r.grad!.p.mean).toBe(out[0]);
    expect(r.grad!.q!.logVar).toBe(out[3]);
    out.forEach((o, j) => {
      expect(Array.from(o.subarray(0, 9))).toEqual(Array.from(want[j]!));
      expect(Array.from(o.subarray(9))).toEqual([7, 7]);
    });
  });

  it("odd offsets inside a larger buffer, in JS memory and in wasm memory, give the same values", () => {
    const n = 23;
    const p = params(n, 6);
    for (const [dtype, T] of [
      ["float32", Float32Array],
      ["float64", Float64Array],
    ] as const) {
      const want = run(simd, p, true, T, { reduction: "none", dims: 1 });
      for (let off = 1; off <= 5; off++) {
        const views = [p.pm, p.plv, p.qm, p.qlv].map((a) => {
          const b = new T(n + 8);
          b.set(a, off);
          return b.subarray(off, off + n);
        });
        const got = simd.gaussianKL(
          { mean: views[0]!, logVar: views[1]! },
          { mean: views[2]!, logVar: views[3]! },
          { reduction: "none", dims: 1 },
        );
        expect(Array.from(got.loss)).toEqual(Array.from(want.loss as Float64Array));
        const handles = [p.pm, p.plv, p.qm, p.qlv, p.pm, p.pm, p.pm, p.pm].map((a) => {
          const h = simd.alloc(dtype, n + 8);
          h.array.set(a, off);
          return h;
        });
        const v = handles.map((h) => h.array.subarray(off, off + n));
        const inWasm = simd.gaussianKL(
          { mean: v[0]!, logVar: v[1]! },
          { mean: v[2]!, logVar: v[3]! },
          {
            reduction: "none",
            dims: 1,
            grad: { p: { mean: v[4]!, logVar: v[5]! }, q: { mean: v[6]!, logVar: v[7]! } },
          },
        );
        expect(Array.from(inWasm.loss)).toEqual(Array.from(want.loss as Float64Array));
        for (let j = 0; j < 4; j++) {
          expect(Array.from(handles[4 + j]!.array.subarray(off, off + n))).toEqual(Array.from(want.g[j]!));
        }
        for (const h of handles) h.free();
      }
    }
  });

  it("a training loop: WasmArray inputs and in-place gradients, no copies, flat memory over 20,000 steps", () => {
    const k = createInstanceSync();
    const batch = 32;
    const latent = 16;
    const n = batch * latent;
    const p = params(n, 8);
    const mean = k.alloc("float32", n);
    const logVar = k.alloc("float32", n);
    const gMean = k.alloc("float32", n);
    const gLogVar = k.alloc("float32", n);
    mean.array.set(p.pm);
    logVar.array.set(p.plv);
    const step = () =>
      k.gaussianKL({ mean, logVar }, null, {
        dims: latent,
        grad: { p: { mean: gMean.array, logVar: gLogVar.array } },
      });
    const first = step();
    expect(first.grad!.p.mean.buffer).toBe(gMean.array.buffer);
    const want = reference(as(Float32Array, p), false, latent, "mean");
    expect(relErr(first.loss, want.loss)).toBeLessThanOrEqual(3e-6);
    expect(errorOfScale(gMean.array, want.g[0]!)).toBeLessThanOrEqual(1e-6);
    expect(errorOfScale(gLogVar.array, want.g[1]!)).toBeLessThanOrEqual(1e-6);
    const flat = k.backend().memoryBytes;
    // Plain gradient descent on the posterior parameters: the KL to the prior falls towards 0.
    let loss = first.loss;
    for (let i = 0; i < 20_000; i++) {
      const r = step();
      loss = r.loss;
      const m = mean.array;
      const lv = logVar.array;
      const gm = gMean.array;
      const glv = gLogVar.array;
      for (let j = 0; j < n; j++) {
        m[j]! -= 0.5 * gm[j]!;
        lv[j]! -= 0.5 * glv[j]!;
      }
    }
    expect(loss).toBeLessThan(1e-6);
    expect(k.backend().memoryBytes).toBe(flat);
    for (const h of [mean, logVar, gMean, gLogVar]) h.free();
    expect(() => step()).toThrow(/freed/);
  });

  it("inputs longer than a chunk: many rows, and rows longer than a chunk, in pieces", () => {
    const n = 100_003;
    const p = params(n, 9);
    for (const [dims, reduction] of [
      [1, "mean"],
      [1, "none"],
      [n, "none"],
      [n, "sum"],
    ] as const) {
      for (const withQ of [true, false]) {
        const want = reference(p, withQ, dims, reduction);
        const got = run(simd, p, withQ, Float64Array, { dims, reduction });
        expect(relErr(got.loss, want.loss)).toBeLessThanOrEqual(1e-12);
        want.g.forEach((w, j) => expect(errorOfScale(got.g[j]!, w)).toBeLessThanOrEqual(1e-14));
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe("builds", () => {
  it("SIMD and scalar agree at every length 1..15 and around the block size, both precisions", () => {
    for (const n of [...Array.from({ length: 15 }, (_, i) => i + 1), 127, 128, 129, 131, 257]) {
      const p = params(n, 2000 + n);
      for (const T of [Float64Array, Float32Array]) {
        for (const withQ of [true, false]) {
          for (const reduction of ["none", "sum", "mean"] as const) {
            const o = { reduction, dims: 1 };
            const a = run(simd, p, withQ, T, o);
            const b = run(scalar, p, withQ, T, o);
            // The scalar build computes float32 inputs in float64: they differ by float32 rounding.
            expect(relErr(a.loss, b.loss), `n=${n} ${reduction}`).toBeLessThanOrEqual(
              T === Float64Array ? 1e-14 : 3e-6,
            );
            a.g.forEach((g, j) =>
              expect(errorOfScale(g, b.g[j]!)).toBeLessThanOrEqual(T === Float64Array ? 1e-15 : 1e-6),
            );
          }
        }
      }
    }
  });
});
