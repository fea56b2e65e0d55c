// Turning caller input into something a kernel can read: type checks, then either the address of
// data already in wasm memory (zero copy) or a copy of one chunk into scratch.

import type { Core } from "./wasm/loader.js";
import { bytesPer, WasmArray, type Dtype, type FloatArray } from "./wasm/memory.js";
import {
  badOption,
  freedBuffer,
  lengthMismatch,
  mixedPrecision,
  notANumberAt,
  notNumericArray,
  outTooSmall,
} from "./errors.js";
import { tagOf } from "./tags.js";

export { isIndexArray, tagOf, type ClassIndices, type IndexArray } from "./tags.js";

/** What every function accepts as an array of numbers. */
export type NumericInput = Float32Array | Float64Array | readonly number[] | WasmArray;

export interface Resolved {
  readonly name: string;
  readonly dtype: Dtype;
  readonly length: number;
  /** Address of the data when it already lives in this instance's memory, else 0. */
  readonly ptr: number;
  /** The caller's array when it must be copied in. */
  readonly data: FloatArray | readonly number[] | null;
}

export function resolve(core: Core, name: string, x: unknown): Resolved {
  if (x instanceof WasmArray) {
    if (x.freed || x.core !== core) throw freedBuffer();
    return { name, dtype: x.dtype, length: x.length, ptr: x.ptr, data: null };
  }
  const tag = tagOf(x);
  if (tag === "Float32Array" || tag === "Float64Array") {
    const a = x as FloatArray;
    const dtype: Dtype = tag === "Float32Array" ? "float32" : "float64";
    const inMemory = a.buffer === core.memoryBuffer;
    return { name, dtype, length: a.length, ptr: inMemory ? a.byteOffset : 0, data: inMemory ? null : a };
  }
  if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) {
      if (typeof x[i] !== "number") throw notANumberAt(name, i, x[i]);
    }
    return { name, dtype: "float64", length: x.length, ptr: 0, data: x as readonly number[] };
  }
  throw notNumericArray(name, x);
}

/** Same precision and length, or the matching error. */
export function checkPair(a: Resolved, b: Resolved): void {
  if (a.dtype !== b.dtype) throw mixedPrecision(a.name, a.dtype, b.name, b.dtype);
  if (a.length !== b.length) throw lengthMismatch(a.name, a.length, b.name, b.length);
}

/**
 * Address of elements [from, from + count) of `r`: in place when it lives in wasm memory, else
 * copied to `dst` (a 16-byte aligned scratch address).
 */
export function place(core: Core, r: Resolved, from: number, count: number, dst: number): number {
  const size = bytesPer(r.dtype);
  if (r.ptr) return r.ptr + from * size;
  const data = r.data!;
  // A chunk that is the whole array is copied as it is: no subarray view to allocate per call.
  const whole = from === 0 && count === data.length;
  if (r.dtype === "float32") {
    const a = data as Float32Array;
    core.f32().set(whole ? a : a.subarray(from, from + count), dst >>> 2);
  } else if (ArrayBuffer.isView(data)) {
    const a = data as Float64Array;
    core.f64().set(whole ? a : a.subarray(from, from + count), dst >>> 3);
  } else {
    const heap = core.f64();
    const at = dst >>> 3;
    for (let i = 0; i < count; i++) heap[at + i] = (data as readonly number[])[from + i]!;
  }
  return dst;
}

/** Element i of the input, for error messages. */
export function elementAt(core: Core, r: Resolved, i: number): number {
  if (r.data) return r.data[i]!;
  return r.dtype === "float32" ? core.f32()[(r.ptr >>> 2) + i]! : core.f64()[(r.ptr >>> 3) + i]!;
}

/**
 * The caller's output array (checked: the precision of `dtype`, at least `n` long), or a new one
 * when `given` is undefined or true.
 */
export function outputArray(name: string, dtype: Dtype, n: number, given: unknown): FloatArray {
  const want = dtype === "float32" ? "Float32Array" : "Float64Array";
  if (given === undefined || given === true)
    return dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
  if (tagOf(given) !== want) throw badOption(name, `a ${want}`, given);
  const out = given as FloatArray;
  if (out.length < n) throw outTooSmall(name, n, out.length);
  return out;
}

/**
 * A view of `length` elements at `ptr` over the current wasm memory. A caller's view into wasm
 * memory is detached when a call grows memory (and then reports length 0): pass the address and
 * length read before the call.
 */
export function liveView(core: Core, dtype: Dtype, ptr: number, length: number): FloatArray {
  return dtype === "float32"
    ? new Float32Array(core.memoryBuffer, ptr, length)
    : new Float64Array(core.memoryBuffer, ptr, length);
}
