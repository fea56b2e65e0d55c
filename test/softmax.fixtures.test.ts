// Every golden case of the softmax family (NumPy float64 references of PyTorch's semantics, from
// test/fixtures/generate_losses.py) against both builds. Tolerances from the spec: the loss within
// 1e-11 relative in float64 and 3e-5 in float32 (references on the float32-rounded inputs);
// gradients and softmax outputs within 1e-10 (float64) and 2e-5 (float32) of their row scale.
import { describe, expect, it } from "vitest";
import { createInstanceSync, hasFma, type Klcore } from "../dist/index.js";
import {
  close,
  decodeF64,
  decodeScalar,
  lossCases,
  lossInput,
  relativeToScale,
  type LossCase,
} from "./helpers/fixtures.js";

const FAMILY = ["logSumExp", "softmax", "logSoftmax", "crossEntropyWithLogits", "klWithLogits"];
const cases = lossCases(...FAMILY);
const builds: [string, Klcore][] = [
  ["simd", createInstanceSync({ simd: true })],
  ["scalar", createInstanceSync({ simd: false })],
  // The opt-in FMA build holds the same bounds (vitest.config.ts enables relaxed SIMD on Node 20;
  // test/fma.test.ts checks that it runs).
  ...(hasFma() ? [["fma", createInstanceSync({ fma: true })] as [string, Klcore]] : []),
];

const arrayOf = lossInput;

function run(
  k: Klcore,
  c: LossCase,
): { loss?: number | Float64Array; out?: ArrayLike<number>; grad?: ArrayLike<number> } {
  const z = arrayOf(c, "logits");
  if (c.fn === "logSumExp") return { out: k.logSumExp(z, c.options) };
  if (c.fn === "softmax") return { out: k.softmax(z, c.options) };
  if (c.fn === "logSoftmax") return { out: k.logSoftmax(z, c.options) };
  const options = { ...c.options, grad: c.expected.grad !== undefined } as Record<string, unknown>;
  if (c.inputs.weights) options.weights = arrayOf(c, "weights");
  const target = c.targetKind === "index" ? Array.from(decodeF64(c.inputs.target!)) : arrayOf(c, "target");
  const r =
    c.fn === "klWithLogits"
      ? k.klWithLogits(target as Float64Array, z, options as never)
      : k.crossEntropyWithLogits(target, z, options as never);
  return r;
}

function mismatches(k: Klcore, c: LossCase): string[] {
  const f64 = c.dtype === "float64";
  const rel = f64 ? 1e-11 : 3e-5;
  const rowTol = f64 ? 1e-10 : 2e-5;
  const got = run(k, c);
  const bad: string[] = [];
  if (c.expected.loss !== undefined) {
    if (c.expected.lossShape === "array") {
      const want = decodeF64(c.expected.loss as string);
      const have = got.loss as Float64Array;
      want.forEach((w, i) => {
        if (!close(have[i]!, w, rel, f64 ? 1e-14 : 1e-6)) bad.push(`loss[${i}] ${have[i]} want ${w}`);
      });
    } else {
      const w = decodeScalar(c.expected.loss);
      if (!close(got.loss as number, w, rel, f64 ? 1e-14 : 1e-6))
        bad.push(`loss ${String(got.loss)} want ${w}`);
    }
  }
  for (const key of ["out", "grad"] as const) {
    const b64 = c.expected[key];
    if (b64 === undefined) continue;
    const want = decodeF64(b64 as string);
    const have = got[key];
    if (!have) {
      bad.push(`${key} missing`);
      continue;
    }
    // logSumExp and logSoftmax values are logs: compare each against its own size.
    const perValue = key === "out" && c.fn !== "softmax";
    const err = perValue
      ? Math.max(...Array.from(want, (w, i) => (close(have[i]!, w, rel, f64 ? 1e-12 : 1e-5) ? 0 : Infinity)))
      : relativeToScale(have, want, 1e-300);
    if (!(err <= rowTol)) bad.push(`${key}: error ${err} of its scale`);
  }
  return bad;
}

for (const [build, k] of builds) {
  describe(`softmax-family golden fixtures (${build} build)`, () => {
    for (const group of [...new Set(cases.map((c) => c.group))]) {
      it(`${group}: every case within tolerance`, () => {
        const mine = cases.filter((c) => c.group === group);
        const failures: string[] = [];
        for (const c of mine) {
          const bad = mismatches(k, c);
          if (bad.length)
            failures.push(`${c.name} ${JSON.stringify(c.options)}: ${bad.slice(0, 3).join("; ")}`);
        }
        expect(mine.length).toBeGreaterThan(0);
        expect(failures).toEqual([]);
      });
    }
  });
}
