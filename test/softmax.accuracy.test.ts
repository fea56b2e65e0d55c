// The softmax family at 10 to 1,000,000 classes in float32 (and up to 1e5 in float64), against a
// float64 reference computed here on the same inputs. The reference sums with Neumaier's compensated
// summation, so its sums keep about 1e-16 of their value at any length, and it forms S - 1 apart from
// the max's exact 1 and the gradient at a row's max without cancellation: float64 with these sums is
// enough for the float32 bounds, and its error (a few float64 roundings per value) is also far below
// the float64 bounds asserted. Rows cover logits
// all equal, spreads from 0.1 to 30, logits near 1000, and confident rows whose loss is 1e-6 and
// 1e-12; targets are class indices and probability rows, with weights, label smoothing, temperature
// and ignored rows, KL with and without log targets; both builds, with and without the gradient.
import { afterAll, describe, expect, it } from "vitest";
import { createInstanceSync, hasFma, type Klcore } from "../dist/index.js";
import { rng } from "./helpers/fixtures.js";

const builds: [string, Klcore][] = [
  ["simd", createInstanceSync({ simd: true })],
  ["scalar", createInstanceSync({ simd: false })],
  // The opt-in FMA build holds the same bounds (vitest.config.ts enables relaxed SIMD on Node 20;
  // test/fma.test.ts checks that it runs).
  ...(hasFma() ? [["fma", createInstanceSync({ fma: true })] as [string, Klcore]] : []),
];

type Dtype = "float32" | "float64";
type Floats = Float32Array | Float64Array;

// The bounds asserted: a loss, logSumExp or logSoftmax value relative to itself (a KL's relative to
// its cross-entropy part); a gradient or a softmax row relative to its largest element.
const TOL: Record<Dtype, { value: number; row: number }> = {
  float32: { value: 2e-6, row: 1e-5 },
  float64: { value: 1e-11, row: 1e-10 },
};

/** Neumaier's compensated sum. */
class Sum {
  private s = 0;
  private c = 0;
  add(x: number): void {
    const t = this.s + x;
    this.c += Math.abs(this.s) >= Math.abs(x) ? this.s - t + x : x - t + this.s;
    this.s = t;
  }
  get value(): number {
    return this.s + this.c;
  }
}

type Kind = "equal" | "small" | "moderate" | "wide" | "offset" | "confident" | "sure";
const KINDS: Kind[] = ["equal", "small", "moderate", "wide", "offset", "confident", "sure"];
// Rows of 3e5 classes and more, one of each: a sum of C terms near 1, one dominated by a few terms,
// and the two confident kinds, whose S - 1 is C tiny terms.
const LONG_KINDS: Kind[] = ["small", "wide", "confident", "sure"];

interface Batch {
  c: number;
  rows: number;
  kinds: Kind[];
  z: Floats;
  labels: Int32Array;
  /** Probability rows (some exact zeros); one-hot at the label for confident rows. */
  t: Floats;
  /** ln t, -Infinity for 0. */
  lt: Floats;
  weights: Floats;
}

/** Rows of every kind (a few of each for short rows, one for long ones), generated in float32. */
function batchOf(c: number, dtype: Dtype): Batch {
  const copies = c <= 1000 ? 4 : c <= 1e4 ? 2 : 1;
  const kinds = (c >= 3e5 ? LONG_KINDS : KINDS).flatMap((k) => Array<Kind>(copies).fill(k));
  const rows = kinds.length;
  const r = rng(c);
  const z = new Float32Array(rows * c);
  const labels = new Int32Array(rows);
  const t = new Float32Array(rows * c);
  kinds.forEach((kind, i) => {
    const row = z.subarray(i * c, (i + 1) * c);
    const spread = { equal: 0, small: 0.1, moderate: 3, wide: 30, offset: 3, confident: 0.1, sure: 0.1 }[
      kind
    ];
    for (let j = 0; j < c; j++) row[j] = kind === "equal" ? 0.25 : (r() - 0.5) * 2 * spread;
    if (kind === "offset") for (let j = 0; j < c; j++) row[j] = row[j]! + 1000;
    const y = Math.floor(r() * c);
    labels[i] = y;
    const trow = t.subarray(i * c, (i + 1) * c);
    if (kind === "confident" || kind === "sure") {
      // Loss ln(1 + sum of the others' exponentials) ~ (C - 1) e^-margin: 1e-6, or 1e-12.
      row[y] = Math.log(c) + Math.log(kind === "confident" ? 1e6 : 1e12);
      trow[y] = 1;
    } else {
      let s = 0;
      for (let j = 0; j < c; j++) s += trow[j] = r() < 0.25 ? 0 : r();
      for (let j = 0; j < c; j++) trow[j] = trow[j]! / s;
    }
  });
  const lt = Float32Array.from(t, (v) => (v === 0 ? -Infinity : Math.log(v)));
  // Weights in [0.25, 2], every seventh 0.
  const weights = Float32Array.from({ length: c }, (_, j) => (j % 7 === 3 ? 0 : 0.25 + 1.75 * r()));
  const as = (x: Float32Array): Floats => (dtype === "float32" ? x : Float64Array.from(x));
  return { c, rows, kinds, z: as(z), labels, t: as(t), lt: as(lt), weights: as(weights) };
}

interface Config {
  name: string;
  target: "index" | "probs" | "kl";
  weights?: boolean;
  labelSmoothing?: number;
  temperature?: number;
  /** Class-index rows with this label are ignored (every third row gets it). */
  ignoreIndex?: number;
  logTarget?: boolean;
  /** Also run at 3e5 classes and more (every option appears in one of these). */
  long?: boolean;
}

const CONFIGS: Config[] = [
  { name: "indices", target: "index", long: true },
  { name: "indices, weights", target: "index", weights: true },
  { name: "indices, smoothing 0.1", target: "index", labelSmoothing: 0.1 },
  { name: "indices, T = 0.5", target: "index", temperature: 0.5 },
  { name: "indices, T = 4", target: "index", temperature: 4 },
  {
    name: "indices, weights, smoothing 0.2, T = 2, ignored rows",
    target: "index",
    weights: true,
    labelSmoothing: 0.2,
    temperature: 2,
    ignoreIndex: -1,
    long: true,
  },
  { name: "probabilities", target: "probs", long: true },
  { name: "probabilities, weights", target: "probs", weights: true },
  {
    name: "probabilities, smoothing 0.1, T = 0.5",
    target: "probs",
    labelSmoothing: 0.1,
    temperature: 0.5,
    long: true,
  },
  { name: "KL", target: "kl" },
  { name: "KL, log targets", target: "kl", logTarget: true, long: true },
  {
    name: "KL, weights, smoothing 0.1, T = 2",
    target: "kl",
    weights: true,
    labelSmoothing: 0.1,
    temperature: 2,
    long: true,
  },
];

interface Expected {
  loss: Float64Array;
  grad: Float64Array;
  /** The cross-entropy part of each row's loss (the KL's, less its target entropy). */
  scale: Float64Array;
  /** The 'mean' reduction's denominator. */
  den: number;
}

/** The float64 reference of every row's loss and gradient (of its own loss: reduction 'none'). */
function reference(b: Batch, o: Config, labels: Int32Array): Expected {
  const { c, rows, z } = b;
  const invT = 1 / (o.temperature ?? 1);
  const eps = o.labelSmoothing ?? 0;
  const w = o.weights ? b.weights : null;
  const loss = new Float64Array(rows);
  const scale = new Float64Array(rows);
  const grad = new Float64Array(rows * c);
  const a = new Float64Array(c);
  const tp = new Float64Array(c);
  const e = new Float64Array(c);
  let den = 0;
  for (let r = 0; r < rows; r++) {
    const off = r * c;
    const y = labels[r]!;
    if (o.target === "index" && y === o.ignoreIndex) continue;
    // Coefficients a_c = w_c t'_c.
    for (let j = 0; j < c; j++) {
      const wj = w ? w[j]! : 1;
      if (o.target === "index") {
        tp[j] = eps / c + (j === y ? 1 - eps : 0);
      } else {
        const tv = o.logTarget ? Math.exp(b.lt[off + j]!) : b.t[off + j]!;
        tp[j] = (1 - eps) * tv + eps / c;
      }
      a[j] = wj * tp[j]!;
    }
    den += o.target === "index" ? (w ? w[y]! : 1) : 1;
    let m = -Infinity;
    let top = -1;
    let ties = 0;
    for (let j = 0; j < c; j++) {
      const v = z[off + j]!;
      if (v > m) {
        m = v;
        top = j;
        ties = 1;
      } else if (v === m) ties++;
    }
    const sm1 = new Sum();
    const sA = new Sum();
    const sD = new Sum();
    const sK = new Sum();
    const rest = new Sum();
    for (let j = 0; j < c; j++) {
      const sh = (z[off + j]! - m) * invT;
      e[j] = Math.exp(sh);
      if (j !== top) sm1.add(e[j]!);
      if (a[j] !== 0) {
        sA.add(a[j]!);
        sD.add(a[j]! * sh);
        if (o.target === "kl") sK.add(a[j]! * Math.log(tp[j]!));
        if (j !== top) rest.add(a[j]!);
      }
    }
    const s1 = sm1.value;
    const A = sA.value;
    scale[r] = A * Math.log1p(s1) - sD.value;
    loss[r] = scale[r]! + sK.value;
    for (let j = 0; j < c; j++) {
      // At a unique max: (A / S - a) = ((A - a) - a (S - 1)) / S without cancellation.
      grad[off + j] =
        j === top && ties === 1
          ? ((rest.value - a[j]! * s1) / (1 + s1)) * invT
          : ((A * e[j]!) / (1 + s1) - a[j]!) * invT;
    }
  }
  return { loss, grad, scale, den };
}

/** Largest |got - want| of each row over the row's largest |want| (0 for a row of zeros, exact). */
function rowErrors(got: ArrayLike<number>, want: Float64Array, rows: number, c: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    let big = 0;
    let diff = 0;
    for (let j = r * c; j < (r + 1) * c; j++) {
      big = Math.max(big, Math.abs(want[j]!));
      diff = Math.max(diff, Math.abs(got[j]! - want[j]!));
    }
    out.push(big === 0 ? (diff === 0 ? 0 : Infinity) : diff / big);
  }
  return out;
}

const relative = (got: number, want: number): number =>
  want === 0 ? (got === 0 ? 0 : Infinity) : Math.abs(got - want) / Math.abs(want);

// The worst error seen per build, quantity and number of classes (printed with
// KLCORE_ACCURACY_REPORT=1: the figures docs/accuracy.md quotes).
const worst = new Map<string, number>();
function note(key: string, err: number): void {
  worst.set(key, Math.max(worst.get(key) ?? 0, err));
}

// 10 and 20 classes take the kernels' paths for rows of at most 16 and of fewer than 32 classes.
const CLASSES: Record<Dtype, number[]> = {
  float32: [10, 20, 100, 1000, 1e4, 1e5, 3e5, 1e6],
  float64: [10, 1000, 1e5],
};

describe.each(["float32", "float64"] as const)("%s softmax losses at any number of classes", (dtype) => {
  const { value: LOSS_TOL, row: ROW_TOL } = TOL[dtype];
  for (const c of CLASSES[dtype]) {
    it(`${c} classes`, () => {
      const b = batchOf(c, dtype);
      const { rows, z } = b;
      for (const o of CONFIGS.filter((x) => x.long || c < 3e5)) {
        // Every third row ignored where the configuration has an ignore index.
        const labels =
          o.ignoreIndex === undefined ? b.labels : b.labels.map((v, i) => (i % 3 === 1 ? o.ignoreIndex! : v));
        const want = reference(b, o, labels);
        const options = {
          classes: c,
          reduction: "none" as const,
          ...(o.weights ? { weights: b.weights } : {}),
          ...(o.labelSmoothing ? { labelSmoothing: o.labelSmoothing } : {}),
          ...(o.temperature ? { temperature: o.temperature } : {}),
          ...(o.ignoreIndex !== undefined ? { ignoreIndex: o.ignoreIndex } : {}),
        };
        for (const [name, k] of builds) {
          const call = (
            extra: object,
          ): { loss: number | Float64Array; grad?: Float32Array | Float64Array } =>
            o.target === "index"
              ? k.crossEntropyWithLogits(labels, z, { ...options, ...extra })
              : o.target === "probs"
                ? k.crossEntropyWithLogits(b.t, z, { ...options, ...extra })
                : k.klWithLogits(o.logTarget ? b.lt : b.t, z, {
                    ...options,
                    logTarget: !!o.logTarget,
                    ...extra,
                  });
          const withGrad = call({ grad: true });
          const plain = call({});
          const losses = withGrad.loss as Float64Array;
          // KL's loss less the target's entropy is its cross-entropy, the scale of its rounding.
          const lossError = (v: number, r: number): number =>
            o.target === "kl" ? Math.abs(v - want.loss[r]!) / want.scale[r]! : relative(v, want.loss[r]!);
          const lossErrs = Array.from(losses, lossError);
          const gradErrs = rowErrors(withGrad.grad!, want.grad, rows, c);
          for (let r = 0; r < rows; r++) {
            const where = `${name}, ${o.name}, row ${r} (${b.kinds[r]})`;
            if (want.loss[r] === 0 && o.target !== "kl") expect(losses[r], where).toBe(0);
            else expect(lossErrs[r], where).toBeLessThanOrEqual(LOSS_TOL);
            expect(gradErrs[r], where).toBeLessThanOrEqual(ROW_TOL);
            const alone = (plain.loss as Float64Array)[r]!;
            if (want.loss[r] === 0 && o.target !== "kl") expect(alone, `${where}, no gradient`).toBe(0);
            else expect(lossError(alone, r), `${where}, no gradient`).toBeLessThanOrEqual(LOSS_TOL);
            note(`${dtype} ${name} ${o.target === "kl" ? "kl" : "xent"} loss ${c}`, lossErrs[r]!);
            note(`${dtype} ${name} gradient ${c}`, gradErrs[r]!);
          }
          if (o.ignoreIndex !== undefined) {
            // 'mean': the sum over the weights of the rows not ignored, the gradient scaled alike.
            const mean = k.crossEntropyWithLogits(labels, z, { ...options, reduction: "mean", grad: true });
            const total = want.loss.reduce((s, v) => s + v, 0);
            expect(relative(mean.loss, total / want.den)).toBeLessThanOrEqual(LOSS_TOL);
            const scaled = want.grad.map((g) => g / want.den);
            for (const err of rowErrors(mean.grad!, scaled, rows, c))
              expect(err).toBeLessThanOrEqual(ROW_TOL);
          }
        }
      }

      // logSumExp, logSoftmax and softmax share the exp pass.
      for (const T of c < 3e5 ? [1, 0.5, 3] : [1, 3]) {
        const invT = 1 / T;
        const lse = new Float64Array(rows);
        const lsm = new Float64Array(rows * c);
        const sm = new Float64Array(rows * c);
        for (let r = 0; r < rows; r++) {
          const off = r * c;
          let m = -Infinity;
          let top = 0;
          for (let j = 0; j < c; j++) if (z[off + j]! > m) [m, top] = [z[off + j]!, j];
          const s = new Sum();
          for (let j = 0; j < c; j++) if (j !== top) s.add(Math.exp((z[off + j]! - m) * invT));
          const ln = Math.log1p(s.value);
          lse[r] = m + ln;
          for (let j = 0; j < c; j++) {
            const sh = (z[off + j]! - m) * invT;
            lsm[off + j] = sh - ln;
            sm[off + j] = Math.exp(sh) / (1 + s.value);
          }
        }
        for (const [name, k] of builds) {
          const opts = { classes: c, temperature: T };
          if (T === 1) {
            const got = k.logSumExp(z, { classes: c });
            for (let r = 0; r < rows; r++) {
              expect(relative(got[r]!, lse[r]!), `${name} logSumExp row ${r}`).toBeLessThanOrEqual(LOSS_TOL);
              note(`${dtype} ${name} logSumExp ${c}`, relative(got[r]!, lse[r]!));
            }
          }
          const gotLsm = k.logSoftmax(z, opts);
          let lsmErr = 0;
          for (let i = 0; i < rows * c; i++) lsmErr = Math.max(lsmErr, relative(gotLsm[i]!, lsm[i]!));
          expect(lsmErr, `${name} logSoftmax, T = ${T}`).toBeLessThanOrEqual(LOSS_TOL);
          note(`${dtype} ${name} logSoftmax ${c}`, lsmErr);
          const smErr = Math.max(...rowErrors(k.softmax(z, opts), sm, rows, c));
          expect(smErr, `${name} softmax, T = ${T}`).toBeLessThanOrEqual(ROW_TOL);
          note(`${dtype} ${name} softmax ${c}`, smErr);
        }
      }
    });
  }
});

afterAll(() => {
  if (process.env.KLCORE_ACCURACY_REPORT)
    console.log([...worst].map(([k, v]) => `${k}: ${v.toExponential(2)}`).join("\n"));
});
