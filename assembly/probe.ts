// Test-only entry: exposes the vector math helpers over arrays so that scripts/measure/measure-math.mjs and
// test/math.test.ts can measure them. Not part of the shipped package.
//
// Build (SIMD only; the helpers refuse to compile without it):
//   npx asc assembly/probe.ts --config /dev/null --enable simd -O3 --runtime minimal --noAssert \
//     --outFile build/probe.wasm
// `--config /dev/null`: otherwise asc also reads ./asconfig.json and compiles its entries
// (assembly/index.ts) into the probe, even when an entry file is named on the command line.

import { logf4 } from "./math/logf";
import { log1d, log2d } from "./math/log";
import { expf4 } from "./math/expf";
import { exp1d, exp2d } from "./math/exp";
import { cos1dk, cos2dk, sin1dk, sin2dk } from "./math/sincos";
import { log1pf4, log1p2d } from "./math/log1p";
import { expm1mxPolyf4, expm1mxPoly2d } from "./math/expm1mx";

// 16-byte aligned block of `bytes` bytes.
export function alloc(bytes: usize): usize {
  return heap.alloc(bytes);
}

export function dealloc(ptr: usize): void {
  heap.free(ptr);
}

// dst[i] = log(src[i]) for n float32 (n a multiple of 4); src and dst may be the same.
export function map_logf(src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, logf4(v128.load(src + o)));
  }
}

// dst[i] = log(src[i]) for n float64 (n a multiple of 2).
export function map_log(src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i += 2) {
    const o = <usize>i << 3;
    v128.store(dst + o, log2d(v128.load(src + o)));
  }
}

// dst[i] = exp(src[i]) for n float32 (n a multiple of 4).
export function map_expf(src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, expf4(v128.load(src + o)));
  }
}

// dst[i] = exp(src[i]) for n float64 (n a multiple of 2).
export function map_exp(src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i += 2) {
    const o = <usize>i << 3;
    v128.store(dst + o, exp2d(v128.load(src + o)));
  }
}

// dst[i] = log(1 + src[i]) for n float32 (n a multiple of 4).
export function map_log1pf(src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, log1pf4(v128.load(src + o)));
  }
}

// dst[i] = log(1 + src[i]) for n float64 (n a multiple of 2).
export function map_log1p(src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i += 2) {
    const o = <usize>i << 3;
    v128.store(dst + o, log1p2d(v128.load(src + o)));
  }
}

// dst[i] = e^x - 1 - x of src[i] for n float32 (n a multiple of 4; |x| <= 1/2).
export function map_expm1mxf(src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, expm1mxPolyf4(v128.load(src + o)));
  }
}

// dst[i] = e^x - 1 - x of src[i] for n float64 (n a multiple of 2; |x| <= 1/2).
export function map_expm1mx(src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i += 2) {
    const o = <usize>i << 3;
    v128.store(dst + o, expm1mxPoly2d(v128.load(src + o)));
  }
}

// The one-value mirrors and the sine and cosine kernels (|x| <= pi/4), for n float64 (n even for
// the two-lane maps).
export function map_exp1(src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f64>(dst + (<usize>i << 3), exp1d(load<f64>(src + (<usize>i << 3))));
}

export function map_log1(src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f64>(dst + (<usize>i << 3), log1d(load<f64>(src + (<usize>i << 3))));
}

export function map_sin(src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i += 2) {
    const o = <usize>i << 3;
    v128.store(dst + o, sin2dk(v128.load(src + o)));
  }
}

export function map_sin1(src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f64>(dst + (<usize>i << 3), sin1dk(load<f64>(src + (<usize>i << 3))));
}

export function map_cos(src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i += 2) {
    const o = <usize>i << 3;
    v128.store(dst + o, cos2dk(v128.load(src + o)));
  }
}

export function map_cos1(src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f64>(dst + (<usize>i << 3), cos1dk(load<f64>(src + (<usize>i << 3))));
}
