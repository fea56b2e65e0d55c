// holdOut's labels: any array of class indices (float labels too, as TF.js keeps them), the same
// split for the same classes; a label that is not a class index is refused, never a lost row.
import { describe, expect, it } from "vitest";
import { holdOut } from "../dist/index.js";

describe("holdOut labels", () => {
  const labels = [0, 0, 1, 1, 1, 2, 2, 2, 2, 0];

  it("Float32Array, Float64Array and number[] labels give the Int32Array's split", () => {
    const want = holdOut(10, 4, { labels: Int32Array.from(labels), seed: 3 });
    expect(want.held.length + want.train.length).toBe(10);
    for (const y of [labels, Float32Array.from(labels), Float64Array.from(labels)]) {
      const got = holdOut(10, 4, { labels: y, seed: 3 });
      expect(Array.from(got.held)).toEqual(Array.from(want.held));
      expect(Array.from(got.train)).toEqual(Array.from(want.train));
    }
  });

  it("a label that is not an integer >= 0 is refused, naming it", () => {
    for (const bad of [1.5, -1, NaN]) {
      const y = Float64Array.from(labels);
      y[4] = bad;
      expect(() => holdOut(10, 4, { labels: y })).toThrow(
        new TypeError(`labels must be class indices, integers >= 0; got ${bad}`),
      );
    }
  });
});
