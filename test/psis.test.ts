// PSIS (src/psis.ts) against test/fixtures/generate_psis.py, a NumPy re-implementation of the
// published algorithm (Zhang and Stephens' fit with the weakly informative prior, as `loo` and
// ArviZ compute it): k and every smoothed log-weight, on normal log-weights of every spread,
// Pareto tails of known shape, a too-narrow proposal and a huge offset; and its bad input.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { psis } from "../dist/index.js";
import { decodeF64, decodeScalar } from "./helpers/fixtures.js";

interface PsisCase {
  name: string;
  logWeights: string;
  k: number | string;
  smoothed: string;
}

const path = fileURLToPath(new URL("./fixtures/psis.json", import.meta.url));
const cases = (JSON.parse(readFileSync(path, "utf8")) as { cases: PsisCase[] }).cases;

describe("psis against the NumPy re-implementation", () => {
  it("has the fixture's cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  for (const c of cases) {
    it(c.name, () => {
      const r = psis(decodeF64(c.logWeights));
      const k = decodeScalar(c.k);
      if (Number.isFinite(k)) {
        // Sums over up to 4096 terms in another order (NumPy's pairwise sums): rounding only.
        expect(Math.abs(r.k - k)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(k)));
      } else {
        expect(r.k).toBe(k);
      }
      const want = decodeF64(c.smoothed);
      expect(r.logWeights.length).toBe(want.length);
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(r.logWeights[i]! - want[i]!));
      expect(worst).toBeLessThanOrEqual(1e-11);
    });
  }

  it("reads k as the published thresholds do: a Pareto tail's shape is recovered", () => {
    // pareto/n=4096/k=0.3 and k=0.6: within 0.1 of the true shape (the estimator's spread at n_tail 192).
    const byName = new Map(cases.map((c) => [c.name, c]));
    for (const [name, k] of [
      ["pareto/n=4096/k=0.3", 0.3],
      ["pareto/n=4096/k=0.6", 0.6],
    ] as const) {
      expect(Math.abs(psis(decodeF64(byName.get(name)!.logWeights)).k - k)).toBeLessThan(0.11);
    }
  });

  it("rejects NaN, +Infinity, too few weights and non-arrays", () => {
    expect(() => psis([0, 1, NaN, 2, 3])).toThrow(/logWeights\[2\]/);
    expect(() => psis([0, 1, Infinity, 2, 3])).toThrow(/logWeights\[2\]/);
    expect(() => psis([0, 1, 2])).toThrow(RangeError);
    expect(() => psis([-Infinity, -Infinity, -Infinity, -Infinity, -Infinity])).toThrow(RangeError);
    expect(() => psis("abc" as unknown as number[])).toThrow(TypeError);
  });
});
