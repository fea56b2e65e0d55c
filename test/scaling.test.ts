// The standardiser against mpmath references (test/fixtures/generate_scaling.py): means and
// deviations over tiny, huge, offset, constant and float32 columns; its transform; saving and
// loading; every input form and error.
import { describe, expect, it } from "vitest";
import { loadStandardizer, standardize, type StandardizerJSON } from "../dist/index.js";
import { decodeF64 } from "./helpers/fixtures.js";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

interface ScalingCase {
  name: string;
  rows: number;
  inputs: number;
  x: string;
  y: string;
  mean: string;
  sd: string;
  transform: string;
}

const cases = (
  JSON.parse(readFileSync(fileURLToPath(new URL("./fixtures/scaling.json", import.meta.url)), "utf8")) as {
    cases: ScalingCase[];
  }
).cases;

/** Units in the last place of a float64 at `v`. */
const ulp = (v: number): number => {
  const a = Math.abs(v);
  return a === 0 ? Number.MIN_VALUE : 2 ** (Math.floor(Math.log2(a)) - 52);
};

describe("standardize against mpmath", () => {
  it("has cases over every domain", () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
    for (const name of ["offset", "tiny", "huge", "constant columns", "one row", "float32 values"])
      expect(cases.some((c) => c.name === name)).toBe(true);
  });

  it.each(cases.map((c) => [c.name, c] as const))("%s", (_, c) => {
    const x = decodeF64(c.x);
    const mean = decodeF64(c.mean);
    const sd = decodeF64(c.sd);
    const s = standardize(x, { inputs: c.inputs });
    expect(s.inputs).toBe(c.inputs);
    for (let k = 0; k < c.inputs; k++) {
      // The mean's error, in units of the column's largest magnitude (a sum of n rounded terms).
      let largest = 0;
      for (let r = 0; r < c.rows; r++) largest = Math.max(largest, Math.abs(x[r * c.inputs + k]!));
      const meanError = Math.abs(s.mean[k]! - mean[k]!) / ulp(largest);
      expect(meanError, `${c.name} mean[${k}]`).toBeLessThanOrEqual(c.rows + 2);
      if (sd[k] === 0) {
        expect(s.scale[k], `${c.name}: a constant column keeps scale 1`).toBe(1);
      } else {
        // Relative to the deviation: 1e-12 holds for every case, offsets of 1e11 deviations included.
        expect(Math.abs(s.scale[k]! - sd[k]!) / sd[k]!, `${c.name} sd[${k}]`).toBeLessThan(1e-12);
      }
    }
    // (y - mean) / scale, rounded to float32, from the reference's rounded mean and scale.
    const y = decodeF64(c.y);
    const want = decodeF64(c.transform);
    const got = s.transform(y);
    expect(got).toBeInstanceOf(Float32Array);
    expect(got.length).toBe(y.length);
    for (let i = 0; i < y.length; i++) {
      const k = i % c.inputs;
      const w = want[i]!;
      const scale = sd[k]! > 0 ? sd[k]! : 1;
      // The fitted mean's and scale's own differences from the reference, carried through
      // (y - mean) / scale, then one float32 rounding.
      const carried =
        (Math.abs(s.mean[k]! - mean[k]!) +
          (Math.abs(y[i]! - mean[k]!) * Math.abs(s.scale[k]! - scale)) / scale) /
        scale;
      expect(Math.abs(got[i]! - w), `${c.name} transform[${i}]`).toBeLessThanOrEqual(
        1.0001 * (carried + Math.abs(w) * 2 ** -24) + 1e-300,
      );
    }
  });
});

describe("standardize: inputs, constant columns, saving", () => {
  const rows = [
    [1, 10, 5],
    [2, 10, 7],
    [3, 10, 9],
    [6, 10, 11],
  ];
  const flat = rows.flat();

  it("takes rows, a flat number[], a Float64Array or a Float32Array alike", () => {
    const a = standardize(rows, { inputs: 3 });
    for (const x of [flat, Float64Array.from(flat), Float32Array.from(flat)]) {
      const b = standardize(x, { inputs: 3 });
      expect(b.mean).toEqual(a.mean);
      expect(b.scale).toEqual(a.scale);
    }
    expect(a.mean).toEqual([3, 10, 8]);
    // Population deviations: sqrt(mean of squared deviations).
    expect(a.scale[0]).toBeCloseTo(Math.sqrt((4 + 1 + 0 + 9) / 4), 15);
    expect(a.scale[2]).toBeCloseTo(Math.sqrt((9 + 1 + 1 + 9) / 4), 15);
    const t = a.transform(rows);
    // Each standardised non-constant column has mean 0 and variance 1 on the fitted rows.
    for (const c of [0, 2]) {
      const col = [0, 1, 2, 3].map((r) => t[r * 3 + c]!);
      expect(Math.abs(col.reduce((s, v) => s + v, 0))).toBeLessThan(1e-6);
      expect(col.reduce((s, v) => s + v * v, 0) / 4).toBeCloseTo(1, 6);
    }
  });

  it("a constant column has scale 1: it becomes 0 on the fitted rows, a shift elsewhere", () => {
    const s = standardize(rows, { inputs: 3 });
    expect(s.scale[1]).toBe(1);
    expect(Array.from(s.transform(rows)).filter((_, i) => i % 3 === 1)).toEqual([0, 0, 0, 0]);
    expect(s.transform([0, 12.5, 8])[1]).toBe(2.5);
    // One row: every column is constant.
    expect(standardize([[4, -1]], { inputs: 2 }).scale).toEqual([1, 1]);
  });

  it("deviations beyond the float64 range are taken in halves: the extremes' deviation fits", () => {
    const s = standardize([1.7e308, -1.7e308, 1.7e308, -1.7e308], { inputs: 1 });
    expect(s.mean[0]).toBe(0);
    expect(s.scale[0]).toBe(1.7e308);
    const t = standardize([1.7e308, -1e308], { inputs: 1 });
    expect(Math.abs(t.mean[0]! - 3.5e307) / 3.5e307).toBeLessThan(1e-15);
    expect(Math.abs(t.scale[0]! - 1.35e308) / 1.35e308).toBeLessThan(1e-15);
    expect(Array.from(t.transform([1.7e308, -1e308])).map((v) => Math.round(v * 1e6) / 1e6)).toEqual([1, -1]);
  });

  it("transform of no rows is no rows; of other widths, an error", () => {
    const s = standardize(rows, { inputs: 3 });
    expect(s.transform([]).length).toBe(0);
    expect(() => s.transform([1, 2])).toThrow(/x has 2 elements, not a multiple of inputs \(3\)/);
    expect(() => s.transform([[1, 2]])).toThrow(/x row 0 has 2 values/);
  });

  it("toJSON and loadStandardizer give back the same bits, from the object or its JSON text", () => {
    const x = Float64Array.from({ length: 300 }, (_, i) => Math.sin(i * 12.9898) * 43758.5453 + 1e7);
    const s = standardize(x, { inputs: 3 });
    const json = s.toJSON();
    expect(json.method).toBe("standard");
    for (const back of [loadStandardizer(json), loadStandardizer(JSON.stringify(json))]) {
      expect(back.mean).toEqual(s.mean);
      expect(back.scale).toEqual(s.scale);
      expect(back.transform(x)).toEqual(s.transform(x));
    }
  });

  it("refuses bad input and bad saved standardisers, naming the argument", () => {
    expect(() => standardize([], { inputs: 2 })).toThrow(/x has no rows/);
    expect(() => standardize([1, NaN], { inputs: 2 })).toThrow(/x row 0, column 1 must be finite/);
    expect(() => standardize([[1, 2], [3]], { inputs: 2 })).toThrow(/x row 1 has 1 values/);
    expect(() => standardize([1, "2"] as unknown as number[], { inputs: 2 })).toThrow(
      /x row 0, column 1 must be a number; got "2"/,
    );
    expect(() => standardize([1, 2], { inputs: 0 })).toThrow(/inputs must be a positive integer; got 0/);
    expect(() => standardize([1, 2], { inputs: 2, input: 2 } as never)).toThrow(
      /unknown option 'input' \(did you mean 'inputs'\?\)/,
    );

    const bad: [unknown, RegExp][] = [
      ["{", /not a klcore standardizer: the text is not JSON/],
      [null, /expected an object/],
      [{ method: "minmax", mean: [0], scale: [1] }, /method is "minmax", not "standard"/],
      [{ method: "standard", mean: [], scale: [] }, /mean must be a non-empty array/],
      [{ method: "standard", mean: [0, 1], scale: [1] }, /scale must be 2 finite numbers > 0/],
      [{ method: "standard", mean: [0], scale: [0] }, /scale must be 1 finite numbers > 0/],
    ];
    for (const [json, message] of bad)
      expect(() => loadStandardizer(json as StandardizerJSON)).toThrow(message);
  });
});
