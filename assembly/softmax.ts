// Softmax over rows of C logits, row-major: the row passes that every softmax-based kernel builds on
// (row maximum, sums of exponentials, float32 row tails) and the kernels of
//   logSumExp(logits)                 logsumexp_f32, logsumexp_f64
//   softmax(logits), logSoftmax(...)  softmax_f32, softmax_f64 (log = 0 or 1)
// The losses on logits live beside it: crossEntropyWithLogits and klWithLogits in xentprobs.ts
// (probability targets) and xentindex.ts (class indices), sharing xent.ts; probabilityLossWithLogits
// in probloss.ts.
//
// Every row is split the way XNNPACK splits softmax: a max pass, one pass that computes
// e = exp((z - max) / T), stores it and sums it (S), and, for gradients, one pass that reuses the
// stored exponentials. Kernels return the first row whose logits are NaN, +inf or all -inf, or -1;
// src/softmax.ts turns that into an error naming the element.

import { expf4Neg } from "./math/expf";
import { exp2d } from "./math/exp";
import { BLOCK } from "./common";
import { hsumF32, hsumF64, hsumI32 } from "./math/lanes";

// Row sums run over blocks of BLOCK elements (each f32 lane adds at most BLOCK/4 terms before the
// block's sum moves to f64), so a row's float32 sums keep about 1e-7 of their value whatever the
// number of classes. The block loops are do-whiles (a row is never empty): the while form made
// 10-class rows measurably slower.

// Largest lane of a NaN-free vector: shuffles and pmax (scalar max is V8's branchy NaN-aware code).
// @ts-ignore: decorator
@inline function hmaxF32(v: v128): f32 {
  v = f32x4.pmax(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  v = f32x4.pmax(v, i32x4.shuffle(v, v, 1, 0, 3, 2));
  return f32x4.extract_lane(v, 0);
}

// The last 1-3 elements of a float32 row as one vector, padded with -inf: exp of a padded lane is
// exactly 0 and it never wins a max, so a row's tail costs one vector exp rather than three
// scalar (float64) ones, which dominate short rows such as 10 classes.
// @ts-ignore: decorator
@inline export function tailF32(p: usize, count: i32, pad: f32 = -Infinity): v128 {
  let v = f32x4.splat(pad);
  v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (count > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (count > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

// @ts-ignore: decorator
@inline export function storeTailF32(p: usize, v: v128, count: i32): void {
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (count > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (count > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

// ---------------------------------------------------------------------------------------------
// Row maximum, NaN if any logit is NaN. wasm's f32x4.max (NaN-propagating, -0 < +0) has no x64
// instruction and costs eight on the loop-carried chain; pmax is one maxps, with NaN tracked by
// an OR-accumulated x != x mask instead. Two accumulators halve the chain.

// @ts-ignore: decorator
@inline export function rowMaxF32(z: usize, n: i32): f32 {
  let i = 0;
  let m: f32 = -Infinity;
  if (ASC_FEATURE_SIMD) {
    if (n >= 8) {
      let a = v128.load(z), b = v128.load(z, 16);
      let nan = v128.or(f32x4.ne(a, a), f32x4.ne(b, b));
      for (i = 8; i + 8 <= n; i += 8) {
        const x = v128.load(z + (<usize>i << 2)), y = v128.load(z + (<usize>i << 2), 16);
        a = f32x4.pmax(a, x);
        b = f32x4.pmax(b, y);
        nan = v128.or(nan, v128.or(f32x4.ne(x, x), f32x4.ne(y, y)));
      }
      for (; i + 4 <= n; i += 4) {
        const x = v128.load(z + (<usize>i << 2));
        a = f32x4.pmax(a, x);
        nan = v128.or(nan, f32x4.ne(x, x));
      }
      if (i < n) {
        const x = tailF32(z + (<usize>i << 2), n - i);
        a = f32x4.pmax(a, x);
        nan = v128.or(nan, f32x4.ne(x, x));
        i = n;
      }
      if (v128.any_true(nan)) return NaN;
      a = f32x4.pmax(a, b);
      m = hmaxF32(a);
    } else if (n >= 4) {
      let a = v128.load(z);
      let nan = f32x4.ne(a, a);
      i = 4;
      if (i < n) {
        const x = tailF32(z + (<usize>i << 2), n - i);
        a = f32x4.pmax(a, x);
        nan = v128.or(nan, f32x4.ne(x, x));
        i = n;
      }
      if (v128.any_true(nan)) return NaN;
      m = hmaxF32(a);
    }
  }
  for (; i < n; i++) {
    const x = load<f32>(z + (<usize>i << 2));
    if (x != x) return NaN;
    if (x > m) m = x;
  }
  return m;
}

export function rowMaxF64(z: usize, n: i32): f64 {
  let i = 0;
  let m: f64 = -Infinity;
  if (ASC_FEATURE_SIMD) {
    if (n >= 4) {
      let a = v128.load(z), b = v128.load(z, 16);
      let nan = v128.or(f64x2.ne(a, a), f64x2.ne(b, b));
      for (i = 4; i + 4 <= n; i += 4) {
        const x = v128.load(z + (<usize>i << 3)), y = v128.load(z + (<usize>i << 3), 16);
        a = f64x2.pmax(a, x);
        b = f64x2.pmax(b, y);
        nan = v128.or(nan, v128.or(f64x2.ne(x, x), f64x2.ne(y, y)));
      }
      if (v128.any_true(nan)) return NaN;
      a = f64x2.pmax(a, b);
      m = max(f64x2.extract_lane(a, 0), f64x2.extract_lane(a, 1));
    }
  }
  for (; i < n; i++) {
    const x = load<f64>(z + (<usize>i << 3));
    if (x != x) return NaN;
    if (x > m) m = x;
  }
  return m;
}

// A usable row maximum: finite. NaN or +inf means a bad logit; -inf means no finite logit.
// @ts-ignore: decorator
@inline export function usable(m: f64): bool {
  return m > -Infinity && m < Infinity;
}

// ---------------------------------------------------------------------------------------------
// Sums of exponentials are returned as S - 1. The max logit's exponential is exactly 1 (exp(0)), so
// S - 1 = (n1 - 1) + (the sum of the exponentials other than 1), n1 >= 1 the count of exact ones:
// the same sum split exactly, without the cancellation of forming 1 + tiny in float32 and
// subtracting. ln S = log1p(S - 1) then keeps its relative accuracy for confident rows, whose loss
// is ln S ~ 1e-6 (float32 rounding of S itself would leave a 5% error there).

// Exp pass without targets: e = exp((z - m) * invT) into e (when e != 0), returns S - 1, the ones
// counted apart throughout.
function expSumExactF32(z: usize, n: i32, m: f32, invT: f32, e: usize): f64 {
  let i = 0, k = 0;
  let s: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    const vm = f32x4.splat(m), vt = f32x4.splat(invT), one = f32x4.splat(1);
    let ones = i32x4.splat(0);
    do {
      const end = min(i + BLOCK, n);
      let acc = f32x4.splat(0), acc2 = f32x4.splat(0);
      // Two vectors per iteration: more independent work between loop checks.
      for (; i + 8 <= end; i += 8) {
        const at = z + (<usize>i << 2);
        const x = expf4Neg(f32x4.mul(f32x4.sub(v128.load(at), vm), vt));
        const y = expf4Neg(f32x4.mul(f32x4.sub(v128.load(at, 16), vm), vt));
        if (e) {
          v128.store(e + (<usize>i << 2), x);
          v128.store(e + (<usize>i << 2), y, 16);
        }
        const ox = f32x4.eq(x, one), oy = f32x4.eq(y, one);
        acc = f32x4.add(acc, v128.andnot(x, ox));
        acc2 = f32x4.add(acc2, v128.andnot(y, oy));
        ones = i32x4.sub(ones, i32x4.add(ox, oy)); // a true lane is -1
      }
      for (; i + 4 <= end; i += 4) {
        const x = expf4Neg(f32x4.mul(f32x4.sub(v128.load(z + (<usize>i << 2)), vm), vt));
        if (e) v128.store(e + (<usize>i << 2), x);
        const ox = f32x4.eq(x, one);
        acc = f32x4.add(acc, v128.andnot(x, ox));
        ones = i32x4.sub(ones, ox);
      }
      // Only the last block has a tail (BLOCK is a multiple of 4).
      if (i < end) {
        const x = expf4Neg(f32x4.mul(f32x4.sub(tailF32(z + (<usize>i << 2), end - i), vm), vt));
        if (e) storeTailF32(e + (<usize>i << 2), x, end - i);
        const ox = f32x4.eq(x, one);
        acc2 = f32x4.add(acc2, v128.andnot(x, ox));
        ones = i32x4.sub(ones, ox);
        i = end;
      }
      s += hsumF32(f32x4.add(acc, acc2));
    } while (i < n);
    k = hsumI32(ones);
  }
  for (; i < n; i++) {
    const x = <f32>Math.exp(<f64>((load<f32>(z + (<usize>i << 2)) - m) * invT));
    if (e) store<f32>(e + (<usize>i << 2), x);
    if (x == 1) k++;
    else s += x;
  }
  return s + <f64>(k - 1);
}

// Below this S - 1 the float32 sum is redone exactly from the stored exponentials; above it, the
// rounding of the float32 lanes costs about 1e-6 of S - 1. Only the block holding the max's 1 adds
// to a lane near 1, at most BLOCK/16 + 1 roundings of 2^-24 each, so the bound does not depend on
// the row's length.
export const RESUM_BELOW: f64 = 0.0625;

// As expSumExactF32, but e is required: a plain sum first, redone exactly (rowSumF32 over the
// stored exponentials) only for confident rows, where S - 1 is small.
export function expSumF32(z: usize, n: i32, m: f32, invT: f32, e: usize): f64 {
  let i = 0;
  let s: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    const vm = f32x4.splat(m), vt = f32x4.splat(invT);
    do {
      const end = min(i + BLOCK, n);
      let acc = f32x4.splat(0), acc2 = f32x4.splat(0);
      // Four, then two vectors per iteration: more independent work between loop checks.
      for (; i + 16 <= end; i += 16) {
        const at = z + (<usize>i << 2);
        const x0 = expf4Neg(f32x4.mul(f32x4.sub(v128.load(at), vm), vt));
        const x1 = expf4Neg(f32x4.mul(f32x4.sub(v128.load(at, 16), vm), vt));
        const x2 = expf4Neg(f32x4.mul(f32x4.sub(v128.load(at, 32), vm), vt));
        const x3 = expf4Neg(f32x4.mul(f32x4.sub(v128.load(at, 48), vm), vt));
        const to = e + (<usize>i << 2);
        v128.store(to, x0);
        v128.store(to, x1, 16);
        v128.store(to, x2, 32);
        v128.store(to, x3, 48);
        acc = f32x4.add(acc, f32x4.add(x0, x2));
        acc2 = f32x4.add(acc2, f32x4.add(x1, x3));
      }
      for (; i + 8 <= end; i += 8) {
        const at = z + (<usize>i << 2);
        const x = expf4Neg(f32x4.mul(f32x4.sub(v128.load(at), vm), vt));
        const y = expf4Neg(f32x4.mul(f32x4.sub(v128.load(at, 16), vm), vt));
        v128.store(e + (<usize>i << 2), x);
        v128.store(e + (<usize>i << 2), y, 16);
        acc = f32x4.add(acc, x);
        acc2 = f32x4.add(acc2, y);
      }
      for (; i + 4 <= end; i += 4) {
        const x = expf4Neg(f32x4.mul(f32x4.sub(v128.load(z + (<usize>i << 2)), vm), vt));
        v128.store(e + (<usize>i << 2), x);
        acc = f32x4.add(acc, x);
      }
      if (i < end) {
        const x = expf4Neg(f32x4.mul(f32x4.sub(tailF32(z + (<usize>i << 2), end - i), vm), vt));
        storeTailF32(e + (<usize>i << 2), x, end - i);
        acc2 = f32x4.add(acc2, x);
        i = end;
      }
      s += hsumF32(f32x4.add(acc, acc2));
    } while (i < n);
  }
  for (; i < n; i++) {
    const x = <f32>Math.exp(<f64>((load<f32>(z + (<usize>i << 2)) - m) * invT));
    store<f32>(e + (<usize>i << 2), x);
    s += x;
  }
  const sm1 = s - 1;
  return sm1 < RESUM_BELOW ? rowSumF32(e, n) : sm1;
}

export function expSumF64(z: usize, n: i32, m: f64, invT: f64, e: usize): f64 {
  let i = 0, k = 0;
  let s: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    const vm = f64x2.splat(m), vt = f64x2.splat(invT), one = f64x2.splat(1);
    let acc = f64x2.splat(0), ones = i64x2.splat(0);
    for (; i + 2 <= n; i += 2) {
      const x = exp2d(f64x2.mul(f64x2.sub(v128.load(z + (<usize>i << 3)), vm), vt));
      if (e) v128.store(e + (<usize>i << 3), x);
      const ox = f64x2.eq(x, one);
      acc = f64x2.add(acc, v128.andnot(x, ox));
      ones = i64x2.sub(ones, ox);
    }
    s = hsumF64(acc);
    k = <i32>(i64x2.extract_lane(ones, 0) + i64x2.extract_lane(ones, 1));
  }
  for (; i < n; i++) {
    const x = Math.exp((load<f64>(z + (<usize>i << 3)) - m) * invT);
    if (e) store<f64>(e + (<usize>i << 3), x);
    if (x == 1) k++;
    else s += x;
  }
  return s + <f64>(k - 1);
}

// A row's sum of exponentials as S - 1 (see expSumF32), in f64.
// @ts-ignore: decorator
@inline export function rowSumF32(x: usize, n: i32): f64 {
  let i = 0, k = 0;
  let s: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    const one = f32x4.splat(1);
    let ones = i32x4.splat(0);
    do {
      const end = min(i + BLOCK, n);
      let acc = f32x4.splat(0);
      for (; i + 4 <= end; i += 4) {
        const v = v128.load(x + (<usize>i << 2));
        const o = f32x4.eq(v, one);
        acc = f32x4.add(acc, v128.andnot(v, o));
        ones = i32x4.sub(ones, o);
      }
      if (i < end) {
        const v = tailF32(x + (<usize>i << 2), end - i, 0);
        const o = f32x4.eq(v, one);
        acc = f32x4.add(acc, v128.andnot(v, o));
        ones = i32x4.sub(ones, o);
        i = end;
      }
      s += hsumF32(acc);
    } while (i < n);
    k = hsumI32(ones);
  }
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    if (v == 1) k++;
    else s += <f64>v;
  }
  return s + <f64>(k - 1);
}

// A refused row's outputs (none when e = 0): NaN, so a caller that skips validation sees NaN.
// @ts-ignore: decorator
@inline export function fillNaNF32(e: usize, n: i32): void {
  if (e) for (let i = 0; i < n; i++) store<f32>(e + (<usize>i << 2), NaN);
}

// @ts-ignore: decorator
@inline export function fillNaNF64(e: usize, n: i32): void {
  if (e) for (let i = 0; i < n; i++) store<f64>(e + (<usize>i << 3), NaN);
}

// ---------------------------------------------------------------------------------------------
// logsumexp, softmax, log-softmax. out: rows f64 (logsumexp) or rows x C of the input type.

export function logsumexp_f32(z: usize, rows: i32, c: i32, out: usize): i32 {
  let bad = -1;
  for (let r = 0; r < rows; r++) {
    const row = z + ((<usize>r * c) << 2);
    const m = rowMaxF32(row, c);
    let v: f64;
    if (m == -Infinity) v = -Infinity; // logsumexp of nothing but -inf (SciPy)
    else if (!usable(m)) {
      v = NaN;
      if (bad < 0) bad = r;
    } else v = <f64>m + Math.log1p(expSumExactF32(row, c, m, 1, 0));
    store<f64>(out + (<usize>r << 3), v);
  }
  return bad;
}

export function logsumexp_f64(z: usize, rows: i32, c: i32, out: usize): i32 {
  let bad = -1;
  for (let r = 0; r < rows; r++) {
    const row = z + ((<usize>r * c) << 3);
    const m = rowMaxF64(row, c);
    let v: f64;
    if (m == -Infinity) v = -Infinity;
    else if (!usable(m)) {
      v = NaN;
      if (bad < 0) bad = r;
    } else v = m + Math.log1p(expSumF64(row, c, m, 1, 0));
    store<f64>(out + (<usize>r << 3), v);
  }
  return bad;
}

// softmax (log = false) or log-softmax (log = true) of z / T, into out.
export function softmax_f32(z: usize, rows: i32, c: i32, invT: f32, log: bool, out: usize): i32 {
  let bad = -1;
  for (let r = 0; r < rows; r++) {
    const row = z + ((<usize>r * c) << 2);
    const dst = out + ((<usize>r * c) << 2);
    const m = rowMaxF32(row, c);
    if (!usable(m)) {
      fillNaNF32(dst, c);
      if (bad < 0) bad = r;
      continue;
    }
    const sm1 = expSumF32(row, c, m, invT, dst);
    if (log) {
      // z/T - max/T - ln S, from the logits again (not ln e), so tiny probabilities keep their logs.
      const ls = <f32>Math.log1p(sm1);
      let i = 0;
      if (ASC_FEATURE_SIMD) {
        const vm = f32x4.splat(m), vt = f32x4.splat(invT), vl = f32x4.splat(ls);
        for (; i + 4 <= c; i += 4) {
          const x = f32x4.mul(f32x4.sub(v128.load(row + (<usize>i << 2)), vm), vt);
          v128.store(dst + (<usize>i << 2), f32x4.sub(x, vl));
        }
      }
      for (; i < c; i++) store<f32>(dst + (<usize>i << 2), (load<f32>(row + (<usize>i << 2)) - m) * invT - ls);
    } else {
      scaleF32(dst, c, <f32>(1 / (1 + sm1)));
    }
  }
  return bad;
}

export function softmax_f64(z: usize, rows: i32, c: i32, invT: f64, log: bool, out: usize): i32 {
  let bad = -1;
  for (let r = 0; r < rows; r++) {
    const row = z + ((<usize>r * c) << 3);
    const dst = out + ((<usize>r * c) << 3);
    const m = rowMaxF64(row, c);
    if (!usable(m)) {
      fillNaNF64(dst, c);
      if (bad < 0) bad = r;
      continue;
    }
    const sm1 = expSumF64(row, c, m, invT, dst);
    if (log) {
      const ls = Math.log1p(sm1);
      let i = 0;
      if (ASC_FEATURE_SIMD) {
        const vm = f64x2.splat(m), vt = f64x2.splat(invT), vl = f64x2.splat(ls);
        for (; i + 2 <= c; i += 2) {
          const x = f64x2.mul(f64x2.sub(v128.load(row + (<usize>i << 3)), vm), vt);
          v128.store(dst + (<usize>i << 3), f64x2.sub(x, vl));
        }
      }
      for (; i < c; i++) store<f64>(dst + (<usize>i << 3), (load<f64>(row + (<usize>i << 3)) - m) * invT - ls);
    } else {
      scaleF64(dst, c, 1 / (1 + sm1));
    }
  }
  return bad;
}

function scaleF32(x: usize, n: i32, k: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vk = f32x4.splat(k);
    for (; i + 4 <= n; i += 4) v128.store(x + (<usize>i << 2), f32x4.mul(v128.load(x + (<usize>i << 2)), vk));
  }
  for (; i < n; i++) store<f32>(x + (<usize>i << 2), load<f32>(x + (<usize>i << 2)) * k);
}

function scaleF64(x: usize, n: i32, k: f64): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vk = f64x2.splat(k);
    for (; i + 2 <= n; i += 2) v128.store(x + (<usize>i << 3), f64x2.mul(v128.load(x + (<usize>i << 3)), vk));
  }
  for (; i < n; i++) store<f64>(x + (<usize>i << 3), load<f64>(x + (<usize>i << 3)) * k);
}
