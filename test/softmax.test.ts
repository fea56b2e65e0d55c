// The softmax family's contract: values against a float64 JS reference of PyTorch's semantics,
// every gradient against central finite differences, stability, errors, output buffers, and both
// builds agreeing. Golden SciPy/NumPy fixtures are checked in softmax.fixtures.test.ts.
import { describe, expect, it } from "vitest";
import { createInstanceSync, type CrossEntropyOptions, type Klcore } from "../dist/index.js";
import { rng } from "./helpers/fixtures.js";

const simd = createInstanceSync({ simd: true });
const scalar = createInstanceSync({ simd: false });

const logits = (rows: number, c: number, seed: number, spread = 3): Float64Array => {
  const r = rng(seed);
  return Float64Array.from({ length: rows * c }, () => (r() - 0.5) * 2 * spread);
};

/** Probability rows with some exact zeros; `sums` scales each row (1 = distributions). */
const probs = (rows: number, c: number, seed: number, sums = 1): Float64Array => {
  const r = rng(seed);
  const out = new Float64Array(rows * c);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < c; j++) s += out[i * c + j] = r() < 0.25 ? 0 : r();
    if (s === 0) s = out[i * c] = 1;
    for (let j = 0; j < c; j++) out[i * c + j] = (out[i * c + j]! / s) * sums;
  }
  return out;
};

const logSoftmaxRef = (row: ArrayLike<number>, invT = 1): number[] => {
  const z = Array.from(row, (v) => v * invT);
  const m = Math.max(...z);
  const s = z.reduce((a, v) => a + Math.exp(v - m), 0);
  return z.map((v) => v - m - Math.log(s));
};

interface RefOptions {
  classes: number;
  weights?: number[];
  ignoreIndex?: number;
  labelSmoothing?: number;
  temperature?: number;
  reduction?: "mean" | "sum" | "none";
}

/** PyTorch's CrossEntropyLoss semantics in plain float64 JS (SEMANTICS.md). */
function xentRef(
  target: ArrayLike<number>,
  z: ArrayLike<number>,
  o: RefOptions,
  soft: boolean,
): number | number[] {
  const c = o.classes;
  const rows = z.length / c;
  const w = o.weights ?? Array<number>(c).fill(1);
  const eps = o.labelSmoothing ?? 0;
  const ignore = o.ignoreIndex ?? -100;
  const per: number[] = [];
  let den = 0;
  for (let i = 0; i < rows; i++) {
    const lp = logSoftmaxRef(Array.from(z).slice(i * c, i * c + c), 1 / (o.temperature ?? 1));
    let l = 0;
    if (soft) {
      for (let j = 0; j < c; j++) {
        const t = (1 - eps) * target[i * c + j]! + eps / c;
        if (t * w[j]! !== 0) l -= w[j]! * t * lp[j]!;
      }
      den += 1;
    } else if (target[i] === ignore) {
      l = 0;
    } else {
      const y = target[i]!;
      l = -(1 - eps) * w[y]! * lp[y]!;
      for (let j = 0; j < c; j++) if (eps * w[j]! !== 0) l -= (eps / c) * w[j]! * lp[j]!;
      den += w[y]!;
    }
    per.push(l);
  }
  const total = per.reduce((a, b) => a + b, 0);
  if (o.reduction === "none") return per;
  if (o.reduction === "sum") return total;
  return den > 0 ? total / den : 0;
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

const lossOf = (r: { loss: number | Float64Array }): number =>
  typeof r.loss === "number" ? r.loss : r.loss.reduce((a, b) => a + b, 0);

/** Every gradient element within `tol` of the reference gradient, relative to its scale. */
function expectGradClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void {
  expect(got.length).toBe(want.length);
  let scale = 1e-3;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / scale);
  expect(worst).toBeLessThanOrEqual(tol);
}

describe("logSumExp, softmax, logSoftmax", () => {
  it("match SciPy's checked values and a float64 reference, with temperature", () => {
    expect(Array.from(simd.logSumExp([-Infinity, -Infinity]))).toEqual([-Infinity]);
    expect(Array.from(simd.logSoftmax([1000, 0]))).toEqual([0, -1000]);
    expect(Array.from(simd.softmax([1000, 0]))).toEqual([1, 0]);
    for (const k of [simd, scalar]) {
      for (let c = 1; c <= 15; c++) {
        const z = logits(3, c, c, 10);
        for (const T of [1, 0.5, 3]) {
          const lsm = k.logSoftmax(z, { classes: c, temperature: T });
          const sm = k.softmax(z, { classes: c, temperature: T });
          for (let r = 0; r < 3; r++) {
            const ref = logSoftmaxRef(z.subarray(r * c, r * c + c), 1 / T);
            for (let j = 0; j < c; j++) {
              expect(lsm[r * c + j]).toBeCloseTo(ref[j]!, 12);
              expect(sm[r * c + j]).toBeCloseTo(Math.exp(ref[j]!), 14);
            }
          }
        }
        const lse = k.logSumExp(z, { classes: c });
        for (let r = 0; r < 3; r++) {
          const row = Array.from(z.subarray(r * c, r * c + c));
          const m = Math.max(...row);
          expect(lse[r]).toBeCloseTo(m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0)), 12);
        }
      }
    }
  });

  it("stable where exp(z) overflows but exp(z - max) does not, in both precisions", () => {
    for (const make of [(a: number[]) => Float64Array.from(a), (a: number[]) => Float32Array.from(a)]) {
      const z = make([1e4, 1e4 - 1, 0, -1e4]);
      const sm = simd.softmax(z);
      expect(sm[0]).toBeCloseTo(1 / (1 + Math.exp(-1)), 6);
      expect(sm[3]).toBe(0);
      const lsm = simd.logSoftmax(z);
      expect(lsm[3]).toBeCloseTo(-2e4 - Math.log1p(Math.exp(-1)), 2);
      expect(simd.logSumExp(z)[0]).toBeCloseTo(1e4 + Math.log1p(Math.exp(-1)), 3);
    }
  });

  it("out buffers are filled and returned; errors name the row and value", () => {
    const out = new Float32Array(4);
    expect(simd.softmax(new Float32Array([0, 0, 1, 1]), { classes: 2, out })).toBe(out);
    expect(Array.from(out)).toEqual([0.5, 0.5, 0.5, 0.5]);
    expect(() => simd.softmax([1, 2], { out: new Float32Array(2) })).toThrow(/out must be a Float64Array/);
    expect(() => simd.softmax([1, 2], { out: new Float64Array(1) })).toThrow(/out is too small/);
    expect(() => simd.softmax([1, NaN, 2, 3], { classes: 2 })).toThrow(/logits\[1\] \(row 0\) .* got NaN/);
    expect(() => simd.logSoftmax([1, 2, 3, Infinity], { classes: 2 })).toThrow(/logits\[3\] \(row 1\)/);
    expect(() => simd.softmax([-Infinity, -Infinity])).toThrow(/row 0 has no finite value/);
    expect(() => simd.softmax([1, 2], { temperature: 0 })).toThrow(RangeError);
    expect(() => simd.softmax([1, 2, 3], { classes: 2 })).toThrow(RangeError);
    expect(() => simd.softmax([])).toThrow(/logits must not be empty/);
    expect(() => simd.logSumExp([1], { classes: 1, temp: 1 } as never)).toThrow(/unknown option 'temp'/);
    expect(Array.from(simd.softmax([0, 0]))).toEqual([0.5, 0.5]);
  });
});

describe("crossEntropyWithLogits and klWithLogits", () => {
  const C = 5;
  const ROWS = 4;
  const z = logits(ROWS, C, 7);
  const labels = [3, 0, -100, 4];
  const soft = probs(ROWS, C, 8);
  const weights = [0.5, 2, 1, 0, 1.5];
  const variants: [string, RefOptions][] = [
    ["plain", { classes: C }],
    ["weights", { classes: C, weights }],
    ["smoothing", { classes: C, labelSmoothing: 0.1 }],
    ["smoothing 1", { classes: C, labelSmoothing: 1 }],
    ["temperature", { classes: C, temperature: 2.5 }],
    ["all options", { classes: C, weights, labelSmoothing: 0.2, temperature: 0.7 }],
    ["sum", { classes: C, weights, labelSmoothing: 0.1, reduction: "sum" }],
    ["none", { classes: C, weights, labelSmoothing: 0.1, reduction: "none" }],
  ];

  for (const [name, o] of variants) {
    for (const kind of ["indices", "probabilities"] as const) {
      it(`${kind}, ${name}: loss matches the reference and the gradient matches finite differences`, () => {
        const target = kind === "indices" ? labels : soft;
        const isSoft = kind === "probabilities";
        const opts = { ...o, grad: true } as CrossEntropyOptions;
        for (const k of [simd, scalar]) {
          const r = k.crossEntropyWithLogits(target, z, opts);
          const want = xentRef(target, z, o, isSoft);
          if (Array.isArray(want)) {
            expect(r.loss).toBeInstanceOf(Float64Array);
            want.forEach((v, i) => expect((r.loss as unknown as Float64Array)[i]).toBeCloseTo(v, 12));
          } else {
            expect(r.loss).toBeCloseTo(want, 12);
          }
          const numeric = numericGrad(
            (x) => lossOf(k.crossEntropyWithLogits(target, x, o as CrossEntropyOptions)),
            z,
          );
          expectGradClose(r.grad!, numeric, 1e-7);
        }
      });
    }
  }

  it("KL with logits = cross-entropy - entropy of the (smoothed, weighted) target; same gradient", () => {
    for (const o of [
      { classes: C },
      { classes: C, weights, labelSmoothing: 0.1, temperature: 2 },
    ] as RefOptions[]) {
      const kl = simd.klWithLogits(soft, z, { ...o, grad: true } as CrossEntropyOptions);
      const ce = simd.crossEntropyWithLogits(soft, z, { ...o, grad: true } as CrossEntropyOptions);
      const w = o.weights ?? Array<number>(C).fill(1);
      const eps = o.labelSmoothing ?? 0;
      let h = 0;
      for (let i = 0; i < ROWS * C; i++) {
        const t = (1 - eps) * soft[i]! + eps / C;
        if (t > 0) h -= w[i % C]! * t * Math.log(t);
      }
      expect(kl.loss).toBeCloseTo((ce.loss as number) - h / ROWS, 12);
      expect(Array.from(kl.grad!)).toEqual(Array.from(ce.grad!));
    }
    // logTarget: the same values from log-probabilities (-Infinity for zeros).
    const logSoft = soft.map(Math.log);
    const a = simd.klWithLogits(soft, z, { classes: C, grad: true });
    const b = simd.klWithLogits(logSoft, z, { classes: C, grad: true, logTarget: true });
    expect(b.loss).toBeCloseTo(a.loss, 12);
    expectGradClose(b.grad!, a.grad!, 1e-12);
    // A distribution against its own logits: KL = 0.
    const lp = simd.logSoftmax(z, { classes: C });
    expect(simd.klWithLogits(lp.map(Math.exp), z, { classes: C }).loss).toBeCloseTo(0, 14);
  });

  it("the gradient is (sum_c w_c t_c) softmax - w t: rows not summing to 1 and all-zero rows", () => {
    const t = probs(ROWS, C, 9, 0.6);
    t.fill(0, C, 2 * C); // row 1: all zero
    const r = simd.crossEntropyWithLogits(t, z, { classes: C, grad: true, reduction: "sum" });
    const sm = simd.softmax(z, { classes: C });
    for (let i = 0; i < ROWS; i++) {
      const mass = t.subarray(i * C, i * C + C).reduce((a, b) => a + b, 0);
      for (let j = 0; j < C; j++)
        expect(r.grad![i * C + j]).toBeCloseTo(mass * sm[i * C + j]! - t[i * C + j]!, 14);
    }
    for (let j = 0; j < C; j++) expect(r.grad![C + j]).toBe(0);
  });

  it("all rows ignored with 'mean': loss 0 and gradient 0 (PyTorch returns NaN)", () => {
    const r = simd.crossEntropyWithLogits([-100, -100, -100, -100], z, { classes: C, grad: true });
    expect(r.loss).toBe(0);
    expect(r.grad!.every((g) => g === 0)).toBe(true);
    const custom = simd.crossEntropyWithLogits([3, 3, 3, 3], z, { classes: C, ignoreIndex: 3, grad: true });
    expect(custom.loss).toBe(0);
  });

  it("-Infinity logits where the target is 0 contribute 0, never NaN; where the target is > 0 the loss is Infinity", () => {
    const zz = Float64Array.from([-Infinity, 1, 2, 0.5, -Infinity, 0]);
    const t = Float64Array.from([0, 0.5, 0.5, 0.2, 0, 0.8]);
    for (const k of [simd, scalar]) {
      for (const make of [(a: Float64Array) => a, (a: Float64Array) => Float32Array.from(a)]) {
        const r = k.crossEntropyWithLogits(make(t), make(zz), { classes: 3, grad: true });
        expect(Number.isFinite(r.loss)).toBe(true);
        expect(r.grad!.every(Number.isFinite)).toBe(true);
        expect(r.grad![0]).toBe(0);
        const y = k.crossEntropyWithLogits([1, 2], make(zz), { classes: 3, grad: true, labelSmoothing: 0 });
        expect(Number.isFinite(y.loss)).toBe(true);
        expect(k.crossEntropyWithLogits([0, 0], make(zz), { classes: 3 }).loss).toBe(Infinity);
      }
    }
  });

  it("float32 keeps its relative accuracy for confident rows (loss ~ 1e-6), where 1 + tiny would round", () => {
    for (const margin of [5, 9, 12, 16]) {
      for (const c of [3, 10, 40, 1000]) {
        const rows = 8;
        const zz = new Float64Array(rows * c);
        const y: number[] = [];
        for (let r = 0; r < rows; r++) {
          for (let j = 0; j < c; j++) zz[r * c + j] = Math.sin(r * c + j) * 0.1;
          zz[r * c + (r % c)] = margin;
          y.push(r % c);
        }
        const f32 = Float32Array.from(zz);
        // The reference: float64 on the float32-rounded logits.
        const want = simd.crossEntropyWithLogits(y, Float64Array.from(f32), { classes: c, grad: true });
        for (const k of [simd, scalar]) {
          const got = k.crossEntropyWithLogits(y, f32, { classes: c, grad: true });
          // The float32 tolerance (3e-5 relative) at every confidence: summing 1 + tiny in float32
          // would leave 5% at a loss of 1e-6.
          expect(Math.abs(got.loss - want.loss)).toBeLessThanOrEqual(3e-5 * want.loss);
          expectGradClose(got.grad!, want.grad!, 1e-5);
          // log-softmax of the winning class: -ln S, tiny and still accurate.
          const lsm = k.logSoftmax(f32, { classes: c });
          const ref = simd.logSoftmax(Float64Array.from(f32), { classes: c });
          expect(Math.abs(lsm[0]! - ref[0]!)).toBeLessThanOrEqual(3e-5 * Math.abs(ref[0]!) + 1e-12);
        }
      }
    }
  });

  it("stable for finite logits 1e4 apart in float32 and float64", () => {
    const zz = [1e4, 0, -1e4, -1e4, 0, 1e4];
    for (const make of [(a: number[]) => Float64Array.from(a), (a: number[]) => Float32Array.from(a)]) {
      const r = simd.crossEntropyWithLogits([1, 1], make(zz), { classes: 3, grad: true });
      expect(r.loss).toBeCloseTo(1e4, 3);
      expect(r.grad!.every(Number.isFinite)).toBe(true);
      const p = simd.crossEntropyWithLogits(make([0, 1, 0, 0, 1, 0]), make(zz), { classes: 3 });
      expect(p.loss).toBeCloseTo(1e4, 3);
    }
  });

  it("float32 matches float64 within 3e-5 relative, at every class count around the vector width", () => {
    for (let c = 1; c <= 15; c++) {
      const zz = logits(6, c, 100 + c);
      const t = probs(6, c, 200 + c);
      const y = Array.from({ length: 6 }, (_, i) => (i * 7) % c);
      for (const target of [y, t] as const) {
        const a = simd.crossEntropyWithLogits(target, zz, { classes: c, grad: true });
        const f32t = Array.isArray(target) ? target : Float32Array.from(target as Float64Array);
        const b = simd.crossEntropyWithLogits(f32t, Float32Array.from(zz), { classes: c, grad: true });
        const s = scalar.crossEntropyWithLogits(f32t, Float32Array.from(zz), { classes: c, grad: true });
        expect(Math.abs(b.loss - a.loss)).toBeLessThanOrEqual(3e-5 * Math.abs(a.loss) + 1e-6);
        expect(Math.abs(s.loss - b.loss)).toBeLessThanOrEqual(3e-5 * Math.abs(a.loss) + 1e-6);
        expectGradClose(b.grad!, a.grad!, 1e-5);
        expectGradClose(s.grad!, b.grad!, 1e-5);
      }
    }
  });

  it("rows of up to 16 classes (four rows at a time in lanes) agree with float64 whatever each group holds", () => {
    for (const c of [2, 3, 4, 5, 8, 10, 13, 16, 17]) {
      const rows = 13; // three groups of four and one row left over
      const zz = logits(rows, c, 300 + c, 6);
      for (let j = 0; j < c; j += 3) zz[5 * c + j] = -Infinity; // -inf logits away from the label
      const y = Array.from({ length: rows }, (_, i) => (i * 5 + 1) % c);
      y[5] = 1;
      y[9] = -100; // an ignored row inside the third group
      for (const o of [
        {},
        { weights: Array.from({ length: c }, (_, j) => (j % 3) * 0.5) },
        { labelSmoothing: 0.2 },
      ]) {
        const opts = { classes: c, grad: true, reduction: "none", ...o } as const;
        const want = simd.crossEntropyWithLogits(y, zz, opts);
        const got = simd.crossEntropyWithLogits(y, Float32Array.from(zz), opts);
        for (let r = 0; r < rows; r++) {
          const w = want.loss[r]!;
          // Smoothing puts mass on the -inf classes of row 5: its loss is +Infinity in both.
          if (!Number.isFinite(w)) expect(got.loss[r]).toBe(w);
          else expect(Math.abs(got.loss[r]! - w)).toBeLessThanOrEqual(3e-5 * Math.abs(w) + 1e-6);
        }
        expectGradClose(got.grad!, want.grad!, 1e-5);
      }
      // A refused row in a group: the others are still computed, the refused one is NaN.
      const bad = Float32Array.from(zz);
      bad[6 * c] = NaN;
      const r = simd.crossEntropyWithLogits(y, bad, { classes: c, reduction: "none", validate: false });
      expect(Number.isNaN(r.loss[6])).toBe(true);
      expect(Number.isFinite(r.loss[7])).toBe(true);
      expect(() => simd.crossEntropyWithLogits(y, bad, { classes: c })).toThrow(/row 6/);
    }
  });

  it("the ignore index is ignored wherever it lies, for every label array type, option and reduction", () => {
    // PyTorch's value for this case (torch.nn.functional.cross_entropy, ignore_index=1).
    const issue = simd.crossEntropyWithLogits(
      new Int32Array([2, 0, 1]),
      new Float64Array([1, 2, 3, 0.5, 0.1, -1, 0, 0, 0]),
      { classes: 3, ignoreIndex: 1, grad: true },
    );
    expect(issue.loss).toBeCloseTo(0.5230033176, 9);
    const kinds = [Int32Array, Int16Array, Int8Array, Uint32Array, Uint16Array, Uint8Array, Array];
    const rows = 37;
    const zz = logits(rows, C, 41);
    const h = 1e-6;
    for (const k of [simd, scalar]) {
      for (const ignore of [0, 2, C - 1, -100]) {
        const r = rng(ignore + 7);
        const base = Array.from({ length: rows }, () => Math.floor(r() * C));
        // Every label that is not ignored, and a third of the rows ignored.
        for (let i = 0; i < rows; i += 3) base[i] = ignore;
        for (const options of [{}, { weights }, { labelSmoothing: 0.2 }, { weights, labelSmoothing: 0.1 }]) {
          for (const reduction of ["mean", "sum", "none"] as const) {
            const o = { classes: C, ignoreIndex: ignore, reduction, ...options };
            const want = xentRef(base, zz, o, false);
            for (const Kind of kinds) {
              if (ignore < 0 && Kind.name.startsWith("Uint")) continue;
              const y = Kind === Array ? base : (Kind as Int32ArrayConstructor).from(base);
              const got = k.crossEntropyWithLogits(y as Int32Array, zz, { ...o, grad: true });
              if (reduction === "none") {
                const per = got.loss as unknown as Float64Array;
                (want as number[]).forEach((v, i) => expect(per[i]).toBeCloseTo(v, 12));
              } else {
                expect(got.loss).toBeCloseTo(want as number, 12);
              }
              // The gradient carries the same denominator: check it against finite differences.
              if (Kind !== Int32Array && Kind !== Array) continue;
              const f = (v: Float64Array): number =>
                lossOf(k.crossEntropyWithLogits(y as Int32Array, v, o) as { loss: number | Float64Array });
              expectGradClose(got.grad!, numericGrad(f, zz, h), 1e-7);
            }
          }
        }
      }
    }
  });

  it("klWithLogits of a distribution is never negative, as kl() of the same rows; other rows keep their sign", () => {
    for (const k of [simd, scalar]) {
      for (const [bound, make] of [
        [1e-5, (a: Float64Array) => Float32Array.from(a)],
        [1e-12, (a: Float64Array) => a],
      ] as const) {
        let worst = 0;
        for (let seed = 1; seed < 120; seed++) {
          const c = 2 + ((seed * 37) % 700);
          const rows = 3;
          const zz = make(
            Float64Array.from({ length: rows * c }, (_, i) => Math.sin(seed * 13 + i * 7.1) * 4),
          );
          // The target is the model itself: KL 0 up to rounding, the case that used to dip below.
          const t = k.softmax(zz, { classes: c });
          const per = k.klWithLogits(t, zz, { classes: c, reduction: "none" })
            .loss as unknown as Float64Array;
          const viaKl = k.kl(t, k.softmax(zz, { classes: c }), { classes: c, reduction: "none" });
          for (let r = 0; r < rows; r++) {
            expect(per[r]).toBeGreaterThanOrEqual(0);
            expect(viaKl[r]).toBeGreaterThanOrEqual(0);
            worst = Math.max(worst, per[r]!);
          }
          const lt = Float64Array.from(t, Math.log);
          const logged = k.klWithLogits(make(lt), zz, { classes: c, logTarget: true, reduction: "none" });
          expect((logged.loss as unknown as Float64Array).every((v) => v >= 0)).toBe(true);
        }
        // Clamping hides rounding only: the largest KL left is at rounding level.
        expect(worst).toBeLessThan(bound);
      }
      // A target of mass 0.5 against a normalised q: KL is 0.5 ln 0.5 < 0 at q = 2t, and stays so.
      const half = Float64Array.of(0.25, 0.25);
      const r = k.klWithLogits(half, Float64Array.of(0, 0), { classes: 2 });
      expect(r.loss).toBeCloseTo(0.5 * Math.log(0.5), 14);
    }
  });

  it("class-index targets of every integer array type; zero-copy inputs; inputs never modified", () => {
    const want = simd.crossEntropyWithLogits([3, 0, 1, 4], z, { classes: C });
    for (const y of [
      Int32Array.of(3, 0, 1, 4),
      Int16Array.of(3, 0, 1, 4),
      Int8Array.of(3, 0, 1, 4),
      Uint8Array.of(3, 0, 1, 4),
      Uint16Array.of(3, 0, 1, 4),
      Uint32Array.of(3, 0, 1, 4),
    ]) {
      expect(simd.crossEntropyWithLogits(y, z, { classes: C }).loss).toBe(want.loss);
    }
    const hz = simd.alloc("float64", z.length);
    const ht = simd.alloc("float64", soft.length);
    hz.array.set(z);
    ht.array.set(soft);
    const copied = simd.crossEntropyWithLogits(soft, z, { classes: C, grad: true });
    const inPlace = simd.crossEntropyWithLogits(ht, hz, { classes: C, grad: true });
    expect(inPlace.loss).toBe(copied.loss);
    expect(Array.from(inPlace.grad!)).toEqual(Array.from(copied.grad!));
    hz.free();
    ht.free();
    const keep = [z.slice(), soft.slice()];
    simd.crossEntropyWithLogits(soft, z, { classes: C, grad: true, weights, labelSmoothing: 0.3 });
    simd.klWithLogits(soft, z, { classes: C, grad: true });
    expect(() => simd.crossEntropyWithLogits(soft, z, { classes: C, temperature: -1 })).toThrow();
    expect([z, soft]).toEqual(keep);
  });

  it("a grad output buffer is filled; too small or of the wrong type is refused, and it is untouched on error", () => {
    const g = new Float64Array(ROWS * C + 3).fill(7);
    const r = simd.crossEntropyWithLogits(labels, z, { classes: C, grad: g });
    expect(r.grad).toBe(g);
    expect(g[ROWS * C]).toBe(7);
    expect(g[0]).not.toBe(7);
    expect(() => simd.crossEntropyWithLogits(labels, z, { classes: C, grad: new Float64Array(3) })).toThrow(
      /grad is too small/,
    );
    expect(() => simd.crossEntropyWithLogits(labels, z, { classes: C, grad: new Float32Array(20) })).toThrow(
      /grad must be a Float64Array/,
    );
    expect(() => simd.crossEntropyWithLogits(labels, z, { classes: C, grad: [] as never })).toThrow(
      TypeError,
    );
    const h = new Float64Array(ROWS * C).fill(7);
    const bad = z.slice();
    bad[7] = NaN;
    expect(() => simd.crossEntropyWithLogits(labels, bad, { classes: C, grad: h })).toThrow(
      /logits\[7\] \(row 1\)/,
    );
    expect(h.every((v) => v === 7)).toBe(true);
  });

  it("a WasmArray gradient buffer is written in place and handed back live when the call grows memory", () => {
    const k = createInstanceSync();
    const rows = 300;
    const c = 1000;
    const g = k.alloc("float32", rows * c);
    const view = g.array;
    const before = k.backend().memoryBytes;
    // Copying 300k logits needs more scratch than the instance has: memory grows during the call.
    const zz = Float32Array.from(logits(rows, c, 11));
    const y = Array.from({ length: rows }, (_, i) => i % c);
    const r = k.crossEntropyWithLogits(y, zz, { classes: c, grad: view });
    expect(k.backend().memoryBytes).toBeGreaterThan(before);
    expect(view.length).toBe(0); // the caller's old view is detached...
    expect(r.grad!.length).toBe(rows * c); // ...the returned one is live
    expect(r.grad!.buffer).toBe(g.array.buffer);
    const want = k.crossEntropyWithLogits(y, zz, { classes: c, grad: true });
    // Same build, same inputs: the same bits, whether the gradient went through scratch or not.
    expect(Array.from(r.grad!).every((v, i) => Object.is(v, want.grad![i]))).toBe(true);
    g.free();
  });

  it("every error names what is wrong, and the module works after each", () => {
    const f = (target: unknown, zz: unknown, o: object) => () =>
      simd.crossEntropyWithLogits(target as number[], zz as Float64Array, o as CrossEntropyOptions);
    expect(f(labels, z, {})).toThrow(/classes .* is required/);
    expect(f([5, 0, 1, 2], z, { classes: C })).toThrow(
      "target[0] must be a class index, an integer in [0, 5) or the ignoreIndex -100; got 5",
    );
    expect(f([1.5, 0, 1, 2], z, { classes: C })).toThrow(/target\[0\] .* got 1.5/);
    // A fraction in [0, 1] was most likely meant as a probability: the message says how to pass one.
    expect(f([0.5, 0, 1, 2], z, { classes: C })).toThrow(
      /got 0\.5 \(probability targets must be a Float32Array or a Float64Array\)$/,
    );
    expect(f([1, 0, 1], z, { classes: C })).toThrow(/expected 4 class indices or 20 probabilities/);
    expect(f(new Float64Array(19), z, { classes: C })).toThrow(RangeError);
    expect(f(Float32Array.from(soft), z, { classes: C })).toThrow(/same precision/);
    expect(f("abc", z, { classes: C })).toThrow(TypeError);
    const neg = soft.slice();
    neg[6] = -0.1;
    expect(f(neg, z, { classes: C })).toThrow(
      /target\[6\] \(row 1\) must be a finite probability >= 0; got -0.1/,
    );
    const nan = soft.slice();
    nan[2] = NaN;
    expect(f(nan, z, { classes: C })).toThrow(/target\[2\] \(row 0\)/);
    const logT = soft.map(Math.log);
    logT[3] = Infinity;
    expect(() => simd.klWithLogits(logT, z, { classes: C, logTarget: true })).toThrow(
      "target[3] (row 0) must be a natural log of a probability (finite or -Infinity); got Infinity",
    );
    const inf = z.slice();
    inf[11] = Infinity;
    expect(f(labels, inf, { classes: C })).toThrow(
      /logits\[11\] \(row 2\) must be finite or -Infinity; got Infinity/,
    );
    expect(f(labels, z, { classes: C, weights: [1, 2] })).toThrow(/one value per class \(5\); got 2/);
    expect(f(labels, z, { classes: C, weights: [1, 2, -1, 1, 1] })).toThrow(
      /weights\[2\] must be finite and >= 0/,
    );
    for (const labelSmoothing of [-0.1, 1.5, NaN])
      expect(f(labels, z, { classes: C, labelSmoothing })).toThrow(/labelSmoothing/);
    for (const temperature of [0, -1, Infinity, NaN])
      expect(f(labels, z, { classes: C, temperature })).toThrow(/temperature/);
    expect(f(labels, z, { classes: C, ignoreIndex: 0.5 })).toThrow(TypeError);
    expect(f(labels, z, { classes: C, reduction: "avg" })).toThrow(RangeError);
    expect(f(labels, z, { classes: C, logTarget: true })).toThrow(/unknown option 'logTarget'/);
    expect(() => simd.klWithLogits(soft, z, { classes: C, ignoreIndex: 1 } as never)).toThrow(
      /unknown option/,
    );
    expect(() => simd.klWithLogits(labels as never, z, { classes: C })).toThrow(TypeError);
    expect(f(labels, [], { classes: C })).toThrow(/logits must not be empty/);
    expect(simd.crossEntropyWithLogits(labels, z, { classes: C }).loss).toBeCloseTo(
      xentRef(labels, z, { classes: C }, false) as number,
      12,
    );
  });

  it("validate: false skips the checks and reports NaN for a refused row", () => {
    const bad = z.slice();
    bad[0] = NaN;
    const r = simd.crossEntropyWithLogits(labels, bad, {
      classes: C,
      validate: false,
      reduction: "none",
      grad: true,
    });
    expect(Number.isNaN((r.loss as Float64Array)[0])).toBe(true);
    expect(Number.isFinite((r.loss as Float64Array)[1])).toBe(true);
    expect(Number.isNaN(r.grad![0])).toBe(true);
  });
});

describe("class indices in a float array (as TF.js keeps labels)", () => {
  const C = 5;
  const ROWS = 4;
  const z = logits(ROWS, C, 21);
  const z32 = Float32Array.from(z);
  const weights = [0.5, 2, 1, 0, 1.5];
  const same = (a: ArrayLike<number>, b: ArrayLike<number>) =>
    expect(Array.from(a).every((v, i) => Object.is(v, b[i]))).toBe(true);

  it("one integer per row is read as class indices: the same bits as an Int32Array", () => {
    for (const k of [simd, scalar]) {
      for (const zz of [z, z32]) {
        for (const o of [
          { classes: C },
          { classes: C, weights, labelSmoothing: 0.1, reduction: "sum" as const },
          { classes: C, ignoreIndex: 2, reduction: "none" as const },
        ]) {
          const opts = { ...o, grad: true, weights: o.weights && Array.from(o.weights) };
          const want = k.crossEntropyWithLogits(Int32Array.from([3, 0, 2, 4]), zz, opts);
          for (const target of [new Float32Array([3, 0, 2, 4]), new Float64Array([3, 0, 2, 4])]) {
            const before = target.slice();
            const r = k.crossEntropyWithLogits(target, zz, opts);
            if (typeof want.loss === "number") expect(r.loss).toBe(want.loss);
            else same(r.loss as unknown as Float64Array, want.loss);
            same(r.grad!, want.grad!);
            same(target, before); // read, never written
          }
        }
      }
    }
  });

  it("the ignore index is accepted among them, as in number[]", () => {
    const want = simd.crossEntropyWithLogits([3, -100, 1, 4], z, { classes: C, grad: true });
    const r = simd.crossEntropyWithLogits(new Float64Array([3, -100, 1, 4]), z, { classes: C, grad: true });
    expect(r.loss).toBe(want.loss);
    expect(Array.from(r.grad!)).toEqual(Array.from(want.grad!));
    // The mean divides by the 3 rows not ignored.
    const sum = simd.crossEntropyWithLogits(new Float64Array([3, -100, 1, 4]), z, {
      classes: C,
      reduction: "sum",
    });
    expect(r.loss).toBeCloseTo((sum.loss as number) / 3, 14);
  });

  it("a value that is not a class index is refused, naming it and how to pass indices", () => {
    for (const [values, at, shown] of [
      [[3, 1.5, 2, 4], 1, "1.5"],
      [[3, 0, 5, 4], 2, "5"],
      [[3, 0, 2, -1], 3, "-1"],
      [[NaN, 0, 2, 4], 0, "NaN"],
      [[3, 0, Infinity, 4], 2, "Infinity"],
    ] as const) {
      for (const [Array, tag] of [
        [Float32Array, "Float32Array"],
        [Float64Array, "Float64Array"],
      ] as const) {
        const f = () => simd.crossEntropyWithLogits(Array.from(values), z, { classes: C });
        expect(f).toThrow(RangeError);
        expect(f).toThrow(
          `target is a ${tag} of 4 values, one per row, so it is read as class indices, but ` +
            `target[${at}] = ${shown} is not an integer in [0, 5) nor the ignoreIndex -100. Pass class ` +
            `indices as integers (an Int32Array or number[]), or probabilities as a ${tag} of 4 rows x 5 ` +
            `classes (20 values)`,
        );
      }
    }
    // The module works after each.
    expect(simd.crossEntropyWithLogits(new Float64Array([3, 0, 2, 4]), z, { classes: C }).loss).toBe(
      simd.crossEntropyWithLogits([3, 0, 2, 4], z, { classes: C }).loss,
    );
  });

  it("rows x classes values are probabilities, and with one class one value per row is too", () => {
    const soft = probs(ROWS, C, 22);
    expect(simd.crossEntropyWithLogits(soft, z, { classes: C }).loss).toBeGreaterThan(0);
    // One class: rows x 1 probabilities, so 2 is a soft target (softmax is 1, the loss 0), not an
    // out-of-range index.
    const r = simd.crossEntropyWithLogits(new Float64Array([2, 2, 2]), [0.5, -1, 3], { classes: 1 });
    expect(r.loss).toBe(0);
    // Any other length is neither.
    expect(() => simd.crossEntropyWithLogits(new Float64Array(3), z, { classes: C })).toThrow(
      /target has 3 elements; expected 4 class indices or 20 probabilities/,
    );
  });

  it("an ignoreIndex beyond int32 is refused (it would wrap onto a class)", () => {
    for (const ignoreIndex of [2 ** 32, 2 ** 31, -(2 ** 31) - 1, 0.5])
      expect(() => simd.crossEntropyWithLogits([0, 1, 2, 3], z, { classes: C, ignoreIndex })).toThrow(
        /ignoreIndex must be an integer in \[-2\^31, 2\^31\)/,
      );
    expect(simd.crossEntropyWithLogits([0, 1, 2, 3], z, { classes: C, ignoreIndex: -(2 ** 31) }).loss).toBe(
      simd.crossEntropyWithLogits([0, 1, 2, 3], z, { classes: C }).loss,
    );
  });

  it("klWithLogits takes no class indices, and says to use crossEntropyWithLogits", () => {
    for (const target of [[3, 0, 2, 4], Int32Array.from([3, 0, 2, 4])])
      expect(() => simd.klWithLogits(target as never, z, { classes: C })).toThrow(
        /klWithLogits's target must be probabilities .* For class indices use crossEntropyWithLogits/,
      );
    expect(() => simd.klWithLogits(new Float64Array([3, 0, 2, 4]), z, { classes: C })).toThrow(
      /expected 20 probabilities \(4 rows x 5 classes\); klWithLogits takes no class indices: use crossEntropyWithLogits/,
    );
  });
});

describe("builds agree", () => {
  it("SIMD and scalar give the same softmax-family results on large shapes", () => {
    const check = (a: Klcore, b: Klcore) => {
      const zz = logits(64, 1000, 1);
      const y = Array.from({ length: 64 }, (_, i) => (i * 37) % 1000);
      const ra = a.crossEntropyWithLogits(y, zz, { classes: 1000, grad: true, labelSmoothing: 0.1 });
      const rb = b.crossEntropyWithLogits(y, zz, { classes: 1000, grad: true, labelSmoothing: 0.1 });
      expect(ra.loss).toBeCloseTo(rb.loss, 11);
      expectGradClose(ra.grad!, rb.grad!, 1e-12);
    };
    check(simd, scalar);
  });
});
