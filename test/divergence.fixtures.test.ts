// Every golden case (SciPy float64 references) against both builds. Tolerances from the spec:
// float64 within 1e-12 relative, float32 within 2e-6 relative (reference computed on the
// float32-rounded inputs), each with a tiny absolute floor for values that are exactly 0.
import { describe, expect, it } from "vitest";
import { createInstanceSync, hasFma, type Klcore } from "../dist/index.js";
import {
  close,
  decodeF64,
  decodeScalar,
  inputOf,
  loadFixtures,
  runCase,
  type FixtureCase,
} from "./helpers/fixtures.js";

const cases = loadFixtures("divergence.json");
const builds: [string, Klcore][] = [
  ["simd", createInstanceSync({ simd: true })],
  ["scalar", createInstanceSync({ simd: false })],
  // The opt-in FMA build holds the same bounds (vitest.config.ts enables relaxed SIMD on Node 20;
  // test/fma.test.ts checks that it runs).
  ...(hasFma() ? [["fma", createInstanceSync({ fma: true })] as [string, Klcore]] : []),
];

// Absolute floors: rounding noise of a sum whose exact value is 0 or tiny. A distance is the square
// root of a divergence, so its floor is the square root of the divergence's.
const ABS = { float64: 1e-15, float32: 1e-7 };

function tolerance(c: FixtureCase): { rel: number; abs: number } {
  const rel = c.dtype === "float64" ? 1e-12 : 2e-6;
  const abs = c.fn === "jsDistance" ? Math.sqrt(ABS[c.dtype]) : ABS[c.dtype];
  return { rel, abs };
}

function run(k: Klcore, c: FixtureCase): number | Float64Array | Float32Array {
  const q = c.q === undefined ? undefined : inputOf(c, "q");
  return runCase(k, c.fn, inputOf(c, "p"), q, c.options);
}

function mismatches(got: number | Float64Array | Float32Array, c: FixtureCase): string[] {
  const { rel, abs } = tolerance(c);
  const want =
    c.expectedShape === "array" ? Array.from(decodeF64(c.expected as string)) : [decodeScalar(c.expected)];
  const have = typeof got === "number" ? [got] : Array.from(got);
  if (have.length !== want.length) return [`length ${have.length} != ${want.length}`];
  const bad: string[] = [];
  for (let i = 0; i < want.length; i++) {
    // relEntr returns float32 values for float32 input: allow their rounding (2^-24 relative).
    const r = c.fn === "relEntr" && c.dtype === "float32" ? Math.max(rel, 2 ** -23) : rel;
    if (!close(have[i]!, want[i]!, r, abs)) bad.push(`[${i}] got ${have[i]} want ${want[i]}`);
  }
  return bad;
}

for (const [build, k] of builds) {
  describe(`golden fixtures (${build} build)`, () => {
    const groups = [...new Set(cases.map((c) => c.group))];
    for (const group of groups) {
      it(`${group}: every case within tolerance of SciPy`, () => {
        const failures: string[] = [];
        const mine = cases.filter((c) => c.group === group);
        for (const c of mine) {
          const bad = mismatches(run(k, c), c);
          if (bad.length)
            failures.push(`${c.name} ${JSON.stringify(c.options)}: ${bad.slice(0, 3).join("; ")}`);
        }
        expect(mine.length).toBeGreaterThan(0);
        expect(failures).toEqual([]);
      });
    }
  });
}
