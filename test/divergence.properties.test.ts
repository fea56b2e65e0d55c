// Properties that must hold for every input, checked on random distributions (fast-check, fixed
// seed so a failure reproduces): KL >= 0, KL(p||p) = 0, KL = CE - H to rounding, JS symmetric and
// in [0, ln 2], in both builds and both precisions.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { createInstanceSync } from "../dist/index.js";

const builds = [
  ["simd", createInstanceSync({ simd: true })],
  ["scalar", createInstanceSync({ simd: false })],
] as const;

/** A distribution of 1..40 classes with some exact zeros, normalised in float64. */
const distribution = fc
  .array(fc.oneof(fc.constant(0), fc.double({ min: 1e-9, max: 1, noNaN: true })), {
    minLength: 1,
    maxLength: 40,
  })
  .filter((a) => a.some((v) => v > 0))
  .map((a) => {
    const s = a.reduce((x, y) => x + y, 0);
    return a.map((v) => v / s);
  });

/** Two distributions of the same length; q strictly positive so KL and CE are finite. */
const pair = distribution.chain((p) =>
  fc
    .array(fc.double({ min: 1e-6, max: 1, noNaN: true }), { minLength: p.length, maxLength: p.length })
    .map((raw) => {
      const s = raw.reduce((x, y) => x + y, 0);
      return [p, raw.map((v) => v / s)] as const;
    }),
);

const precisions = [
  ["float64", (a: readonly number[]) => Float64Array.from(a), 1e-12],
  ["float32", (a: readonly number[]) => Float32Array.from(a), 2e-5],
] as const;

const params = { seed: 20261121, numRuns: 300 };

for (const [build, k] of builds) {
  for (const [dtype, make, rel] of precisions) {
    describe(`${build} build, ${dtype}`, () => {
      it("KL >= 0 and KL(p||p) = 0 exactly", () => {
        fc.assert(
          fc.property(pair, ([p, q]) => {
            const a = make(p);
            expect(k.kl(a, make(q))).toBeGreaterThanOrEqual(0);
            expect(k.kl(a, a)).toBe(0);
          }),
          params,
        );
      });

      it("KL = H(p, q) - H(p) to rounding", () => {
        fc.assert(
          fc.property(pair, ([p, q]) => {
            const a = make(p);
            const b = make(q);
            const ce = k.crossEntropy(a, b);
            const h = k.entropy(a);
            const gap = Math.abs(k.kl(a, b) - (ce - h));
            expect(gap).toBeLessThanOrEqual(rel * (Math.abs(ce) + Math.abs(h)) + 1e-15);
          }),
          params,
        );
      });

      it("Jensen-Shannon is symmetric and within [0, ln 2]; the distance is its square root", () => {
        fc.assert(
          fc.property(
            distribution.chain((p) =>
              fc.tuple(fc.constant(p), fc.shuffledSubarray(p, { minLength: p.length })),
            ),
            ([p, shuffled]) => {
              const a = make(p);
              const b = make(shuffled);
              const js = k.jsDivergence(a, b);
              expect(k.jsDivergence(b, a)).toBe(js);
              expect(js).toBeGreaterThanOrEqual(0);
              expect(js).toBeLessThanOrEqual(Math.LN2);
              expect(k.jsDistance(a, b)).toBe(Math.sqrt(js));
            },
          ),
          params,
        );
      });
    });
  }
}
