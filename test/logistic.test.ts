// binaryCrossEntropyWithLogits: the golden fixtures (NumPy float64 references from
// test/fixtures/generate_losses.py), a float64 reference here, gradients against central finite
// differences, stability for large |z|, every error (the module usable after each), inputs never
// modified, gradient buffers, zero-copy inputs, and both builds agreeing at every vector tail.
import { describe, expect, it } from "vitest";
import * as klcore from "../dist/index.js";
import { createInstanceSync, type Klcore } from "../dist/index.js";
import { close, decodeF64, decodeScalar, lossCases, lossInput, rng } from "./helpers/fixtures.js";

const simd = createInstanceSync({ simd: true });
const scalar = createInstanceSync({ simd: false });
const builds: [string, Klcore][] = [
  ["simd", simd],
  ["scalar", scalar],
];

type Arr = Float32Array | Float64Array;
type Reduction = "none" | "sum" | "mean" | "batchmean";

/** Logits ~ N(0, 3) with a few large ones, targets hard or soft, weights in [0, 2). */
function inputs(n: number, seed: number, big = true): { z: Float64Array; y: Float64Array; w: Float64Array } {
  const r = rng(seed);
  const z = new Float64Array(n);
  const y = new Float64Array(n);
  const w = new Float64Array(n);
  const large = [-1e4, -300, -50, -20, 20, 50, 300, 1e4];
  for (let i = 0; i < n; i++) {
    const g = Math.sqrt(-2 * Math.log(r() + 1e-300)) * Math.cos(2 * Math.PI * r());
    z[i] = big && r() < 0.1 ? large[Math.floor(r() * large.length)]! : 3 * g;
    y[i] = r() < 0.4 ? (r() < 0.5 ? 0 : 1) : r();
    w[i] = 2 * r();
  }
  return { z, y, w };
}

/** float64 reference: per-row losses, the reduced loss and its gradient. */
function reference(
  y: ArrayLike<number>,
  z: ArrayLike<number>,
  w: ArrayLike<number> | null,
  cols: number,
  reduction: Reduction,
): { loss: number | Float64Array; grad: Float64Array } {
  const n = z.length;
  const rows = new Float64Array(n / cols);
  const grad = new Float64Array(n);
  const scale = reduction === "mean" || reduction === "batchmean" ? 1 / (n / cols) : 1;
  for (let i = 0; i < n; i++) {
    const zi = z[i]!;
    const yi = y[i]!;
    const wi = w ? w[i]! : 1;
    const az = Math.abs(zi);
    const t = zi >= 0 ? 1 - yi : yi;
    rows[Math.floor(i / cols)]! += wi * (az * t + Math.log1p(Math.exp(-az)));
    const e = Math.exp(-az);
    const sigmoid = zi >= 0 ? 1 / (1 + e) : e / (1 + e);
    grad[i] = wi * scale * (sigmoid - yi);
  }
  if (reduction === "none") return { loss: rows, grad };
  const sum = rows.reduce((a, b) => a + b, 0);
  return { loss: sum * scale, grad };
}

/** Largest |got - want| over the largest |want| (at least `floor`). */
function errorOfScale(got: ArrayLike<number>, want: ArrayLike<number>, floor = 1e-300): number {
  let scale = floor;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / scale);
  return got.length === want.length ? worst : Infinity;
}

function relErr(got: number | Float64Array, want: number | Float64Array): number {
  if (typeof got === "number" && typeof want === "number") return Math.abs(got - want) / Math.abs(want);
  const g = got as Float64Array;
  const w = want as Float64Array;
  let worst = g.length === w.length ? 0 : Infinity;
  for (let i = 0; i < w.length; i++) {
    const d = Math.abs(g[i]! - w[i]!);
    worst = Math.max(worst, w[i] === 0 ? (d === 0 ? 0 : Infinity) : d / Math.abs(w[i]!));
  }
  return worst;
}

const sumOf = (l: number | Float64Array): number =>
  typeof l === "number" ? l : l.reduce((a, b) => a + b, 0);

// ---------------------------------------------------------------------------------------------

const fixtureCases = lossCases("binaryCrossEntropyWithLogits");

describe("golden fixtures (losses.json, groups bce and edge)", () => {
  it("has the cases", () => {
    expect(fixtureCases.filter((c) => c.group === "bce").length).toBeGreaterThanOrEqual(39);
    expect(fixtureCases.filter((c) => c.group === "edge").length).toBeGreaterThan(0);
  });
  for (const [build, k] of builds) {
    it(`every case within tolerance (${build} build)`, () => {
      const failures: string[] = [];
      for (const c of fixtureCases) {
        const f64 = c.dtype === "float64";
        const arr = (key: string): Arr => lossInput(c, key);
        const options: Record<string, unknown> = { ...c.options, grad: true };
        if (c.inputs.weights) options.weights = arr("weights");
        const r = k.binaryCrossEntropyWithLogits(arr("target"), arr("logits"), options);
        // Loss: 1e-11 relative in float64, 3e-5 in float32 (reference on the float32-rounded inputs).
        const rel = f64 ? 1e-11 : 3e-5;
        const abs = f64 ? 1e-300 : 1e-30;
        if (c.expected.lossShape === "array") {
          const want = decodeF64(c.expected.loss as string);
          const got = r.loss as unknown as Float64Array;
          want.forEach((w, i) => {
            if (!close(got[i]!, w, rel, abs)) failures.push(`${c.name}: loss[${i}] ${got[i]} want ${w}`);
          });
        } else {
          const want = decodeScalar(c.expected.loss!);
          if (!close(r.loss, want, rel, abs)) failures.push(`${c.name}: loss ${r.loss} want ${want}`);
        }
        // Gradient: within 1e-12 (float64) or 2e-6 (float32) of its largest element. The
        // reference computes expit(z) - y, which itself carries ~1e-16 absolute.
        if (c.expected.grad) {
          const err = errorOfScale(r.grad!, decodeF64(c.expected.grad as string));
          if (!(err <= (f64 ? 1e-12 : 2e-6))) failures.push(`${c.name}: grad error ${err} of its scale`);
        }
      }
      expect(failures).toEqual([]);
    });
  }
});

// ---------------------------------------------------------------------------------------------

describe("values", () => {
  it("matches the float64 reference for every reduction, with and without weights", () => {
    for (const [, k] of builds) {
      for (const [n, cols] of [
        [1, 1],
        [37, 1],
        [36, 3],
        [300, 100],
        [1000, 1],
      ] as const) {
        const { z, y, w } = inputs(n, n + cols);
        for (const reduction of ["none", "sum", "mean", "batchmean"] as const) {
          for (const weights of [null, w]) {
            const want = reference(y, z, weights, cols, reduction);
            const o = { classes: cols, reduction, grad: true, ...(weights ? { weights } : {}) };
            const got = k.binaryCrossEntropyWithLogits(y, z, o);
            expect(relErr(got.loss, want.loss), `${n}x${cols} ${reduction}`).toBeLessThanOrEqual(1e-13);
            expect(errorOfScale(got.grad!, want.grad)).toBeLessThanOrEqual(1e-14);
            // float32: the same inputs rounded, against the reference on the rounded values.
            const [y32, z32, w32] = [y, z, weights].map((a) => (a ? Float32Array.from(a) : null));
            const want32 = reference(y32!, z32!, w32 ?? null, cols, reduction);
            const o32 = { classes: cols, reduction, grad: true, ...(w32 ? { weights: w32 } : {}) };
            const got32 = k.binaryCrossEntropyWithLogits(y32!, z32!, o32);
            expect(relErr(got32.loss, want32.loss)).toBeLessThanOrEqual(3e-6);
            expect(got32.grad).toBeInstanceOf(Float32Array);
            expect(errorOfScale(got32.grad!, want32.grad)).toBeLessThanOrEqual(1e-6);
          }
        }
      }
    }
  });

  it("defaults: classes 1 (PyTorch's per-element mean), reduction 'mean'; 'batchmean' is 'mean'", () => {
    const { z, y } = inputs(12, 5);
    const perElement = reference(y, z, null, 1, "mean").loss as number;
    expect(simd.binaryCrossEntropyWithLogits(y, z).loss).toBeCloseTo(perElement, 14);
    expect(simd.binaryCrossEntropyWithLogits(y, z, { reduction: "batchmean" }).loss).toBe(
      simd.binaryCrossEntropyWithLogits(y, z).loss,
    );
    // One row of 12: the row's sum; 3 rows of 4: the mean of three row sums.
    const total = reference(y, z, null, 1, "sum").loss as number;
    expect(simd.binaryCrossEntropyWithLogits(y, z, { classes: 12 }).loss).toBeCloseTo(total, 12);
    expect(simd.binaryCrossEntropyWithLogits(y, z, { classes: 4 }).loss).toBeCloseTo(total / 3, 12);
    expect(simd.binaryCrossEntropyWithLogits(y, z, { reduction: "none" }).loss).toHaveLength(12);
    expect(simd.binaryCrossEntropyWithLogits(y, z).grad).toBeUndefined();
    // The top-level function uses the default instance.
    expect(klcore.binaryCrossEntropyWithLogits(y, z).loss).toBe(simd.binaryCrossEntropyWithLogits(y, z).loss);
  });

  it("z = 0 gives ln 2 for any target; weights 0 give 0", () => {
    for (const [, k] of builds) {
      const r = k.binaryCrossEntropyWithLogits([0, 0.5, 1, 0.25], [0, 0, 0, 0], {
        reduction: "none",
        grad: true,
      });
      expect(Array.from(r.loss)).toEqual([Math.LN2, Math.LN2, Math.LN2, Math.LN2]);
      expect(Array.from(r.grad!)).toEqual([0.5, 0, -0.5, 0.25]);
      const w = k.binaryCrossEntropyWithLogits([0, 1], [3, -7], { weights: [0, 0], grad: true });
      expect(w.loss).toBe(0);
      expect(Array.from(w.grad!, Math.abs)).toEqual([0, 0]);
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe("stability", () => {
  it("keeps the loss of a confident right answer: z = 20, y = 1 gives log1p(e^-20) = 2.06e-9", () => {
    const want = Math.log1p(Math.exp(-20)); // 2.0611536203143812e-9
    const slope = Math.exp(-20) / (1 + Math.exp(-20)); // 1 - sigmoid(20) = 2.0611536181902033e-9
    // What log(1 + exp(-z)) gives in float32: 1 + 2e-9 rounds to 1.
    expect(Math.log(Math.fround(1 + Math.fround(Math.exp(-20))))).toBe(0);
    for (const [, k] of builds) {
      for (const n of [1, 4, 5, 130]) {
        const z = new Float64Array(n).fill(20);
        const y = new Float64Array(n).fill(1);
        const r = k.binaryCrossEntropyWithLogits(y, z, { reduction: "none", grad: true });
        for (const v of r.loss) expect(Math.abs(v - want) / want).toBeLessThanOrEqual(4e-16);
        for (const g of r.grad!) expect(Math.abs(g + slope) / slope).toBeLessThanOrEqual(4e-16);
        const r32 = k.binaryCrossEntropyWithLogits(Float32Array.from(y), Float32Array.from(z), {
          reduction: "none",
          grad: true,
        });
        // float32: log1pf4(expf4(-20)) is within 6 ulp.
        for (const v of r32.loss) expect(Math.abs(v - want) / want).toBeLessThanOrEqual(1e-6);
        for (const g of r32.grad!) expect(Math.abs(g + slope) / slope).toBeLessThanOrEqual(1e-6);
        // The mirrored case.
        expect(
          k.binaryCrossEntropyWithLogits(
            y.map(() => 0),
            z.map((v) => -v),
          ).loss,
        ).toBeCloseTo(want, 22);
      }
    }
  });

  it("logits 1e4 apart: exact hard-target values, finite soft ones, never NaN or Infinity", () => {
    const z = [1e4, -1e4, 1e4, -1e4, 1e4, -1e4, 5e3, -5e3, 88, -88, 90, -100, 700, -709, 710, 1e4];
    const y = [1, 0, 0, 1, 0.5, 0.5, 0.25, 0.75, 1, 0, 1, 0, 1, 0, 1, 0.1];
    const want = reference(y, z, null, 1, "none");
    for (const [, k] of builds) {
      for (const T of [Float32Array, Float64Array]) {
        const r = k.binaryCrossEntropyWithLogits(new T(y), new T(z), { reduction: "none", grad: true });
        const loss = r.loss;
        expect(loss[0]).toBe(0);
        expect(loss[1]).toBe(0);
        expect(loss[2]).toBe(1e4);
        expect(loss[3]).toBe(1e4);
        expect(loss[4]).toBe(5e3);
        for (let i = 0; i < z.length; i++) {
          expect(Number.isFinite(loss[i]!)).toBe(true);
          // Beyond the fast domain the exact code runs in float64: subnormal e^-|z| kept.
          expect(close(loss[i]!, (want.loss as Float64Array)[i]!, T === Float32Array ? 3e-6 : 1e-15, 0)).toBe(
            true,
          );
          expect(Math.abs(r.grad![i]! - want.grad[i]!)).toBeLessThanOrEqual(
            T === Float32Array ? 1e-7 : 1e-16,
          );
        }
      }
    }
    // e^-100 = 3.7e-44 is a float32 subnormal: computed in float64, it is still the loss.
    expect(simd.binaryCrossEntropyWithLogits(new Float32Array([1]), new Float32Array([100])).loss).toBe(
      Math.exp(-100),
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe("gradients against central finite differences (float64, fixed seed)", () => {
  // Forward and gradient checked separately: the forward against the reference above, the gradient
  // here against (f(z + h) - f(z - h)) / 2h of the library's own loss.
  for (const reduction of ["none", "sum", "mean"] as const) {
    for (const weighted of [false, true]) {
      it(`reduction ${reduction}${weighted ? ", weighted" : ""}`, () => {
        for (const [, k] of builds) {
          for (const [n, cols] of [
            [7, 1],
            [12, 3],
            [33, 11],
          ] as const) {
            const { z, y, w } = inputs(n, 100 * n + cols, false);
            const o = { classes: cols, reduction, ...(weighted ? { weights: w } : {}) };
            const g = k.binaryCrossEntropyWithLogits(y, z, { ...o, grad: true }).grad!;
            const f = (zz: Float64Array): number => sumOf(k.binaryCrossEntropyWithLogits(y, zz, o).loss);
            for (let i = 0; i < n; i++) {
              const h = 1e-5 * Math.max(1, Math.abs(z[i]!));
              const zp = z.slice();
              const zm = z.slice();
              zp[i]! += h;
              zm[i]! -= h;
              const fd = (f(zp) - f(zm)) / (zp[i]! - zm[i]!);
              expect(Math.abs(fd - g[i]!), `${n}x${cols} i=${i}`).toBeLessThanOrEqual(
                1e-8 + 1e-7 * Math.abs(fd),
              );
            }
          }
        }
      });
    }
  }
});

// ---------------------------------------------------------------------------------------------

describe("errors", () => {
  const Y = [0.2, 1, 0];
  const Z = [0.5, -1, 3];

  // After every error the module still computes the right value.
  const stillWorks = (k: Klcore) =>
    expect(k.binaryCrossEntropyWithLogits(Y, Z).loss).toBeCloseTo(
      reference(Y, Z, null, 1, "mean").loss as number,
      14,
    );

  for (const [build, k] of builds) {
    it(`options and inputs (${build} build)`, () => {
      const f = (y: unknown, z: unknown, o?: unknown) => () =>
        k.binaryCrossEntropyWithLogits(y as never, z as never, o as never);
      const cases: [
        () => unknown,
        ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor,
        RegExp,
      ][] = [
        [f(Y, Z, { reduce: "sum" }), TypeError, /binaryCrossEntropyWithLogits: unknown option 'reduce'/],
        [f(Y, Z, { reduction: "avg" }), RangeError, /reduction must be one of/],
        [
          f(Y, Z, { classes: 0 }),
          RangeError,
          /classes must be a positive integer dividing the length 3; got 0/,
        ],
        [f(Y, Z, { classes: 2 }), RangeError, /classes must be a positive integer/],
        [f(Y, Z, { classes: 1.5 }), RangeError, /classes must be/],
        [f(Y, Z, { classes: "3" }), TypeError, /classes must be a number/],
        [f(Y, Z, { validate: 1 }), TypeError, /validate must be a boolean/],
        [f(Y, Z, 5), TypeError, /options must be an object/],
        [f("abc", Z), TypeError, /target must be a Float32Array/],
        [f(Y, new Int32Array(3)), TypeError, /logits must be a Float32Array/],
        [f(Y, [0.5, "1", 3]), TypeError, /logits\[1\] must be a number; got "1"/],
        [f(new Float32Array(Y), Z), TypeError, /target and logits must have the same precision/],
        [f(Y, [1, 2]), RangeError, /target and logits must have the same length; got 3 and 2/],
        [f([], []), RangeError, /logits must not be empty/],
        [
          f([0.2, 1.5, 0], Z),
          RangeError,
          /target\[1\] \(row 1\) must be a probability in \[0, 1\]; got 1\.5/,
        ],
        [f([0.2, -0.1, 0], Z), RangeError, /target\[1\] .* got -0\.1/],
        [f([0.2, NaN, 0], Z), RangeError, /target\[1\] .* got NaN/],
        [f(Y, [0.5, NaN, 3]), RangeError, /logits\[1\] \(row 1\) must be finite; got NaN/],
        [f(Y, [0.5, -1, Infinity]), RangeError, /logits\[2\] \(row 2\) must be finite; got Infinity/],
        [f(Y, [-Infinity, -1, 3], { classes: 3 }), RangeError, /logits\[0\] \(row 0\) .* -Infinity/],
        [f(Y, Z, { weights: [1, -1, 1] }), RangeError, /weights\[1\] must be finite and >= 0; got -1/],
        [f(Y, Z, { weights: [1, 1, NaN] }), RangeError, /weights\[2\] .* got NaN/],
        [f(Y, Z, { weights: [1, Infinity, 1] }), RangeError, /weights\[1\] .* got Infinity/],
        [
          f(Y, Z, { weights: [1, 1] }),
          RangeError,
          /weights and logits must have the same length; got 2 and 3/,
        ],
        [
          f(new Float32Array(Y), new Float32Array(Z), { weights: new Float64Array(3) }),
          TypeError,
          /precision/,
        ],
        [f(Y, Z, { weights: "1" }), TypeError, /weights must be a Float32Array/],
        [f(Y, Z, { grad: "yes" }), TypeError, /grad must be true, false, or a Float32Array/],
        [f(Y, Z, { grad: new Float32Array(3) }), TypeError, /grad must be a Float64Array; got Float32Array/],
        [f(Y, Z, { grad: new Float64Array(2) }), RangeError, /grad is too small: needs 3 elements, has 2/],
      ];
      for (const [call, type, message] of cases) {
        expect(call).toThrow(type);
        expect(call).toThrow(message);
        stillWorks(k);
      }
      // A bad element far into a long input (a later chunk, inside a SIMD block) is found and named.
      const { z, y } = inputs(100_003, 7, false);
      z[77_777] = NaN;
      expect(f(y, z)).toThrow(/logits\[77777\] \(row 77777\) must be finite; got NaN/);
      expect(f(y, z, { classes: 100_003 })).toThrow(/logits\[77777\] \(row 0\)/);
      y[5] = 2;
      expect(f(y, z)).toThrow(/target\[5\]/);
      stillWorks(k);
    });
  }

  it("validate: false computes the formula for any input, without checks", () => {
    for (const [, k] of builds) {
      // y = 2 is no probability; the formula still has a value: max(z,0) - z y + log1p(e^-|z|).
      const v = k.binaryCrossEntropyWithLogits([2], [1], { validate: false }).loss;
      expect(v).toBeCloseTo(1 - 2 + Math.log1p(Math.exp(-1)), 14);
      expect(k.binaryCrossEntropyWithLogits([0.5], [NaN], { validate: false }).loss).toBeNaN();
      // Infinite logits take their limits: 0 for the right hard target, +Infinity otherwise.
      const r = k.binaryCrossEntropyWithLogits([1, 0, 0.5], [Infinity, -Infinity, Infinity], {
        validate: false,
        reduction: "none",
        grad: true,
      });
      expect(Array.from(r.loss)).toEqual([0, 0, Infinity]);
      expect(Array.from(r.grad!)).toEqual([0, 0, 0.5]);
      stillWorks(k);
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe("memory, inputs and outputs", () => {
  it("inputs are never modified, also on error paths", () => {
    const { z, y, w } = inputs(41, 9);
    const arrays = [z, y, w, Float32Array.from(z), Float32Array.from(y), Float32Array.from(w)];
    const keep = arrays.map((a) => a.slice());
    for (const [, k] of builds) {
      k.binaryCrossEntropyWithLogits(y, z, { weights: w, grad: true, reduction: "none" });
      k.binaryCrossEntropyWithLogits(arrays[4]!, arrays[3]!, { weights: arrays[5]!, grad: true });
      expect(() => k.binaryCrossEntropyWithLogits(y, z, { weights: w, classes: 2 })).toThrow();
      expect(() => k.binaryCrossEntropyWithLogits(y, z, { grad: new Float64Array(3) })).toThrow();
    }
    expect(arrays).toEqual(keep);
  });

  it("grad output buffers: filled in place and returned; the elements past the input untouched", () => {
    const { z, y } = inputs(9, 10);
    const want = simd.binaryCrossEntropyWithLogits(y, z, { grad: true }).grad!;
    const out = new Float64Array(12).fill(7);
    const r = simd.binaryCrossEntropyWithLogits(y, z, { grad: out });
    expect(r.grad).toBe(out);
    expect(Array.from(out.subarray(0, 9))).toEqual(Array.from(want));
    expect(Array.from(out.subarray(9))).toEqual([7, 7, 7]);
    const out32 = new Float32Array(9);
    expect(
      simd.binaryCrossEntropyWithLogits(Float32Array.from(y), Float32Array.from(z), { grad: out32 }).grad,
    ).toBe(out32);
    expect(simd.binaryCrossEntropyWithLogits(y, z, { grad: false }).grad).toBeUndefined();
  });

  it("odd offsets inside a larger buffer, in JS memory and in wasm memory, give the same values", () => {
    const n = 37;
    const { z, y, w } = inputs(n, 11);
    for (const [dtype, Ctor] of [
      ["float32", Float32Array],
      ["float64", Float64Array],
    ] as const) {
      const want = simd.binaryCrossEntropyWithLogits(new Ctor(y), new Ctor(z), {
        weights: new Ctor(w),
        grad: true,
        reduction: "none",
      });
      for (let off = 1; off <= 5; off++) {
        const views = [y, z, w].map((a) => {
          const b = new Ctor(n + 8);
          b.set(a, off);
          return b.subarray(off, off + n);
        });
        const got = simd.binaryCrossEntropyWithLogits(views[0]!, views[1]!, {
          weights: views[2]!,
          grad: true,
          reduction: "none",
        });
        expect(Array.from(got.loss)).toEqual(Array.from(want.loss));
        expect(Array.from(got.grad!)).toEqual(Array.from(want.grad!));
        // Zero copy: the same inside wasm memory, gradient written in place.
        const handles = [y, z, w, z].map((a) => {
          const h = simd.alloc(dtype, n + 8);
          h.array.set(a, off);
          return h;
        });
        const [hy, hz, hw, hg] = handles.map((h) => h.array.subarray(off, off + n));
        const inWasm = simd.binaryCrossEntropyWithLogits(hy!, hz!, {
          weights: hw!,
          grad: hg!,
          reduction: "none",
        });
        expect(Array.from(inWasm.loss)).toEqual(Array.from(want.loss));
        expect(Array.from(handles[3]!.array.subarray(off, off + n))).toEqual(Array.from(want.grad!));
        for (const h of handles) h.free();
      }
    }
  });

  it("a gradient buffer that is also an input is still right (written through scratch)", () => {
    const { z, y } = inputs(64, 12);
    z[10] = 1e4; // a block redone by the scalar code reads its inputs again
    const want = simd.binaryCrossEntropyWithLogits(y, z, { grad: true });
    const h = simd.alloc("float64", 64);
    h.array.set(z);
    const r = simd.binaryCrossEntropyWithLogits(y, h, { grad: h.array });
    expect(r.loss).toBe(want.loss);
    expect(Array.from(h.array)).toEqual(Array.from(want.grad!));
    h.free();
  });

  it("WasmArray inputs, in-place gradients, views live after memory growth, flat memory over 20,000 calls", () => {
    const k = createInstanceSync();
    const n = 1000;
    const { z, y } = inputs(n, 13, false);
    const hz = k.alloc("float64", n);
    const hy = k.alloc("float64", n);
    const hg = k.alloc("float64", n);
    hz.array.set(z);
    hy.array.set(y);
    const view = hg.array;
    const before = k.backend().memoryBytes;
    // A fresh instance's first call takes scratch for per-row terms: memory grows, detaching `view`.
    const r = k.binaryCrossEntropyWithLogits(hy, hz, { grad: view, reduction: "none" });
    expect(k.backend().memoryBytes).toBeGreaterThan(before);
    expect(view.length).toBe(0);
    expect(r.grad!.length).toBe(n);
    expect(r.grad!.buffer).toBe(hg.array.buffer);
    // Read before the next call, which may grow memory again (views are valid until then).
    const got = Array.from(r.grad!);
    const want = k.binaryCrossEntropyWithLogits(y, z, { grad: true, reduction: "none" });
    expect(got).toEqual(Array.from(want.grad!));
    expect(Array.from(hg.array)).toEqual(Array.from(want.grad!));
    expect(Array.from(r.loss)).toEqual(Array.from(want.loss));

    const small = [k.alloc("float32", 256), k.alloc("float32", 256), k.alloc("float32", 256)];
    small[0]!.array.set(Float32Array.from(y.subarray(0, 256)));
    small[1]!.array.set(Float32Array.from(z.subarray(0, 256)));
    k.binaryCrossEntropyWithLogits(small[0]!, small[1]!, { grad: small[2]!.array });
    const flat = k.backend().memoryBytes;
    let sink = 0;
    for (let i = 0; i < 20_000; i++) {
      sink += k.binaryCrossEntropyWithLogits(small[0]!, small[1]!, { grad: small[2]!.array }).loss;
      if (i % 1000 === 0) expect(() => k.binaryCrossEntropyWithLogits(small[0]!, [1])).toThrow();
    }
    expect(Number.isFinite(sink)).toBe(true);
    expect(k.backend().memoryBytes).toBe(flat);
    for (const h of [hz, hy, hg, ...small]) h.free();
    expect(() => k.binaryCrossEntropyWithLogits(hy, hz)).toThrow(/freed/);
  });

  it("inputs longer than a chunk: many rows, and rows longer than a chunk, in pieces", () => {
    const n = 100_003;
    const { z, y, w } = inputs(n, 14);
    for (const [cols, reduction] of [
      [1, "mean"],
      [1, "none"],
      [n, "none"],
      [n, "sum"],
    ] as const) {
      const want = reference(y, z, w, cols, reduction);
      const got = simd.binaryCrossEntropyWithLogits(y, z, {
        weights: w,
        classes: cols,
        reduction,
        grad: true,
      });
      expect(relErr(got.loss, want.loss)).toBeLessThanOrEqual(1e-12);
      expect(errorOfScale(got.grad!, want.grad)).toBeLessThanOrEqual(1e-14);
    }
    // Two rows of 60,000 ('none' sums each row over several chunks).
    const { z: z2, y: y2 } = inputs(120_000, 15);
    const rows = simd.binaryCrossEntropyWithLogits(y2, z2, { classes: 60_000, reduction: "none" }).loss;
    expect(relErr(rows, reference(y2, z2, null, 60_000, "none").loss)).toBeLessThanOrEqual(1e-12);
  });
});

// ---------------------------------------------------------------------------------------------

describe("builds", () => {
  it("SIMD and scalar agree at every length 1..15 and around the block size, both precisions", () => {
    for (const n of [...Array.from({ length: 15 }, (_, i) => i + 1), 127, 128, 129, 131, 257]) {
      const { z, y, w } = inputs(n, 1000 + n);
      for (const T of [Float64Array, Float32Array]) {
        for (const weights of [undefined, new T(w)]) {
          for (const reduction of ["none", "sum", "mean"] as const) {
            const o = { weights, reduction, grad: true };
            const a = simd.binaryCrossEntropyWithLogits(new T(y), new T(z), o);
            const b = scalar.binaryCrossEntropyWithLogits(new T(y), new T(z), o);
            // The scalar build computes float32 inputs in float64: they differ by float32 rounding.
            const tol = T === Float64Array ? 1e-14 : 3e-6;
            expect(relErr(a.loss, b.loss), `n=${n} ${reduction}`).toBeLessThanOrEqual(tol);
            expect(errorOfScale(a.grad!, b.grad!)).toBeLessThanOrEqual(T === Float64Array ? 1e-15 : 1e-6);
          }
        }
      }
    }
  });
});
