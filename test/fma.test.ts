// The opt-in FMA build (LoadOptions.fma, docs/fma.md): it loads where the engine validates relaxed
// SIMD (here: vitest.config.ts passes Node 20 the flag), reports itself, refuses what it cannot be,
// and says plainly what to do where the engine lacks relaxed SIMD (a child Node without the flag).
// Its accuracy is checked with the other builds' bounds in the accuracy and fixture tests, which
// run it as a third build, and in Chromium by test/browser.test.ts.
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { adam, createInstance, createInstanceSync, fit, hasFma, hasSimd } from "../dist/index.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const nodeMajor = Number(process.versions.node.split(".")[0]);

describe("the FMA build", () => {
  it("runs under the test configuration (so the accuracy tests' FMA runs are not skipped)", async () => {
    expect(hasSimd()).toBe(true);
    expect(hasFma()).toBe(true);
    const k = await createInstance({ fma: true });
    expect(k.backend()).toMatchObject({ simd: true, build: "fma" });
    expect(createInstanceSync({ fma: false }).backend().build).toBe("simd");
  });

  it("refuses what it cannot be", () => {
    expect(() => createInstanceSync({ fma: true, simd: false })).toThrow(
      /\{ fma: true \} is a SIMD build: it cannot be combined with \{ simd: false \}/,
    );
    expect(() => createInstanceSync({ fma: 1 } as never)).toThrow(/fma must be a boolean; got 1/);
  });

  it("trains as the SIMD build does, to float32 rounding", async () => {
    const x = Float32Array.from({ length: 200 * 20 }, (_, i) => Math.sin(i * 0.37));
    const y = Int32Array.from({ length: 200 }, (_, i) => (x[i * 20]! + x[i * 20 + 1]! > 0 ? 1 : 0));
    const run = async (k: ReturnType<typeof createInstanceSync>) => {
      const model = k.mlp({ inputs: 20, hidden: [16], classes: 2, seed: 3 });
      const r = await fit(
        model,
        { x, y },
        { epochs: 5, batchSize: 32, optimizer: adam({ learningRate: 0.01 }), seed: 1 },
      );
      return r.history.map((h) => h.loss);
    };
    const a = await run(createInstanceSync());
    const f = await run(createInstanceSync({ fma: true }));
    expect(f[f.length - 1]!).toBeLessThan(f[0]!);
    for (let i = 0; i < a.length; i++) expect(Math.abs(f[i]! - a[i]!)).toBeLessThan(1e-5 * Math.abs(a[i]!));
  });

  it.runIf(nodeMajor < 22)(
    "without relaxed SIMD, { fma: true } says what to do and the default still loads",
    () => {
      const script = `
      const m = await import(${JSON.stringify(join(root, "dist/index.js"))});
      let message = "";
      try { m.initSync({ fma: true }); } catch (e) { message = e.message; }
      console.log(JSON.stringify({ hasFma: m.hasFma(), message, build: m.initSync().build }));`;
      const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
      const r = JSON.parse(out) as { hasFma: boolean; message: string; build: string };
      expect(r.hasFma).toBe(false);
      expect(r.message).toMatch(
        /cannot run WebAssembly relaxed SIMD .*--experimental-wasm-relaxed-simd.*hasFma\(\)/,
      );
      expect(r.build).toBe("simd");
    },
  );
});
