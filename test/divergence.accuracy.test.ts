// Accuracy where p and q are nearly equal, against mpmath at 50 digits on the exact float inputs
// (test/fixtures/accuracy.json, made by test/fixtures/generate_accuracy.py): KL, its kl_div sum
// (generalized), Jensen-Shannon and its distance at relative distances 1e-1 ... 1e-15, every
// length 1 ... 15 and block and chunk edges up to 1e5, batches, tiny (subnormal) and huge values
// and ratios, log-space inputs, normalize, and elementwise rel_entr, in both builds and both
// precisions. Each group's largest relative error must stay within its bound (docs/accuracy.md
// states them; ACCURACY_REPORT=1 prints the measured maxima).
import { createHash } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { createInstanceSync, hasFma, type DivergenceOptions, type Klcore } from "../dist/index.js";
import { decodeF64, decodeScalar, loadFixtures, nearPair } from "./helpers/fixtures.js";

interface AccuracyCase {
  name: string;
  group: string;
  dtype: "float32" | "float64";
  near?: { seed: number; n: number; eps: number; sha256p: string; sha256q: string };
  classes?: number;
  rows?: number;
  p?: string;
  q?: string;
  options: Record<string, unknown>;
  expected: Record<string, number | string>;
}

const cases = loadFixtures("accuracy.json") as unknown as AccuracyCase[];
const builds: [string, Klcore][] = [
  ["simd", createInstanceSync({ simd: true })],
  ["scalar", createInstanceSync({ simd: false })],
  // The opt-in FMA build holds the same bounds (vitest.config.ts enables relaxed SIMD on Node 20;
  // test/fma.test.ts checks that it runs).
  ...(hasFma() ? [["fma", createInstanceSync({ fma: true })] as [string, Klcore]] : []),
];

// Largest relative error allowed, by precision and quantity. float64: a few ulp (2^-52 = 2.2e-16)
// for the sums of terms without cancellation; float32: docs/accuracy.md's float32 bound.
const BOUND: Record<string, Record<string, number>> = {
  float64: { kl: 2e-15, klGeneralized: 2e-15, js: 2e-15, jsDistance: 1e-15, relEntr: 6e-16 },
  float32: { kl: 5e-7, klGeneralized: 5e-7, js: 5e-7, jsDistance: 2.5e-7, relEntr: 6e-7 },
};
const EPS = 2 ** -52;

/**
 * An absolute allowance on top of the relative bound where the inputs themselves limit the
 * accuracy (docs/accuracy.md): an operand given as logs next to a linear one, and the sum of
 * p - q of log-space KL, are rounded once per element, worth eps sum |p - q|; normalize divides
 * KL's kl_div sum by sum p and adds ln(1 + w) - w (w = sum q / sum p - 1), two terms of about
 * w^2 / 2 that cancel where q is a scaled copy of p; Jensen-Shannon of normalised rows is off by
 * the square of the scales' rounding, about eps^2.
 */
function allowance(c: AccuracyCase, key: string, p: ArrayLike<number>, q: ArrayLike<number>): number {
  const logP = c.options.logP === true;
  const logQ = c.options.logQ === true;
  if (c.group === "log" && (key === "kl" || !(logP && logQ))) {
    // With one operand linear, KL's sum of p - q takes the rounding of every converted element.
    let spread = 0;
    let mass = 0;
    for (let i = 0; i < p.length; i++) {
      const x = logP ? Math.exp(p[i]!) : p[i]!;
      const y = logQ ? Math.exp(q[i]!) : q[i]!;
      spread += Math.abs(x - y);
      mass += x;
    }
    return 4 * EPS * (key === "kl" && !(logP && logQ) ? mass : spread);
  }
  if (c.group === "normalize") {
    let sp = 0;
    let sq = 0;
    for (let i = 0; i < p.length; i++) {
      sp += p[i]!;
      sq += q[i]!;
    }
    const w = sq / sp - 1;
    return key === "kl" ? 8 * EPS * (w * w) : 4 * EPS * EPS;
  }
  return 0;
}

function sha16(values: ArrayLike<number>): string {
  return createHash("sha256")
    .update(new Uint8Array(Float64Array.from(values).buffer))
    .digest("hex")
    .slice(0, 16);
}

function rowsOf(c: AccuracyCase): [Float32Array | Float64Array, Float32Array | Float64Array] {
  const Arr = c.dtype === "float32" ? Float32Array : Float64Array;
  if (c.near) {
    const { seed, n, eps } = c.near;
    const p: number[] = [];
    const q: number[] = [];
    for (let r = 0; r < (c.rows ?? 1); r++) {
      const [a, b] = nearPair(seed + r, n, eps, c.dtype);
      p.push(...a);
      q.push(...b);
    }
    return [Arr.from(p), Arr.from(q)];
  }
  return [Arr.from(decodeF64(c.p!)), Arr.from(decodeF64(c.q!))];
}

function call(
  k: Klcore,
  key: string,
  p: Float32Array | Float64Array,
  q: Float32Array | Float64Array,
  c: AccuracyCase,
): number | Float32Array | Float64Array {
  // Batches: one value per row.
  const o: DivergenceOptions = {
    ...c.options,
    ...(c.classes ? { classes: c.classes, reduction: "none" as const } : {}),
  };
  switch (key) {
    case "kl":
      return k.kl(p, q, o);
    case "klGeneralized":
      return k.kl(p, q, { ...o, generalized: true });
    case "js":
      return k.jsDivergence(p, q, o);
    case "jsDistance":
      return k.jsDistance(p, q, o);
    case "relEntr":
      return k.relEntr(p, q);
    default:
      throw new Error(`unknown quantity ${key}`);
  }
}

/** |got - want| / |want|; 0 where equal (infinities included), Infinity where want is 0 and got is not. */
function relErr(got: number, want: number): number {
  if (Object.is(got, want) || got === want) return 0;
  if (!Number.isFinite(want) || !Number.isFinite(got)) return Infinity;
  return want === 0 ? Infinity : Math.abs(got - want) / Math.abs(want);
}

// Largest error per build / dtype / group / quantity, and where.
const worst = new Map<string, { err: number; at: string }>();

function record(key: string, err: number, at: string): void {
  const w = worst.get(key);
  if (!w || err > w.err) worst.set(key, { err, at });
}

for (const [build, k] of builds) {
  describe(`accuracy near p = q (${build} build)`, () => {
    const groups = [...new Set(cases.map((c) => c.group))];
    for (const group of groups) {
      it(`${group}: every value within its bound of mpmath`, () => {
        const mine = cases.filter((c) => c.group === group);
        const failures: string[] = [];
        for (const c of mine) {
          const [p, q] = rowsOf(c);
          // The rows are the generator's, bit for bit.
          if (c.near && (sha16(p) !== c.near.sha256p || sha16(q) !== c.near.sha256q)) {
            failures.push(`${c.name}: the rows differ from the generator's`);
            continue;
          }
          for (const [key, want] of Object.entries(c.expected)) {
            const got = call(k, key, p, q, c);
            const wants =
              typeof want === "string" && want.length > 12
                ? Array.from(decodeF64(want))
                : [decodeScalar(want)];
            const gots = typeof got === "number" ? [got] : Array.from(got);
            expect(gots.length).toBe(wants.length);
            const bound = BOUND[c.dtype]![key]!;
            const extra = allowance(c, key, p, q);
            for (let i = 0; i < wants.length; i++) {
              const g = gots[i]!;
              const w = wants[i]!;
              // Relative error beyond the allowance (which is 0 for most groups).
              let err: number;
              if (key === "relEntr" && c.dtype === "float32") {
                // Float32 results: against the reference rounded to float32, and below the normal
                // range against half the spacing of float32 subnormals.
                const w32 = Math.fround(w);
                err =
                  Number.isFinite(w32) && Math.abs(w32) < 2 ** -126
                    ? (Math.abs(g - w32) / 2 ** -149) * EPS
                    : relErr(g, w32);
              } else if (extra > 0 && Number.isFinite(g) && w !== 0) {
                err = Math.max(0, Math.abs(g - w) - extra) / Math.abs(w);
              } else {
                err = relErr(g, w);
              }
              record(`${build} ${c.dtype} ${group} ${key}`, err, `${c.name}[${i}]`);
              if (!(err <= bound))
                failures.push(`${c.name} ${key}[${i}]: got ${g} want ${w} (${err.toExponential(2)})`);
            }
          }
        }
        expect(mine.length).toBeGreaterThan(0);
        expect(failures.slice(0, 20)).toEqual([]);
      });
    }
  });
}

describe("length 0", () => {
  it("relEntr of empty rows is empty; the reductions refuse them", () => {
    for (const [, k] of builds) {
      for (const Arr of [Float32Array, Float64Array]) {
        expect(k.relEntr(new Arr(0), new Arr(0)).length).toBe(0);
        expect(() => k.kl(new Arr(0), new Arr(0))).toThrow(RangeError);
        expect(() => k.jsDivergence(new Arr(0), new Arr(0))).toThrow(RangeError);
      }
    }
  });
});

afterAll(() => {
  if (!process.env.ACCURACY_REPORT) return;
  const rows = [...worst.entries()].sort(([a], [b]) => a.localeCompare(b));
  for (const [key, { err, at }] of rows) console.log(`${key.padEnd(40)} ${err.toExponential(2)}  ${at}`);
});
