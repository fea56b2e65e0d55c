// MSE, L1 and Jensen-Shannon between probability targets and softmax(logits / T): values against a
// plain float64 JS reference, every gradient against central finite differences, float32 against
// float64, both builds agreeing, output buffers and errors. The method is internal (stripped from
// the published types), so the tests reach it through a local interface.
import { describe, expect, it } from "vitest";
import { createInstanceSync, type Klcore } from "../dist/index.js";
import { rng } from "./helpers/fixtures.js";

type Kind = "mse" | "l1" | "js";
type Reduction = "none" | "sum" | "mean" | "batchmean";

interface Options {
  classes: number;
  reduction?: Reduction;
  temperature?: number;
  grad?: boolean | Float32Array | Float64Array;
  validate?: boolean;
}

interface Internal {
  probabilityLossWithLogits(
    kind: Kind,
    target: Float32Array | Float64Array,
    logits: Float32Array | Float64Array,
    options: Options,
  ): { loss: number | Float64Array; grad?: Float32Array | Float64Array };
}

const simd = createInstanceSync({ simd: true });
const scalar = createInstanceSync({ simd: false });
const api = (k: Klcore): Internal => k as unknown as Internal;
const KINDS: Kind[] = ["mse", "l1", "js"];
const REDUCTIONS: Reduction[] = ["none", "sum", "mean", "batchmean"];

const logits = (rows: number, c: number, seed: number, spread = 3): Float64Array => {
  const r = rng(seed);
  return Float64Array.from({ length: rows * c }, () => (r() - 0.5) * 2 * spread);
};

/** Probability rows with some exact zeros. */
const probs = (rows: number, c: number, seed: number): Float64Array => {
  const r = rng(seed);
  const out = new Float64Array(rows * c);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < c; j++) s += out[i * c + j] = r() < 0.25 ? 0 : r();
    if (s === 0) s = out[i * c] = 1;
    for (let j = 0; j < c; j++) out[i * c + j] = out[i * c + j]! / s;
  }
  return out;
};

const softmaxRef = (row: ArrayLike<number>, invT: number): number[] => {
  const z = Array.from(row, (v) => v * invT);
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, v) => a + v, 0);
  return e.map((v) => v / s);
};

/** Per-row losses in plain float64 JS: summed over classes. */
function perRowRef(kind: Kind, t: ArrayLike<number>, z: ArrayLike<number>, c: number, T = 1): number[] {
  const rows = z.length / c;
  const out: number[] = [];
  for (let i = 0; i < rows; i++) {
    const q = softmaxRef(
      Array.from({ length: c }, (_, j) => z[i * c + j]!),
      1 / T,
    );
    let l = 0;
    for (let j = 0; j < c; j++) {
      const tj = t[i * c + j]!;
      const qj = q[j]!;
      if (kind === "mse") l += (qj - tj) ** 2;
      else if (kind === "l1") l += Math.abs(qj - tj);
      else {
        const m = (tj + qj) / 2;
        if (tj > 0) l += (tj * Math.log(tj / m)) / 2;
        if (qj > 0) l += (qj * Math.log(qj / m)) / 2;
      }
    }
    out.push(l);
  }
  return out;
}

function ref(kind: Kind, t: ArrayLike<number>, z: ArrayLike<number>, o: Options): number | number[] {
  const per = perRowRef(kind, t, z, o.classes, o.temperature);
  const total = per.reduce((a, b) => a + b, 0);
  if (o.reduction === "none") return per;
  if (o.reduction === "sum") return total;
  return total / per.length;
}

/** Central finite differences of a scalar function of the logits, in float64. */
function numericGrad(f: (z: Float64Array) => number, z: Float64Array, h = 1e-6): Float64Array {
  const g = new Float64Array(z.length);
  for (let i = 0; i < z.length; i++) {
    const zp = z.slice();
    const zm = z.slice();
    zp[i] = zp[i]! + h;
    zm[i] = zm[i]! - h;
    g[i] = (f(zp) - f(zm)) / (2 * h);
  }
  return g;
}

const total = (l: number | number[] | Float64Array): number =>
  typeof l === "number" ? l : Array.from(l).reduce((a, b) => a + b, 0);

/** Every element within `tol` of the reference, relative to the largest reference magnitude. */
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, floor = 1e-3): void {
  expect(got.length).toBe(want.length);
  let scale = floor;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / scale);
  expect(worst).toBeLessThanOrEqual(tol);
}

const asArray = (l: number | Float64Array): number[] => (typeof l === "number" ? [l] : Array.from(l));

describe("probabilityLossWithLogits: mse, l1, js", () => {
  it("match a float64 reference for class counts 1..15 and 1000, with temperature, in both builds", () => {
    for (const k of [simd, scalar]) {
      for (const c of [...Array.from({ length: 15 }, (_, i) => i + 1), 1000]) {
        const z = logits(3, c, c, 4);
        const t = probs(3, c, c + 100);
        for (const kind of KINDS) {
          for (const temperature of [1, 0.5, 3]) {
            const o: Options = { classes: c, temperature, reduction: "none" };
            const got = api(k).probabilityLossWithLogits(kind, t, z, o).loss as Float64Array;
            expectClose(got, ref(kind, t, z, o) as number[], 1e-12, 1e-12);
          }
        }
      }
    }
  });

  it("known values: equal distributions give 0; js is ln 2 for disjoint supports; one class has gradient 0", () => {
    // softmax([0, 0]) = [0.5, 0.5]
    const z = new Float64Array([0, 0]);
    for (const kind of KINDS) {
      expect(
        api(simd).probabilityLossWithLogits(kind, new Float64Array([0.5, 0.5]), z, { classes: 2 }).loss,
      ).toBe(0);
    }
    // q = [1, 0] to float64 precision against t = [0, 1]: mse 2, l1 2, js ln 2.
    const far = new Float64Array([0, -1000]);
    const t = new Float64Array([0, 1]);
    const loss = (kind: Kind) => api(simd).probabilityLossWithLogits(kind, t, far, { classes: 2 }).loss;
    expect(loss("mse")).toBeCloseTo(2, 14);
    expect(loss("l1")).toBeCloseTo(2, 14);
    expect(loss("js")).toBeCloseTo(Math.LN2, 14);
    for (const k of [simd, scalar]) {
      for (const kind of KINDS) {
        for (const make of [Float64Array, Float32Array]) {
          const r = api(k).probabilityLossWithLogits(kind, make.from([0.3, 1]), make.from([2, -1]), {
            classes: 1,
            grad: true,
            reduction: "none",
          });
          expect(Array.from(r.grad!)).toEqual([0, 0]);
          expect(Array.from(r.loss as Float64Array)).toEqual(
            (perRowRef(kind, [0.3, 1], [2, -1], 1) as number[]).map((v) => expect.closeTo(v, 6)),
          );
        }
      }
    }
  });

  it("gradients match central finite differences in float64, for each kind, reduction and temperature", () => {
    for (const k of [simd, scalar]) {
      for (const kind of KINDS) {
        for (const c of [1, 2, 3, 5, 8, 17]) {
          const z = logits(3, c, 7 * c + 1, 2);
          const t = probs(3, c, 11 * c);
          for (const reduction of REDUCTIONS) {
            for (const temperature of [1, 2.5, 0.7]) {
              const o: Options = { classes: c, reduction, temperature };
              const r = api(k).probabilityLossWithLogits(kind, t, z, { ...o, grad: true });
              expect(total(r.loss)).toBeCloseTo(total(ref(kind, t, z, o)), 12);
              const num = numericGrad((zz) => total(ref(kind, t, zz, o)), z);
              expectClose(r.grad!, num, 2e-6);
            }
          }
        }
      }
    }
  });

  it("the reductions: sum of rows, mean over rows (not classes), batchmean = mean; gradients scale with them", () => {
    const c = 6;
    const rows = 5;
    const z = logits(rows, c, 3);
    const t = probs(rows, c, 4);
    for (const kind of KINDS) {
      const f = (reduction: Reduction) =>
        api(simd).probabilityLossWithLogits(kind, t, z, { classes: c, reduction, grad: true });
      const none = f("none");
      const sum = f("sum");
      const mean = f("mean");
      const batch = f("batchmean");
      const dflt = api(simd).probabilityLossWithLogits(kind, t, z, { classes: c, grad: true });
      expect(sum.loss).toBeCloseTo(total(none.loss), 14);
      expect(mean.loss).toBeCloseTo((sum.loss as number) / rows, 14);
      expect(batch.loss).toBe(mean.loss);
      expect(dflt.loss).toBe(mean.loss);
      expect(Array.from(none.grad!)).toEqual(Array.from(sum.grad!));
      expectClose(
        mean.grad!,
        Array.from(sum.grad!, (v) => v / rows),
        1e-15,
      );
      expect(Array.from(batch.grad!)).toEqual(Array.from(mean.grad!));
    }
  });

  it("-Infinity logits (q = 0) never give NaN: 0 ln 0 = 0 in js, gradient 0 there", () => {
    const z = new Float64Array([1, -Infinity, 0, -Infinity, 2, 0.5, -1, -Infinity]);
    const t = new Float64Array([0.5, 0, 0.5, 0.2, 0.3, 0.1, 0.4, 0]);
    for (const k of [simd, scalar]) {
      for (const make of [Float64Array, Float32Array]) {
        for (const kind of KINDS) {
          const o: Options = { classes: 4, reduction: "none" };
          const r = api(k).probabilityLossWithLogits(kind, make.from(t), make.from(z), { ...o, grad: true });
          expectClose(r.loss as Float64Array, ref(kind, t, z, o) as number[], 1e-6);
          expect(Array.from(r.grad!).every(Number.isFinite)).toBe(true);
          expect([r.grad![1]!, r.grad![3]!, r.grad![7]!].map(Math.abs)).toEqual([0, 0, 0]);
        }
      }
    }
  });

  it("float32 matches float64 within 3e-5 for class counts 1..15, 100, 1000, 1e5 and 1e6", () => {
    for (const k of [simd, scalar]) {
      for (const c of [...Array.from({ length: 15 }, (_, i) => i + 1), 100, 1000, 1e5, 1e6]) {
        // Long rows: their float32 sums run over blocks, whatever the row's length.
        const rows = c > 1000 ? 1 : 4;
        const z32 = Float32Array.from(logits(rows, c, c + 5, 4));
        const t32 = Float32Array.from(probs(rows, c, c + 9));
        const z64 = Float64Array.from(z32);
        const t64 = Float64Array.from(t32);
        for (const kind of KINDS) {
          for (const temperature of [1, 1.7]) {
            const o: Options = { classes: c, temperature, reduction: "none", grad: true };
            const a = api(k).probabilityLossWithLogits(kind, t32, z32, o);
            const b = api(k).probabilityLossWithLogits(kind, t64, z64, o);
            expect(a.grad).toBeInstanceOf(Float32Array);
            const la = a.loss as Float64Array;
            const lb = b.loss as Float64Array;
            for (let i = 0; i < rows; i++) {
              expect(Math.abs(la[i]! - lb[i]!)).toBeLessThanOrEqual(3e-5 * Math.max(Math.abs(lb[i]!), 1e-3));
            }
            expectClose(a.grad!, b.grad!, 3e-5);
          }
        }
      }
    }
  });

  it("SIMD and scalar builds agree on larger shapes, in both precisions", () => {
    for (const c of [3, 10, 33, 1000]) {
      const rows = 37;
      const z = logits(rows, c, c, 5);
      const t = probs(rows, c, c + 1);
      for (const kind of KINDS) {
        const o: Options = { classes: c, reduction: "none", grad: true, temperature: 1.3 };
        const a = api(simd).probabilityLossWithLogits(kind, t, z, o);
        const b = api(scalar).probabilityLossWithLogits(kind, t, z, o);
        expectClose(a.loss as Float64Array, b.loss as Float64Array, 1e-13, 1e-12);
        expectClose(a.grad!, b.grad!, 1e-13);
        const z32 = Float32Array.from(z);
        const t32 = Float32Array.from(t);
        const a32 = api(simd).probabilityLossWithLogits(kind, t32, z32, o);
        const b32 = api(scalar).probabilityLossWithLogits(kind, t32, z32, o);
        expectClose(a32.loss as Float64Array, b32.loss as Float64Array, 3e-6);
        expectClose(a32.grad!, b32.grad!, 3e-6);
      }
    }
  });

  it("spans several chunks: 300 rows x 1000 classes agree with the reference", () => {
    const rows = 300;
    const c = 1000;
    const z = logits(rows, c, 21);
    const t = probs(rows, c, 22);
    for (const kind of KINDS) {
      const r = api(simd).probabilityLossWithLogits(kind, t, z, { classes: c, reduction: "sum" });
      expect(r.loss).toBeCloseTo(ref(kind, t, z, { classes: c, reduction: "sum" }) as number, 9);
    }
  });

  it("a grad output buffer is filled and returned; a wrong one is refused and left untouched on error", () => {
    const c = 5;
    const z = logits(4, c, 1);
    const t = probs(4, c, 2);
    for (const kind of KINDS) {
      const g = new Float64Array(4 * c + 2).fill(7);
      const r = api(simd).probabilityLossWithLogits(kind, t, z, { classes: c, grad: g });
      expect(r.grad).toBe(g);
      expect(g[4 * c]).toBe(7);
      const want = api(simd).probabilityLossWithLogits(kind, t, z, { classes: c, grad: true });
      expect(Array.from(g.subarray(0, 4 * c))).toEqual(Array.from(want.grad!));
      expect(() =>
        api(simd).probabilityLossWithLogits(kind, t, z, { classes: c, grad: new Float64Array(3) }),
      ).toThrow(/grad is too small/);
      expect(() =>
        api(simd).probabilityLossWithLogits(kind, t, z, { classes: c, grad: new Float32Array(20) }),
      ).toThrow(/grad must be a Float64Array/);
      const h = new Float64Array(4 * c).fill(7);
      const bad = z.slice();
      bad[7] = NaN;
      expect(() => api(simd).probabilityLossWithLogits(kind, t, bad, { classes: c, grad: h })).toThrow(
        /logits\[7\] \(row 1\)/,
      );
      expect(h.every((v) => v === 7)).toBe(true);
    }
    // A WasmArray gradient buffer is written in place.
    const w = simd.alloc("float64", 4 * c);
    const r = api(simd).probabilityLossWithLogits("js", t, z, { classes: c, grad: w.array });
    expect(r.grad!.buffer).toBe(w.array.buffer);
    expectClose(
      w.array,
      api(simd).probabilityLossWithLogits("js", t, z, { classes: c, grad: true }).grad!,
      0,
    );
    w.free();
  });

  it("every error names what is wrong, and the module works after each", () => {
    const c = 5;
    const z = logits(4, c, 1);
    const t = probs(4, c, 2);
    const f = (kind: unknown, target: unknown, zz: unknown, o: object) => () =>
      api(simd).probabilityLossWithLogits(
        kind as Kind,
        target as Float64Array,
        zz as Float64Array,
        o as Options,
      );
    for (const kind of KINDS) {
      const nanZ = z.slice();
      nanZ[7] = NaN;
      expect(f(kind, t, nanZ, { classes: c })).toThrow(
        /logits\[7\] \(row 1\) must be finite or -Infinity; got NaN/,
      );
      const infZ = z.slice();
      infZ[11] = Infinity;
      expect(f(kind, t, infZ, { classes: c })).toThrow(/logits\[11\] \(row 2\) .* got Infinity/);
      const noFinite = z.slice();
      noFinite.fill(-Infinity, 15, 20);
      expect(f(kind, t, noFinite, { classes: c })).toThrow(/logits row 3 has no finite value/);
      const neg = t.slice();
      neg[6] = -0.1;
      expect(f(kind, neg, z, { classes: c })).toThrow(
        /target\[6\] \(row 1\) must be a finite probability >= 0; got -0.1/,
      );
      const nan = t.slice();
      nan[2] = NaN;
      expect(f(kind, nan, z, { classes: c })).toThrow(/target\[2\] \(row 0\) .* got NaN/);
      // The same in float32, both builds.
      for (const k of [simd, scalar]) {
        const n32 = Float32Array.from(t);
        n32[13] = NaN;
        expect(() =>
          api(k).probabilityLossWithLogits(kind, n32, Float32Array.from(z), { classes: c }),
        ).toThrow(/target\[13\] \(row 2\)/);
      }
    }
    expect(f("kl", t, z, { classes: c })).toThrow(/one of 'mse', 'l1', 'js'; got "kl"/);
    expect(f(undefined, t, z, { classes: c })).toThrow(TypeError);
    expect(f("mse", t, z, {})).toThrow(/classes .* is required/);
    expect(f("mse", t, z, { classes: 3 })).toThrow(/classes must be a positive integer dividing/);
    expect(f("mse", t.subarray(1), z, { classes: c })).toThrow(/target has 19 elements/);
    expect(f("mse", Float32Array.from(t), z, { classes: c })).toThrow(/same precision/);
    expect(f("mse", [0.5, 0.5], new Float64Array([0, 0]), { classes: 2 })).toThrow(TypeError);
    expect(f("mse", t, z, { classes: c, weights: [1] })).toThrow(/unknown option 'weights'/);
    expect(f("mse", t, z, { classes: c, reduction: "avg" })).toThrow(RangeError);
    expect(f("mse", t, z, { classes: c, validate: 1 })).toThrow(/validate must be a boolean/);
    for (const temperature of [0, -1, Infinity, NaN])
      expect(f("js", t, z, { classes: c, temperature })).toThrow(/temperature/);
    expect(f("l1", t, [], { classes: c })).toThrow(/logits must not be empty/);
    expect(api(simd).probabilityLossWithLogits("mse", t, z, { classes: c }).loss).toBeCloseTo(
      ref("mse", t, z, { classes: c }) as number,
      12,
    );
  });

  it("validate: false skips the checks and reports NaN for a refused row", () => {
    const c = 5;
    const z = logits(4, c, 1);
    const t = probs(4, c, 2);
    const badZ = z.slice();
    badZ[0] = NaN;
    const badT = t.slice();
    badT[12] = -1;
    for (const kind of KINDS) {
      const r = api(simd).probabilityLossWithLogits(kind, badT, badZ, {
        classes: c,
        validate: false,
        reduction: "none",
        grad: true,
      });
      const l = asArray(r.loss);
      expect(Number.isNaN(l[0])).toBe(true);
      expect(Number.isFinite(l[1])).toBe(true);
      expect(Number.isNaN(l[2])).toBe(true);
      expect(Number.isNaN(r.grad![0])).toBe(true);
      expect(Number.isFinite(r.grad![5])).toBe(true);
      expect(Number.isNaN(r.grad![10])).toBe(true);
    }
  });
});
