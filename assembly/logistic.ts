// Binary cross-entropy on logits and its gradient, fused: binaryCrossEntropyWithLogits through
//   bce_logits_f32, bce_logits_f64 (row_totals of rows.ts for reduction 'none')
// Per element
//   loss  w (max(z, 0) - z y + ln(1 + e^-|z|))      grad  w (sigmoid(z) - y)
// for targets y in [0, 1], logits z and weights w >= 0 (w = 1 without weights).
//
// Both are computed without cancellation. With t = 1 - y where z >= 0 and t = y where z < 0 (the
// target mass on the side the logit argues against), e = e^-|z| and s = sigmoid(-|z|) = e / (1 + e):
//   max(z, 0) - z y = |z| t              sigmoid(z) - y = t - s for z >= 0, s - t for z < 0
// |z| t >= 0 and log1p(e) > 0, so a confident right answer (z = 20, y = 1) keeps its loss
// log1p(e^-20) = 2.06e-9 to full relative precision, where log(1 + e) keeps 7 digits in float64
// and none in float32; and e never overflows, since -|z| <= 0. log1p is Goldberg's form
// (math/log1p.ts).
//
// A kernel runs over a flat range of elements (see rows.ts): it writes the sum of the terms to the
// stats record, stores each term (f64) when `terms` is not 0 (reduction 'none'), and stores the
// gradient times `gscale` (the reduction's 1/rows, or 1) when `g` is not 0. Kernels trust their
// arguments: src/logistic.ts validates shapes, and the flags report invalid elements.
//
// The SIMD loops compute blocks of BLOCK elements on the fast domain (|z| <= 87 in float32, 708 in
// float64, where e^-|z| is a normal number; y in [0, 1]; w finite and >= 0) and OR-accumulate a
// mask of lanes outside it. A block with any such lane is redone by the exact scalar code (float64,
// float32 inputs promoted), which also records the flags and keeps the subnormal e^-|z| of a very
// confident logit. The scalar build runs only the scalar code.

import { expf4Neg } from "./math/expf";
import { exp2d } from "./math/exp";
import { log1pf4, log1p2d } from "./math/log1p";
import { BLOCK, loadAs, storePromotedF32 } from "./common";
import { LOSS_FLAGS, LOSS_TOTAL } from "./rows";
import { hsumF32, hsumF64 } from "./math/lanes";

// Flags: an element of the target (y outside [0, 1] or NaN), of the logits (NaN or infinite), of
// the weights (negative, NaN or infinite).
const BAD_TARGET: i32 = 1;
const BAD_LOGIT: i32 = 2;
const BAD_WEIGHT: i32 = 4;

// Results of the scalar range function (a wasm function returns one value; these are its others).
let accLoss: f64 = 0;
let accFlags: i32 = 0;

// ---------------------------------------------------------------------------------------------
// Exact scalar code, in f64: elements [from, to), into accLoss and accFlags.

function bceRange<T>(
  y: usize, z: usize, w: usize, g: usize, terms: usize, from: i32, to: i32, gscale: f64,
): void {
  let total: f64 = 0, flags = 0;
  for (let i = from; i < to; i++) {
    const yi = loadAs<T>(y, i), zi = loadAs<T>(z, i);
    const wi: f64 = w ? loadAs<T>(w, i) : 1;
    const az = Math.abs(zi);
    const pos = zi >= 0;
    const t = pos ? 1 - yi : yi;
    const e = Math.exp(-az);
    // |z| t is 0 where t = 0, also for |z| = inf (its limit; infinite logits pass only with
    // validation off).
    const l = wi * ((t == 0 ? 0 : az * t) + Math.log1p(e));
    total += l;
    if (terms) store<f64>(terms + (<usize>i << 3), l);
    if (g) {
      const s = e / (1 + e);
      store<T>(g + (<usize>i << alignof<T>()), <T>(wi * gscale * (pos ? t - s : s - t)));
    }
    if (!(yi >= 0 && yi <= 1)) flags |= BAD_TARGET;
    if (!(az < Infinity)) flags |= BAD_LOGIT;
    if (!(wi >= 0 && wi < Infinity)) flags |= BAD_WEIGHT;
  }
  accLoss += total;
  accFlags |= flags;
}

// ---------------------------------------------------------------------------------------------
// SIMD constants.

// Constants live in linear memory, one splat load each: Node 20's V8 rebuilds a v128.const at
// every use inside a loop (docs/engine-notes.md).
// @ts-ignore: decorator
@lazy const F32_ONE = memory.data<f32>([1.0]);
// @ts-ignore: decorator
@lazy const F32_LIMIT = memory.data<f32>([87.0]); // e^-87 = 1.6e-38 is still a normal float32
// @ts-ignore: decorator
@lazy const F32_MAX = memory.data<u32>([0x7f7fffff]); // bits of 3.4028234664e38
// @ts-ignore: decorator
@lazy const F32_SIGN = memory.data<u32>([0x80000000]);
// @ts-ignore: decorator
@lazy const F64_ONE = memory.data<f64>([1.0]);
// @ts-ignore: decorator
@lazy const F64_LIMIT = memory.data<f64>([708.0]); // e^-708 = 3.3e-308 is still a normal float64
// @ts-ignore: decorator
@lazy const F64_MAX = memory.data<f64>([1.7976931348623157e308]);
// @ts-ignore: decorator
@lazy const F64_SIGN = memory.data<u64>([0x8000000000000000]);

// ---------------------------------------------------------------------------------------------
// Range functions: SIMD blocks, then the scalar tail.

function bceF32(y: usize, z: usize, w: usize, g: usize, terms: usize, n: i32, gscale: f64): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vecEnd = n & ~3;
    const gs = f32x4.splat(<f32>gscale);
    while (i < vecEnd) {
      const start = i;
      const end = min(i + BLOCK, vecEnd);
      let acc = f32x4.splat(0), bad = i32x4.splat(0);
      for (; i < end; i += 4) {
        const o = <usize>i << 2;
        const vy = v128.load(y + o);
        const vz = v128.load(z + o);
        const one = v128.load32_splat(F32_ONE);
        const zero = f32x4.splat(0);
        const az = f32x4.abs(vz);
        const pos = f32x4.ge(vz, zero);
        const t = v128.bitselect(f32x4.sub(one, vy), vy, pos);
        const e = expf4Neg(f32x4.neg(az));
        let l = f32x4.add(f32x4.mul(az, t), log1pf4(e));
        // t - s, negated (sign bit flipped) where z < 0.
        let d = v128.xor(
          f32x4.sub(t, f32x4.div(e, f32x4.add(one, e))),
          v128.andnot(v128.load32_splat(F32_SIGN), pos),
        );
        // NaN fails every compare: a NaN anywhere lands in the mask.
        let ok = v128.and(
          f32x4.le(az, v128.load32_splat(F32_LIMIT)),
          v128.and(f32x4.ge(vy, zero), f32x4.le(vy, one)),
        );
        if (w) {
          const vw = v128.load(w + o);
          ok = v128.and(ok, v128.and(f32x4.ge(vw, zero), f32x4.le(vw, v128.load32_splat(F32_MAX))));
          l = f32x4.mul(vw, l);
          d = f32x4.mul(vw, d);
        }
        bad = v128.or(bad, v128.not(ok));
        acc = f32x4.add(acc, l);
        if (terms) storePromotedF32(terms + (<usize>i << 3), l);
        if (g) v128.store(g + o, f32x4.mul(d, gs));
      }
      if (i32x4.bitmask(bad)) {
        bceRange<f32>(y, z, w, g, terms, start, end, gscale);
      } else {
        accLoss += hsumF32(acc);
      }
    }
  }
  bceRange<f32>(y, z, w, g, terms, i, n, gscale);
}

function bceF64(y: usize, z: usize, w: usize, g: usize, terms: usize, n: i32, gscale: f64): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vecEnd = n & ~1;
    const gs = f64x2.splat(gscale);
    while (i < vecEnd) {
      const start = i;
      const end = min(i + BLOCK, vecEnd);
      let acc = f64x2.splat(0), bad = i64x2.splat(0);
      for (; i < end; i += 2) {
        const o = <usize>i << 3;
        const vy = v128.load(y + o);
        const vz = v128.load(z + o);
        const one = v128.load64_splat(F64_ONE);
        const zero = f64x2.splat(0);
        const az = f64x2.abs(vz);
        const pos = f64x2.ge(vz, zero);
        const t = v128.bitselect(f64x2.sub(one, vy), vy, pos);
        const e = exp2d(f64x2.neg(az));
        let l = f64x2.add(f64x2.mul(az, t), log1p2d(e));
        let d = v128.xor(
          f64x2.sub(t, f64x2.div(e, f64x2.add(one, e))),
          v128.andnot(v128.load64_splat(F64_SIGN), pos),
        );
        let ok = v128.and(
          f64x2.le(az, v128.load64_splat(F64_LIMIT)),
          v128.and(f64x2.ge(vy, zero), f64x2.le(vy, one)),
        );
        if (w) {
          const vw = v128.load(w + o);
          ok = v128.and(ok, v128.and(f64x2.ge(vw, zero), f64x2.le(vw, v128.load64_splat(F64_MAX))));
          l = f64x2.mul(vw, l);
          d = f64x2.mul(vw, d);
        }
        bad = v128.or(bad, v128.not(ok));
        acc = f64x2.add(acc, l);
        if (terms) v128.store(terms + o, l);
        if (g) v128.store(g + o, f64x2.mul(d, gs));
      }
      if (i64x2.bitmask(bad)) {
        bceRange<f64>(y, z, w, g, terms, start, end, gscale);
      } else {
        accLoss += hsumF64(acc);
      }
    }
  }
  bceRange<f64>(y, z, w, g, terms, i, n, gscale);
}

// ---------------------------------------------------------------------------------------------
// Exported kernels: n elements of target y, logits z and weights w (0: none); gradient into g and
// per-element terms into terms when those are not 0; the sum and the flags into the stats record st.

export function bce_logits_f32(
  y: usize, z: usize, w: usize, g: usize, terms: usize, n: i32, gscale: f64, st: usize,
): void {
  accLoss = 0;
  accFlags = 0;
  bceF32(y, z, w, g, terms, n, gscale);
  store<f64>(st, accLoss, LOSS_TOTAL);
  store<f64>(st, <f64>accFlags, LOSS_FLAGS);
}

export function bce_logits_f64(
  y: usize, z: usize, w: usize, g: usize, terms: usize, n: i32, gscale: f64, st: usize,
): void {
  accLoss = 0;
  accFlags = 0;
  bceF64(y, z, w, g, terms, n, gscale);
  store<f64>(st, accLoss, LOSS_TOTAL);
  store<f64>(st, <f64>accFlags, LOSS_FLAGS);
}
