// Training and evaluation data, checked once at the boundary: features become one float32 array in
// JS memory (rows x inputs), targets class indices (Int32Array) or probabilities (float32,
// rows x classes). The caller's arrays are never written; a Float32Array outside wasm memory is used
// as it is, anything else is copied. Batches are gathered from these into wasm memory, so a dataset
// never grows the module's memory (which cannot shrink).

import { WasmArray, type Scratch } from "./wasm/memory.js";
import type { Core } from "./wasm/loader.js";
import { isIndexArray, tagOf, type ClassIndices } from "./input.js";
import { sumTolerance } from "./divergence.js";
import {
  badClassIndex,
  badElement,
  featureNotFinite,
  featureNotNumber,
  noRows,
  notFeatureArray,
  notRowMultiple,
  notTargets,
  raggedRow,
  rowSumOff,
  rowsDiffer,
  targetRowLength,
  targetShape,
} from "./errors.js";

/** Features: a Float32Array or Float64Array of rows x inputs, rows as arrays, or a WasmArray. */
export type FeatureInput =
  | Float32Array
  | Float64Array
  | readonly number[]
  | readonly (readonly number[] | Float32Array | Float64Array)[]
  | WasmArray;

/** Class indices, or probabilities (a Float32Array/Float64Array of rows x classes, or rows). */
export type TargetInput =
  ClassIndices | Float32Array | Float64Array | readonly (readonly number[] | Float32Array | Float64Array)[];

export interface Features {
  readonly rows: number;
  /** rows x inputs, float32, outside wasm memory. */
  readonly values: Float32Array;
}

export type Targets =
  | { readonly kind: "indices"; readonly rows: number; readonly labels: Int32Array }
  | { readonly kind: "probabilities"; readonly rows: number; readonly values: Float32Array };

const isRow = (r: unknown): r is ArrayLike<unknown> =>
  Array.isArray(r) || tagOf(r) === "Float32Array" || tagOf(r) === "Float64Array";

/**
 * x as float32 rows x inputs, every value finite, or the error naming the first bad one. With
 * `check` false the values are not checked finite: fit() checks each batch as it gathers it, and
 * calls requireFinite for the error.
 */
export function featuresOf(
  name: string,
  x: unknown,
  inputs: number,
  core: Core,
  scratch: Scratch,
  check = true,
): Features {
  const memory = core.memoryBuffer;
  let values: Float32Array;
  if (x instanceof WasmArray && x.dtype === "float32" && !x.freed) {
    values = (x.array as Float32Array).slice();
  } else if (tagOf(x) === "Float32Array") {
    const a = x as Float32Array;
    // A view of wasm memory would be detached when the memory grows: copy it out.
    values = a.buffer === memory ? a.slice() : a;
  } else if (tagOf(x) === "Float64Array") {
    values = Float32Array.from(x as Float64Array);
  } else if (Array.isArray(x) && x.length > 0 && isRow(x[0])) {
    const rows = x as readonly ArrayLike<unknown>[];
    values = new Float32Array(rows.length * inputs);
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
    values = new Float32Array(a.length);
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (typeof v !== "number") throw featureNotNumber(name, Math.floor(i / inputs), i % inputs, v);
      values[i] = v;
    }
  } else {
    throw notFeatureArray(name, x);
  }
  if (values.length % inputs !== 0) throw notRowMultiple(name, values.length, "inputs", inputs);
  const rows = values.length / inputs;
  if (rows === 0) throw noRows(name);
  const features = { rows, values };
  if (check) requireFinite(name, x, inputs, features, core, scratch);
  return features;
}

/** Throws the error naming the first value of `features` (converted from x) that is not finite. */
export function requireFinite(
  name: string,
  x: unknown,
  inputs: number,
  features: Features,
  core: Core,
  scratch: Scratch,
): void {
  const { values } = features;
  if (allFinite(core, scratch, values)) return;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v - v !== 0) {
      // The source is re-read for the message, so a float64 overflow shows its own value.
      const original = sourceValue(x, i, inputs);
      throw featureNotFinite(name, Math.floor(i / inputs), i % inputs, original ?? v);
    }
  }
}

// Values per call of the finiteness kernel: 256 KiB of scratch.
const CHECK_CHUNK = 1 << 16;

/**
 * Whether every value is finite, by the SIMD kernel over chunks copied into scratch: a dataset of
 * 7.8M values takes a few milliseconds, where a JavaScript loop takes several times longer until
 * the JIT has optimised it.
 */
function allFinite(core: Core, scratch: Scratch, v: Float32Array): boolean {
  const ptr = scratch.take(Math.min(v.length, CHECK_CHUNK) * 4);
  for (let from = 0; from < v.length; from += CHECK_CHUNK) {
    const n = Math.min(CHECK_CHUNK, v.length - from);
    core.f32().set(v.subarray(from, from + n), ptr >>> 2);
    if (!core.k.finite_f32(ptr, n)) return false;
  }
  return true;
}

function sourceValue(x: unknown, i: number, inputs: number): number | undefined {
  if (tagOf(x) === "Float64Array") return (x as Float64Array)[i];
  if (Array.isArray(x) && x.length > 0 && isRow(x[0])) {
    return (x[Math.floor(i / inputs)] as ArrayLike<number>)[i % inputs];
  }
  if (Array.isArray(x)) return x[i] as number;
  return undefined;
}

/**
 * y as class indices (integer arrays, number[]) or probabilities (float arrays, rows), checked
 * against `classes` and, when given, the rows of x.
 */
export function targetsOf(y: unknown, classes: number, rows: number | undefined): Targets {
  const tag = tagOf(y);
  // Class indices in a float array (TF.js keeps labels so): one integer per row of x, where rows x
  // classes probabilities cannot be meant. Anything else in a float array is probabilities.
  const floatIndices =
    (tag === "Float32Array" || tag === "Float64Array") &&
    rows !== undefined &&
    classes > 1 &&
    (y as Float32Array).length === rows &&
    (y as Float32Array).every((v) => Number.isInteger(v) && v >= 0 && v < classes);
  if (floatIndices || isIndexArray(y) || (Array.isArray(y) && (y.length === 0 || !isRow(y[0])))) {
    const a = y as ArrayLike<unknown>;
    const labels = new Int32Array(a.length);
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v >= classes) {
        throw badClassIndex("y", i, v, classes, null);
      }
      labels[i] = v;
    }
    if (labels.length === 0) throw noRows("y");
    if (rows !== undefined && labels.length !== rows) throw rowsDiffer(rows, labels.length);
    return { kind: "indices", rows: labels.length, labels };
  }
  let values: Float32Array;
  if (tag === "Float32Array" || tag === "Float64Array") {
    const a = y as Float32Array | Float64Array;
    if (rows !== undefined && a.length !== rows * classes) throw targetShape(a.length, rows, classes);
    if (a.length % classes !== 0) throw notRowMultiple("y", a.length, "classes", classes);
    values = Float32Array.from(a);
  } else if (Array.isArray(y) && isRow(y[0])) {
    const list = y as readonly ArrayLike<unknown>[];
    values = new Float32Array(list.length * classes);
    for (let r = 0; r < list.length; r++) {
      const row = list[r];
      if (!isRow(row)) throw notTargets(row);
      if (row.length !== classes) throw targetRowLength(r, row.length, classes);
      for (let c = 0; c < classes; c++) {
        const v = row[c];
        if (typeof v !== "number") throw badElement("y", r * classes + c, v, r);
        values[r * classes + c] = v;
      }
    }
  } else {
    throw notTargets(y);
  }
  const n = values.length / classes;
  if (n === 0) throw noRows("y");
  if (rows !== undefined && n !== rows) throw rowsDiffer(rows, n);
  // The same tolerance as the divergences' row-sum check for float32 rows.
  const tol = sumTolerance("float32", classes);
  for (let r = 0; r < n; r++) {
    let sum = 0;
    for (let c = 0; c < classes; c++) {
      const v = values[r * classes + c]!;
      if (!(v >= 0 && v < Infinity)) throw badElement("y", r * classes + c, v, r);
      sum += v;
    }
    if (!(Math.abs(sum - 1) <= tol)) throw rowSumOff("y", r, sum, tol, true);
  }
  return { kind: "probabilities", rows: n, values };
}

/** The rows `order[from, from + count)` of `source` (rows of `width`), gathered into `into`. */
export function gatherRows(
  source: Float32Array,
  width: number,
  order: Int32Array | null,
  from: number,
  count: number,
  into: Float32Array,
): void {
  if (!order) {
    into.set(source.subarray(from * width, (from + count) * width));
    return;
  }
  for (let i = 0; i < count; i++) {
    const r = order[from + i]!;
    into.set(source.subarray(r * width, (r + 1) * width), i * width);
  }
}

/** The first maximum's index per row of `values` (rows x cols); NaN never wins. */
export function argmaxRow(values: Float32Array, row: number, cols: number): number {
  let best = 0;
  let max = -Infinity;
  const at = row * cols;
  for (let c = 0; c < cols; c++) {
    const v = values[at + c]!;
    if (v > max) {
      max = v;
      best = c;
    }
  }
  return best;
}
