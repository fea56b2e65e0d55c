// The public surface is defined once: each top-level function is the Klcore method of the same name,
// called on the default instance at call time (so init() with another build takes effect).
import { afterAll, describe, expect, it } from "vitest";
import * as klcore from "../dist/index.js";

// Methods of Klcore kept off the top level: @internal ones, and `targets`, a getter there and an
// object at the top level.
const NOT_TOP_LEVEL = [
  "probabilityLossWithLogits",
  "denseForward",
  "denseBackward",
  "activate",
  "activateBackward",
  "targets",
];

describe("the top-level functions", () => {
  afterAll(() => {
    klcore.initSync({ simd: klcore.hasSimd() });
  });

  it("are the public methods of Klcore, one for one", () => {
    const methods = Object.getOwnPropertyNames(klcore.Klcore.prototype).filter(
      (n) => n !== "constructor" && !NOT_TOP_LEVEL.includes(n),
    );
    expect(methods.length).toBeGreaterThan(20);
    const exports = klcore as unknown as Record<string, unknown>;
    for (const name of methods) expect(typeof exports[name], name).toBe("function");
  });

  it("run in the default instance current at the call", () => {
    const p = Float64Array.of(0.2, 0.3, 0.5);
    const q = Float64Array.of(0.1, 0.6, 0.3);
    klcore.initSync({ simd: false });
    expect(klcore.backend().build).toBe("scalar");
    const scalar = klcore.createInstanceSync({ simd: false });
    expect(klcore.kl(p, q)).toBe(scalar.kl(p, q));
    expect(Array.from(klcore.kl(p, q, { reduction: "none" }))).toEqual(
      Array.from(scalar.kl(p, q, { reduction: "none" })),
    );
    if (klcore.hasSimd()) {
      klcore.initSync({ simd: true });
      expect(klcore.backend().build).toBe("simd");
    }
    const m = klcore.softmaxRegression({ inputs: 2, classes: 3 });
    expect(m.predict([0.5, -1]).length).toBe(3);
    m.dispose();
  });
});
