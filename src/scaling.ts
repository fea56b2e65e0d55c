// Feature standardisation, (x - mean) / scale per column, fitted on training rows and applied to
// any rows later, so a model trained on standardised features is always fed what it was trained
// on. Plain JavaScript in float64: it runs once per dataset and is O(rows x inputs), far from the
// hot loops. The fitted values are saved as JSON numbers (a float64 survives JSON.stringify and
// JSON.parse exactly) and the command line's model files hold the same object.

import { tagOf } from "./tags.js";
import {
  badOption,
  badStandardizerJson,
  savedNotJson,
  savedNotObject,
  standardizerJsonMean,
  standardizerJsonMethod,
  standardizerJsonScale,
  featureNotFinite,
  featureNotNumber,
  noRows,
  notFeatureArray,
  notRowMultiple,
  raggedRow,
} from "./errors.js";
import { optionsOf } from "./options.js";

/** Rows of features: a flat Float32Array, Float64Array or number[] of rows x inputs, or rows. */
export type FeatureRows =
  | Float32Array
  | Float64Array
  | readonly number[]
  | readonly (readonly number[] | Float32Array | Float64Array)[];

export interface StandardizeOptions {
  /** Features per row. */
  inputs: number;
}

/** A fitted standardiser: what toJSON() gives and loadStandardizer() takes. */
export interface StandardizerJSON {
  method: "standard";
  /** The mean of each feature over the fitted rows. */
  mean: number[];
  /** The divisor of each feature: its standard deviation, or 1 for a constant column. */
  scale: number[];
}

export interface Standardizer {
  /** Features per row. */
  readonly inputs: number;
  /** The mean of each feature over the rows it was fitted on. */
  readonly mean: readonly number[];
  /**
   * What each feature is divided by: its standard deviation over the fitted rows (dividing by the
   * row count), or 1 for a column that was constant there, so that column becomes 0 on those rows
   * and stays finite (shifted, not magnified) on rows that differ.
   */
  readonly scale: readonly number[];
  /** (x - mean) / scale for every row of x (none gives none), as float32 rows x inputs: a model's input. */
  transform(x: FeatureRows): Float32Array;
  toJSON(): StandardizerJSON;
}

const isRow = (r: unknown): r is ArrayLike<unknown> =>
  Array.isArray(r) || tagOf(r) === "Float32Array" || tagOf(r) === "Float64Array";

/**
 * x as float64 rows x inputs, every value a finite number, or the error naming the first bad one;
 * no rows is an error unless `empty`.
 */
export function featureRows(name: string, x: unknown, inputs: number, empty = false): Float64Array {
  let values: Float64Array;
  const tag = tagOf(x);
  if (tag === "Float32Array" || tag === "Float64Array") {
    values = Float64Array.from(x as Float32Array | Float64Array);
  } else if (Array.isArray(x) && x.length > 0 && isRow(x[0])) {
    const rows = x as readonly unknown[];
    values = new Float64Array(rows.length * inputs);
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r];
      if (!isRow(row)) throw notFeatureArray(`${name} row ${r}`, row);
      if (row.length !== inputs) throw raggedRow(name, r, row.length, inputs);
      for (let c = 0; c < inputs; c++) {
        const v = row[c];
        if (typeof v !== "number") throw featureNotNumber(name, r, c, v);
        values[r * inputs + c] = v;
      }
    }
  } else if (Array.isArray(x)) {
    const a = x as readonly unknown[];
    values = new Float64Array(a.length);
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (typeof v !== "number") throw featureNotNumber(name, Math.floor(i / inputs), i % inputs, v);
      values[i] = v;
    }
  } else {
    throw notFeatureArray(name, x);
  }
  if (values.length % inputs !== 0) throw notRowMultiple(name, values.length, "inputs", inputs);
  if (values.length === 0 && !empty) throw noRows(name);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) throw featureNotFinite(name, Math.floor(i / inputs), i % inputs, v);
  }
  return values;
}

function inputsOf(v: unknown): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) {
    throw badOption("inputs", "a positive integer", v);
  }
  return v;
}

class Fitted implements Standardizer {
  constructor(
    readonly mean: readonly number[],
    readonly scale: readonly number[],
  ) {}

  get inputs(): number {
    return this.mean.length;
  }

  transform(x: FeatureRows): Float32Array {
    const width = this.inputs;
    const v = featureRows("x", x, width, true);
    const out = new Float32Array(v.length);
    const { mean, scale } = this;
    for (let i = 0; i < v.length; i += width) {
      for (let c = 0; c < width; c++) out[i + c] = (v[i + c]! - mean[c]!) / scale[c]!;
    }
    return out;
  }

  toJSON(): StandardizerJSON {
    return { method: "standard", mean: [...this.mean], scale: [...this.scale] };
  }
}

/**
 * The mean of column c of v (rows x width): the sum / n (the sum of v / n when the sum overflows),
 * then corrected by the mean of the deviations from it, which recovers most of the sum's rounding
 * error (the corrected two-pass algorithm). A column of one value has exactly that mean.
 */
function columnMean(v: Float64Array, width: number, c: number, n: number): number {
  const first = v[c]!;
  let constant = true;
  let sum = 0;
  for (let i = c; i < v.length; i += width) {
    sum += v[i]!;
    constant &&= v[i] === first;
  }
  if (constant) return first;
  if (!Number.isFinite(sum)) {
    sum = 0;
    for (let i = c; i < v.length; i += width) sum += v[i]! / n;
  } else sum /= n;
  let correction = 0;
  for (let i = c; i < v.length; i += width) correction += v[i]! - sum;
  return Number.isFinite(correction) ? sum + correction / n : sum;
}

/**
 * The population standard deviation of column c (`mean` its rounded mean), by the deviations divided by the
 * largest one (M sqrt(sum (d / M)^2 / n)), so squares neither underflow for tiny values nor
 * overflow for huge ones; 0 for a constant column. Deviations beyond the float64 range are taken
 * in halves (the deviation itself, at most half the range of the values, always fits).
 */
function columnDeviation(v: Float64Array, width: number, c: number, n: number, mean: number): number {
  let half = 1;
  let most = 0;
  for (let i = c; i < v.length; i += width) most = Math.max(most, Math.abs(v[i]! - mean));
  if (!Number.isFinite(most)) {
    half = 0.5;
    most = 0;
    for (let i = c; i < v.length; i += width) most = Math.max(most, Math.abs(v[i]! * half - mean * half));
  }
  if (most === 0) return 0;
  let squares = 0;
  let sum = 0;
  for (let i = c; i < v.length; i += width) {
    const d = (v[i]! * half - mean * half) / most;
    squares += d * d;
    sum += d;
  }
  // The corrected two-pass formula: less (sum d)^2 / n, the part of the squares that comes from
  // the rounded mean's own error, so the deviation is about the exact mean.
  return (most * Math.sqrt(Math.max(0, squares - (sum * sum) / n) / n)) / half;
}

/**
 * A standardiser fitted on the rows of x: each feature's mean and standard deviation (dividing by
 * the row count), two passes in float64 (the deviations from the mean, not a one-pass sum of
 * squares, which a large offset would cancel).
 */
export function standardize(x: FeatureRows, options: StandardizeOptions): Standardizer {
  const o = optionsOf("standardize", options, ["inputs"]);
  const width = inputsOf(o.inputs);
  const v = featureRows("x", x, width);
  const n = v.length / width;
  const mean: number[] = [];
  const scale: number[] = [];
  for (let c = 0; c < width; c++) {
    mean.push(columnMean(v, width, c, n));
    const sd = columnDeviation(v, width, c, n, mean[c]!);
    // A constant column keeps scale 1: its values all become 0 and stay finite elsewhere.
    scale.push(sd > 0 ? sd : 1);
  }
  return new Fitted(mean, scale);
}

const finiteNumbers = (v: unknown): v is number[] =>
  Array.isArray(v) && v.every((x) => typeof x === "number" && Number.isFinite(x));

/** A standardiser saved with toJSON() (the object or its JSON text), every field checked. */
export function loadStandardizer(json: StandardizerJSON | string): Standardizer {
  let j: unknown = json;
  if (typeof json === "string") {
    try {
      j = JSON.parse(json);
    } catch (e) {
      throw savedNotJson(badStandardizerJson, (e as Error).message);
    }
  }
  if (typeof j !== "object" || j === null) throw savedNotObject(badStandardizerJson);
  const s = j as Partial<Record<keyof StandardizerJSON, unknown>>;
  if (s.method !== "standard") throw standardizerJsonMethod(s.method);
  if (!finiteNumbers(s.mean) || s.mean.length === 0) throw standardizerJsonMean();
  if (!finiteNumbers(s.scale) || s.scale.length !== s.mean.length || !s.scale.every((v) => v > 0)) {
    throw standardizerJsonScale(s.mean.length);
  }
  return new Fitted([...s.mean], [...s.scale]);
}
