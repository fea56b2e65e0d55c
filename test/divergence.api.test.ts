// The divergence family's contract: options and errors alike across every export, inputs never
// modified, the module usable after every error, zero-copy inputs, flat memory, both builds agreeing.
import { describe, expect, it } from "vitest";
import * as klcore from "../dist/index.js";
import { createInstanceSync, type Klcore, type NumericInput } from "../dist/index.js";
import { rng } from "./helpers/fixtures.js";

const simd = createInstanceSync({ simd: true });
const scalar = createInstanceSync({ simd: false });

/** Random distribution rows (rows x cols), ~20% exact zeros, each row summing to 1 in float64. */
function dist(rows: number, cols: number, seed: number): Float64Array {
  const r = rng(seed);
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < cols; j++) {
      const v = r() < 0.2 && cols > 1 ? 0 : -Math.log(r() + 1e-300);
      out[i * cols + j] = v;
      s += v;
    }
    if (s === 0) out[i * cols] = s = 1;
    for (let j = 0; j < cols; j++) out[i * cols + j]! /= s;
  }
  return out;
}

/** q strictly positive, so every KL is finite. */
function positiveDist(rows: number, cols: number, seed: number): Float64Array {
  const d = dist(rows, cols, seed);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += d[i * cols + j]! += 0.01;
    for (let j = 0; j < cols; j++) d[i * cols + j]! /= s;
  }
  return d;
}

function jsKl(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) if (p[i]! > 0) s += p[i]! * Math.log(p[i]! / q[i]!);
  return s;
}

type Pair = (p: NumericInput, q: NumericInput, o?: object) => number | Float64Array;
const pairFns = (k: Klcore): [string, Pair][] => [
  ["kl", (p, q, o) => k.kl(p, q, o)],
  ["crossEntropy", (p, q, o) => k.crossEntropy(p, q, o)],
  ["entropy", (p, _q, o) => k.entropy(p, o)],
  ["jsDivergence", (p, q, o) => k.jsDivergence(p, q, o)],
  ["jsDistance", (p, q, o) => k.jsDistance(p, q, o)],
];

const P = [0.2, 0.3, 0.5];
const Q = [0.1, 0.6, 0.3];

describe("every divergence export takes the same options and throws the same errors", () => {
  for (const [name, f] of pairFns(simd)) {
    it(`${name}: option and input errors`, () => {
      expect(() => f(P, Q, { reduce: "sum" })).toThrow(TypeError);
      expect(() => f(P, Q, { reduce: "sum" })).toThrow(/unknown option 'reduce'/);
      expect(() => f(P, Q, { reduction: "avg" })).toThrow(RangeError);
      for (const base of [0, 1, -2, NaN, Infinity]) expect(() => f(P, Q, { base })).toThrow(RangeError);
      expect(() => f(P, Q, { base: "2" })).toThrow(RangeError);
      for (const classes of [0, -3, 2, 1.5]) expect(() => f(P, Q, { classes })).toThrow(RangeError);
      expect(() => f(P, Q, { classes: "3" })).toThrow(TypeError);
      expect(() => f(P, Q, { normalize: 1 })).toThrow(/normalize must be a boolean/);
      expect(() => f(P, Q, 5 as never)).toThrow(TypeError);
      expect(() => f("abc" as never, Q)).toThrow(TypeError);
      expect(() => f(new Int32Array(3) as never, Q)).toThrow(/p must be a Float32Array/);
      expect(() => f([0.5, "0.5"] as never, Q)).toThrow(/p\[1\] must be a number; got "0.5"/);
      expect(() => f([], [])).toThrow(/p must not be empty/);
      expect(() => f([0.2, -0.1, 0.9], Q)).toThrow(
        /p\[1\] \(row 0\) must be a finite probability >= 0; got -0.1/,
      );
      expect(() => f([0.2, NaN, 0.8], Q)).toThrow(/p\[1\] .* got NaN/);
      expect(() => f([0.2, Infinity, 0.8], Q)).toThrow(/got Infinity/);
      expect(() => f([0.2, 0.3, 0.6], Q)).toThrow(/p row 0 sums to 1\.1.*normalize: true/);
      expect(() => f([0.2, 0.3, 0.5, 0.2, 0.3, 0.6], [...Q, ...Q], { classes: 3 })).toThrow(/p row 1 sums/);
      expect(() => f([0, 0, 0], Q, { normalize: true })).toThrow(/p row 0 sums to 0; normalize needs/);
      expect(() => f(Math.log as never, Q)).toThrow(TypeError);
      // After every error the module still computes.
      expect(f(P, P)).toBeTypeOf("number");
    });
    if (name !== "entropy") {
      it(`${name}: pair errors`, () => {
        expect(() => f(new Float32Array(P), new Float64Array(Q))).toThrow(TypeError);
        expect(() => f(new Float32Array(P), Q)).toThrow(/same precision.*number\[\] counts as float64/);
        expect(() => f(P, [0.5, 0.5])).toThrow(/same length; got 3 and 2/);
        expect(() => f(P, [0.1, -0.2, 1.1])).toThrow(/q\[1\] \(row 0\)/);
        expect(() => f(P, [0.1, 0.6, 0.2])).toThrow(/q row 0 sums to 0\.(9|89)/);
        expect(f(P, new Float64Array(Q))).toBeTypeOf("number");
      });
    }
  }

  it("log-space inputs are checked as logs: NaN and +Infinity rejected, -Infinity is p = 0", () => {
    expect(() => simd.kl([Math.log(0.5), NaN], [0.5, 0.5], { logP: true })).toThrow(/natural log.*got NaN/);
    expect(() => simd.kl([0.5, 0.5], [Infinity, 0], { logQ: true })).toThrow(/q\[0\].*natural log/);
    expect(simd.kl([0, -Infinity], [Math.log(0.5), Math.log(0.5)], { logP: true, logQ: true })).toBeCloseTo(
      Math.log(2),
      14,
    );
    // Probabilities passed where logs were expected (and the reverse) fail the row-sum check.
    expect(() => simd.kl(P, Q.map(Math.log), { logQ: false })).toThrow(/q\[0\].*got -2\.30/);
    expect(() => simd.kl(P, Q, { logQ: true })).toThrow(/q row 0 sums to .*not 1/);
  });

  it("relEntr: type, length and out errors", () => {
    expect(() => simd.relEntr([1], new Float32Array(1))).toThrow(TypeError);
    expect(() => simd.relEntr([1, 2], [1])).toThrow(RangeError);
    expect(() => simd.relEntr([1, 2], [1, 2], new Float64Array(1))).toThrow(/out is too small: needs 2/);
    expect(() => simd.relEntr([1, 2], [1, 2], new Float32Array(2))).toThrow(/out must be a Float64Array/);
    expect(Array.from(simd.relEntr([], []))).toEqual([]);
  });
});

describe("conventions", () => {
  it("reductions: none gives one value per row; sum; mean and batchmean average over rows", () => {
    const p = dist(4, 5, 1);
    const q = positiveDist(4, 5, 2);
    const rows = simd.kl(p, q, { classes: 5, reduction: "none" });
    expect(rows).toBeInstanceOf(Float64Array);
    expect(rows.length).toBe(4);
    for (let r = 0; r < 4; r++) {
      expect(rows[r]).toBeCloseTo(jsKl(p.subarray(r * 5, r * 5 + 5), q.subarray(r * 5, r * 5 + 5)), 14);
    }
    const sum = rows.reduce((a, b) => a + b, 0);
    expect(simd.kl(p, q, { classes: 5, reduction: "sum" })).toBeCloseTo(sum, 14);
    expect(simd.kl(p, q, { classes: 5 })).toBeCloseTo(sum / 4, 14);
    expect(simd.kl(p, q, { classes: 5, reduction: "batchmean" })).toBe(simd.kl(p, q, { classes: 5 }));
    // One row, no options: the plain value.
    expect(simd.kl(P, Q)).toBeCloseTo(jsKl(P, Q), 15);
  });

  it("base 2 gives bits", () => {
    expect(simd.entropy([0.5, 0.5], { base: 2 })).toBe(1);
    expect(simd.jsDistance([1, 0], [0, 1], { base: 2 })).toBe(1);
    expect(simd.kl(P, Q, { base: 2 })).toBeCloseTo(jsKl(P, Q) / Math.LN2, 15);
  });

  it("log-space inputs give the same values as probabilities", () => {
    const p = dist(3, 9, 3);
    const q = positiveDist(3, 9, 4);
    const lp = p.map(Math.log);
    const lq = q.map(Math.log);
    const o = { classes: 9, reduction: "none" } as const;
    const want = simd.kl(p, q, o);
    for (const got of [
      simd.kl(lp, lq, { ...o, logP: true, logQ: true }),
      simd.kl(lp, q, { ...o, logP: true }),
      simd.kl(p, lq, { ...o, logQ: true }),
    ]) {
      for (let r = 0; r < 3; r++) expect(got[r]).toBeCloseTo(want[r]!, 13);
    }
    expect(simd.entropy(lp, { classes: 9, logP: true })).toBeCloseTo(simd.entropy(p, { classes: 9 }), 13);
    expect(simd.crossEntropy(p, lq, { classes: 9, logQ: true })).toBeCloseTo(
      simd.crossEntropy(p, q, { classes: 9 }),
      13,
    );
    expect(simd.jsDivergence(lp, lq, { classes: 9, logP: true, logQ: true })).toBeCloseTo(
      simd.jsDivergence(p, q, { classes: 9 }),
      13,
    );
  });

  it("log-space keeps terms whose probabilities underflow", () => {
    // q = e^-800 underflows to 0 in float64; the log form still gives the finite exact value.
    expect(simd.kl([1], [-800], { logQ: true, validate: false })).toBe(800);
  });

  it("generalized kl uses kl_div terms; normalize matches scipy.stats.entropy", () => {
    expect(simd.kl([1, 1], [1, 3], { generalized: true })).toBeCloseTo(0.9013877113318902, 15);
    expect(simd.kl([1, 1], [1, 3], { validate: false })).toBeCloseTo(-1.0986122886681098, 15);
    expect(simd.kl([2, 2], [1, 3], { normalize: true })).toBeCloseTo(0.14384103622589045, 15);
    expect(simd.entropy([1, 1], { normalize: true, base: 2 })).toBe(1);
  });
});

describe("the peers' traps (docs/api.md, Conventions)", () => {
  it("KL of a distribution with itself is exactly 0, in every build and precision", () => {
    for (const k of [simd, scalar]) {
      for (let n = 1; n <= 40; n++) {
        const p = dist(1, n, n);
        for (const a of [p, Float32Array.from(p)]) {
          expect(k.kl(a, a, { validate: false })).toBe(0);
          expect(k.jsDivergence(a, a, { validate: false })).toBe(0);
          expect(k.kl(a, a, { generalized: true })).toBe(0);
        }
      }
    }
  });

  it("Keras clips to [1e-7, 1]; klcore is exact: [.5,.5] || [1,0] is Infinity, negatives rejected", () => {
    expect(simd.kl([0.5, 0.5], [1, 0])).toBe(Infinity);
    // What clipping both inputs to [1e-7, 1] reports instead (the figure the README and docs/api.md quote).
    const clip = (v: number) => Math.min(Math.max(v, 1e-7), 1);
    const keras = [0.5, 0.5].reduce((s, t, i) => s + clip(t) * Math.log(clip(t) / clip([1, 0][i]!)), 0);
    expect(keras).toBeCloseTo(7.3659, 4);
    expect(simd.crossEntropy([0.5, 0.5], [1, 0])).toBe(Infinity);
    expect(simd.crossEntropy([0, 1], [0, 1])).toBe(0);
    expect(() => simd.kl([1.5, -0.5], [0.5, 0.5])).toThrow(RangeError);
  });

  it("Jensen-Shannon distance is never NaN for near-identical or subnormal inputs", () => {
    for (const k of [simd, scalar]) {
      for (let n = 2; n < 30; n++) {
        const p = dist(1, n, 100 + n);
        const q = p.slice();
        for (let i = 0; i < n; i += 3) q[i] = q[i]! * (1 + Number.EPSILON);
        for (const [a, b] of [
          [p, q],
          [Float32Array.from(p), Float32Array.from(q)],
        ] as const) {
          const d = k.jsDistance(a, b, { validate: false });
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThan(1e-3);
        }
      }
      const sub = [5e-324, 1 - 5e-324];
      expect(k.jsDistance(sub, [1e-310, 1 - 1e-310])).not.toBeNaN();
      expect(k.jsDistance(new Float32Array([1e-45, 1]), new Float32Array([1e-40, 1]))).not.toBeNaN();
    }
  });
});

describe("memory and inputs", () => {
  it("inputs are never modified, also on error paths", () => {
    const p = Float32Array.from(dist(2, 7, 9));
    const q = Float32Array.from(positiveDist(2, 7, 10));
    const pa = Array.from(dist(1, 7, 11));
    const keep = [p.slice(), q.slice(), pa.slice()];
    for (const [, f] of pairFns(simd)) {
      f(p, q, { classes: 7 });
      f(pa, Array.from(q.subarray(0, 7)), {});
      expect(() => f(p, q, { classes: 7, base: 1 })).toThrow();
    }
    simd.relEntr(p, q);
    expect(() => simd.kl(p, [1])).toThrow();
    expect([p, q, pa]).toEqual(keep);
  });

  it("inputs at odd offsets inside a larger buffer", () => {
    const n = 37;
    const p = dist(1, n, 12);
    const q = positiveDist(1, n, 13);
    const want = simd.kl(p, q);
    for (const Ctor of [Float32Array, Float64Array]) {
      for (let off = 1; off <= 5; off++) {
        const bp = new Ctor(n + 8);
        const bq = new Ctor(n + 8);
        bp.set(p, off);
        bq.set(q, off);
        const got = simd.kl(bp.subarray(off, off + n), bq.subarray(off, off + n));
        expect(got).toBeCloseTo(want, Ctor === Float32Array ? 6 : 14);
        // The same inside wasm memory (zero copy at an unaligned element offset).
        const hp = simd.alloc(Ctor === Float32Array ? "float32" : "float64", n + 8);
        const hq = simd.alloc(Ctor === Float32Array ? "float32" : "float64", n + 8);
        hp.array.set(p, off);
        hq.array.set(q, off);
        expect(simd.kl(hp.array.subarray(off, off + n), hq.array.subarray(off, off + n))).toBe(got);
        hp.free();
        hq.free();
      }
    }
  });

  it("zero-copy WasmArray inputs give the copied results and stay valid after memory growth", () => {
    const k = createInstanceSync();
    const n = 1000;
    const p = dist(1, n, 14);
    const q = positiveDist(1, n, 15);
    const hp = k.alloc("float64", n);
    const hq = k.alloc("float64", n);
    hp.array.set(p);
    hq.array.set(q);
    const want = k.kl(p, q);
    expect(k.kl(hp, hq)).toBe(want);
    const before = k.backend().memoryBytes;
    const big = k.alloc("float64", 4_000_000); // grows memory, detaching old views
    expect(k.backend().memoryBytes).toBeGreaterThan(before);
    expect(hp.array.length).toBe(n);
    expect(Array.from(hp.array)).toEqual(Array.from(p));
    expect(k.kl(hp, hq)).toBe(want);
    expect(k.kl(hp.array, hq.array)).toBe(want);
    const out = k.alloc("float64", n);
    k.relEntr(hp, hq, out.array);
    expect(out.array[0]).toBe(k.relEntr(p, q)[0]);
    big.free();
    hp.free();
    hp.free(); // a second free is a no-op
    expect(() => k.kl(hp, hq)).toThrow(/freed/);
    expect(() => hp.array).toThrow(/freed/);
    // A handle of one instance is refused by another.
    expect(() => simd.kl(hq, hq)).toThrow(/belongs to a backend/);
    hq.free();
    out.free();
  });

  it("relEntr into a WasmArray hands back a live view when the call grows memory", () => {
    const k = createInstanceSync();
    const n = 200_000;
    const out = k.alloc("float64", n);
    const view = out.array;
    const p = dist(1, n, 20);
    const q = positiveDist(1, n, 21);
    const got = k.relEntr(p, q, view); // copying p and q grows the scratch space
    expect(view.length).toBe(0);
    expect(got.length).toBe(n);
    expect(got.buffer).toBe(out.array.buffer);
    expect(Array.from(got.subarray(0, 50))).toEqual(Array.from(k.relEntr(p, q).subarray(0, 50)));
    out.free();
  });

  it("100,000 calls leave wasm memory flat", () => {
    const k = createInstanceSync();
    const p = Float32Array.from(dist(1, 64, 16));
    const q = Float32Array.from(positiveDist(1, 64, 17));
    const pd = Array.from(dist(4, 8, 18));
    const qd = Array.from(positiveDist(4, 8, 19));
    k.kl(p, q);
    k.jsDistance(pd, qd, { classes: 8, reduction: "none" });
    k.relEntr(p, q);
    const before = k.backend().memoryBytes;
    let sink = 0;
    for (let i = 0; i < 100_000; i++) {
      sink += k.kl(p, q);
      if (i % 10 === 0) sink += k.jsDistance(pd, qd, { classes: 8, reduction: "none" })[0]!;
      if (i % 10 === 5) sink += k.relEntr(p, q)[0]!;
      if (i % 1000 === 0) expect(() => k.kl(p, [1])).toThrow();
    }
    expect(Number.isFinite(sink)).toBe(true);
    expect(k.backend().memoryBytes).toBe(before);
  });

  it("arrays of 2^26 elements work in bounded memory; an impossible request is a RangeError", () => {
    const k = createInstanceSync();
    const n = 2 ** 26;
    const p = new Float32Array(n).fill(1 / n);
    const q = new Float32Array(n);
    for (let i = 0; i < n; i++) q[i] = i % 2 ? 1.5 / n : 0.5 / n;
    // p uniform, q alternating 0.5/n and 1.5/n: KL = (ln 2 + ln(2/3)) / 2 exactly.
    const want = 0.5 * (Math.log(2) + Math.log(2 / 3));
    expect(k.kl(p, q)).toBeCloseTo(want, 6);
    expect(k.backend().memoryBytes).toBeLessThan(16 * 2 ** 20);
    const h = k.alloc("float64", n); // 512 MiB in wasm memory
    expect(h.array.length).toBe(n);
    h.free();
    expect(() => k.alloc("float64", 2 ** 28)).toThrow(RangeError);
    const held = [k.alloc("float64", 100_000_000), k.alloc("float64", 100_000_000)];
    expect(() => held.push(...Array.from({ length: 8 }, () => k.alloc("float64", 100_000_000)))).toThrow(
      /cannot allocate/,
    );
    for (const x of held) x.free();
    expect(k.kl(P, Q)).toBeCloseTo(jsKl(P, Q), 15);
    expect(() => k.alloc("float16" as never, 3)).toThrow(TypeError);
    expect(() => k.alloc("float32", -1)).toThrow(RangeError);
  });
});

describe("builds and loading", () => {
  it("the SIMD and scalar builds agree on every function, length and precision", () => {
    for (let n = 1; n <= 3 * 4 + 3; n++) {
      for (const rows of [1, 3]) {
        const p = dist(rows, n, 1000 + n);
        const q = positiveDist(rows, n, 2000 + n);
        for (const [a, b, tol] of [
          [p, q, 1e-14],
          [Float32Array.from(p), Float32Array.from(q), 2e-6],
        ] as const) {
          for (const [fname, f] of pairFns(simd)) {
            const g = pairFns(scalar).find(([x]) => x === fname)![1];
            const x = f(a, b, { classes: n, reduction: "none" }) as Float64Array;
            const y = g(a, b, { classes: n, reduction: "none" }) as Float64Array;
            for (let r = 0; r < rows; r++) {
              expect(Math.abs(x[r]! - y[r]!)).toBeLessThanOrEqual(tol * Math.abs(y[r]!) + 1e-7);
            }
          }
          const rx = simd.relEntr(a, b);
          const ry = scalar.relEntr(a, b);
          for (let i = 0; i < rx.length; i++) {
            expect(Math.abs(rx[i]! - ry[i]!)).toBeLessThanOrEqual(2 * tol * Math.abs(ry[i]!) + 1e-30);
          }
        }
      }
    }
  });

  it("init, initSync and backend: SIMD on Node, { simd: false } forces scalar, idempotent", async () => {
    expect(klcore.hasSimd()).toBe(true);
    expect(klcore.backend().simd).toBe(true);
    const a = await klcore.init();
    expect(a.simd).toBe(true);
    expect(a.build).toBe("simd");
    expect(a.memoryBytes).toBeGreaterThan(0);
    const h = klcore.alloc("float64", 3);
    h.array.set(P);
    expect(klcore.kl(h, Q)).toBeCloseTo(jsKl(P, Q), 15);
    expect(klcore.initSync()).toEqual(klcore.backend());
    expect(klcore.kl(h, Q)).toBeCloseTo(jsKl(P, Q), 15); // still the same instance
    expect((await klcore.init({ simd: false })).simd).toBe(false);
    expect(klcore.backend().build).toBe("scalar");
    expect(() => klcore.kl(h, Q)).toThrow(/belongs to a backend that was replaced/);
    expect(klcore.kl(P, Q)).toBeCloseTo(jsKl(P, Q), 15);
    expect(klcore.initSync({ simd: true }).simd).toBe(true);
  });
});
