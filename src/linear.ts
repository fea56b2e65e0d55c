// Dense layers and their activations, float32: mirrors assembly/linear.ts. Internal for now (the
// models build on it): every array already lives in the instance's memory, so nothing is copied;
// shapes and overlaps are checked once here and the kernels run unchecked.

import type { Core } from "./wasm/loader.js";
import { WasmArray } from "./wasm/memory.js";
import { tagOf } from "./input.js";
import {
  badHyperparameter,
  layerArrayLength,
  layerArrayTooShort,
  layerOverlap,
  notLayerArray,
} from "./errors.js";

/**
 * A float32 array in the instance's memory: a WasmArray, or a Float32Array view of that memory
 * (such as `a.array.subarray(1)`, read before any call that may grow memory).
 */
export type LayerArray = WasmArray<"float32"> | Float32Array;

/** The shape of a dense layer: x is rows x inputs, W inputs x outputs, y rows x outputs. */
export interface DenseShape {
  rows: number;
  inputs: number;
  outputs: number;
}

/** Gradient outputs of denseBackward; db and dx are skipped when absent (dx: a first layer). */
export interface DenseGrads {
  dw: LayerArray;
  db?: LayerArray | null;
  dx?: LayerArray | null;
}

interface Region {
  readonly name: string;
  readonly ptr: number;
  readonly length: number;
}

function region(core: Core, name: string, a: unknown): Region {
  if (a instanceof WasmArray) {
    if (a.dtype === "float32" && !a.freed && a.core === core) return { name, ptr: a.ptr, length: a.length };
  } else if (tagOf(a) === "Float32Array") {
    const v = a as Float32Array;
    // A detached view (memory grew since it was taken) has length 0 and a buffer that is not memory's.
    if (v.buffer === core.memoryBuffer) return { name, ptr: v.byteOffset, length: v.length };
  }
  throw notLayerArray(name, a);
}

const optionalRegion = (core: Core, name: string, a: unknown): Region | null =>
  a === undefined || a === null ? null : region(core, name, a);

function size(name: string, value: unknown, min: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw badHyperparameter(name, min === 0 ? "an integer >= 0" : "a positive integer", value);
  }
  return value;
}

function shapeOf(shape: unknown): DenseShape {
  const s = (typeof shape === "object" && shape !== null ? shape : {}) as Partial<DenseShape>;
  return {
    rows: size("rows", s.rows, 0),
    inputs: size("inputs", s.inputs, 1),
    outputs: size("outputs", s.outputs, 1),
  };
}

// Batch-sized arrays may be longer than needed (a buffer sized for the largest batch serves a
// smaller last one); parameter-sized ones must match exactly.
function atLeast(r: Region, need: number, shape: string): void {
  if (r.length < need) throw layerArrayTooShort(r.name, r.length, need, shape);
}

function exactly(r: Region, need: number, shape: string): void {
  if (r.length !== need) throw layerArrayLength(r.name, r.length, need, shape);
}

/** Throws when `out`'s first `nOut` floats share memory with any of the others' first counts. */
function disjoint(out: Region, nOut: number, others: readonly [Region | null, number][]): void {
  if (nOut === 0) return;
  const lo = out.ptr,
    hi = out.ptr + 4 * nOut;
  for (const [r, n] of others) {
    if (r && n > 0 && r.ptr < hi && lo < r.ptr + 4 * n) throw layerOverlap(out.name, r.name);
  }
}

const dims = (rows: number, cols: number, what: string): string => `${what} ${rows} x ${cols}`;

/** y = x W + b (b absent: no bias). */
export function denseForward(
  core: Core,
  x: LayerArray,
  w: LayerArray,
  b: LayerArray | null | undefined,
  y: LayerArray,
  shape: DenseShape,
): void {
  const { rows, inputs, outputs } = shapeOf(shape);
  const rx = region(core, "x", x),
    rw = region(core, "w", w),
    rb = optionalRegion(core, "b", b);
  const ry = region(core, "y", y);
  const nx = rows * inputs,
    nw = inputs * outputs,
    ny = rows * outputs;
  atLeast(rx, nx, dims(rows, inputs, "x"));
  exactly(rw, nw, dims(inputs, outputs, "w"));
  if (rb) exactly(rb, outputs, `b of ${outputs} outputs`);
  atLeast(ry, ny, dims(rows, outputs, "y"));
  disjoint(ry, ny, [
    [rx, nx],
    [rw, nw],
    [rb, outputs],
  ]);
  core.k.dense_forward_f32(rx.ptr, rw.ptr, rb ? rb.ptr : 0, ry.ptr, rows, inputs, outputs);
}

/** dW = x^T dy, db = the column sums of dy, dx = dy W^T (db, dx skipped when absent). */
export function denseBackward(
  core: Core,
  x: LayerArray,
  w: LayerArray,
  dy: LayerArray,
  grads: DenseGrads,
  shape: DenseShape,
): void {
  const { rows, inputs, outputs } = shapeOf(shape);
  const rx = region(core, "x", x),
    rw = region(core, "w", w),
    rdy = region(core, "dy", dy);
  const g = (typeof grads === "object" && grads !== null ? grads : {}) as Partial<DenseGrads>;
  const rdw = region(core, "grads.dw", g.dw);
  const rdb = optionalRegion(core, "grads.db", g.db);
  const rdx = optionalRegion(core, "grads.dx", g.dx);
  const nx = rows * inputs,
    nw = inputs * outputs,
    ny = rows * outputs;
  atLeast(rx, nx, dims(rows, inputs, "x"));
  exactly(rw, nw, dims(inputs, outputs, "w"));
  atLeast(rdy, ny, dims(rows, outputs, "dy"));
  exactly(rdw, nw, dims(inputs, outputs, "grads.dw"));
  if (rdb) exactly(rdb, outputs, `grads.db of ${outputs} outputs`);
  if (rdx) atLeast(rdx, nx, dims(rows, inputs, "grads.dx"));
  const ins: [Region | null, number][] = [
    [rx, nx],
    [rw, nw],
    [rdy, ny],
  ];
  disjoint(rdw, nw, [...ins, [rdb, outputs], [rdx, nx]]);
  if (rdb) disjoint(rdb, outputs, [...ins, [rdx, nx]]);
  if (rdx) disjoint(rdx, nx, ins);
  core.k.dense_backward_f32(
    rx.ptr,
    rw.ptr,
    rdy.ptr,
    rdx ? rdx.ptr : 0,
    rdw.ptr,
    rdb ? rdb.ptr : 0,
    rows,
    inputs,
    outputs,
  );
}

export type Activation = "relu" | "tanh";

// Elementwise: n defaults to the first array's length; outputs may be an input itself (in place),
// but not partly overlap one.
function elementwise(
  core: Core,
  names: readonly string[],
  arrays: readonly unknown[],
  n: number | undefined,
): [number, Region[]] {
  const rs = arrays.map((a, i) => region(core, names[i]!, a));
  const count = n === undefined ? rs[0]!.length : size("n", n, 0);
  for (const r of rs) atLeast(r, count, `n = ${count}`);
  const out = rs[rs.length - 1]!;
  for (const r of rs.slice(0, -1)) {
    if (r.ptr !== out.ptr) disjoint(out, count, [[r, count]]);
  }
  return [count, rs];
}

/** y = activation(x) elementwise (y may be x). */
export function activate(core: Core, fn: Activation, x: LayerArray, y: LayerArray, n?: number): void {
  const [count, [rx, ry]] = elementwise(core, ["x", "y"], [x, y], n);
  (fn === "relu" ? core.k.relu_f32 : core.k.tanh_f32)(rx!.ptr, ry!.ptr, count);
}

/** dx = dy f'(x), from the forward output y = f(x) (dx may be dy). */
export function activateBackward(
  core: Core,
  fn: Activation,
  y: LayerArray,
  dy: LayerArray,
  dx: LayerArray,
  n?: number,
): void {
  const [count, [ry, rdy, rdx]] = elementwise(core, ["y", "dy", "dx"], [y, dy, dx], n);
  (fn === "relu" ? core.k.relu_backward_f32 : core.k.tanh_backward_f32)(ry!.ptr, rdy!.ptr, rdx!.ptr, count);
}
