// Cross-entropy and KL of probability targets against softmax(logits / T), fused with their
// gradients: crossEntropyWithLogits (probability targets) and klWithLogits, both through
//   xent_probs_f32, xent_probs_f64
// Per row: a_c = w_c t'_c, t' = (1 - eps) t + eps/C (w_c = 1 without weights; t = exp(target) with
// XENT_LOG_TARGET), and the loss A ln S - D of xent.ts.

import { expf4, expf4Neg } from "./math/expf";
import { exp2d } from "./math/exp";
import { logf4 } from "./math/logf";
import { log2d } from "./math/log";
import { BLOCK } from "./common";
import { hsumF32, hsumF64 } from "./math/lanes";
import { RESUM_BELOW, rowMaxF32, rowMaxF64, rowSumF32, usable } from "./softmax";
import { XENT_KL, XENT_LOG_TARGET, XENT_WANT_GRAD, finishLosses, gradAtMax, poisonF32, poisonF64, stash } from "./xent";

// Results of a row's exp pass beyond its return value (sum of exponentials).
let rowA: f64 = 0; // sum of coefficients
let rowD: f64 = 0; // sum a_c (z_c - max) / T
let rowK: f64 = 0; // sum a_c ln t'_c (KL only)
let rowBad: bool = false; // a negative or NaN soft target
let rowRest: f64 = 0; // sum of a over a confident row's classes other than its max

// The exp pass of one row with targets: stores e (when e != 0), returns S; A, D, K, bad in globals.
// Inlined with constant `flags`/`weighted` at the hot call sites, so their branches fold away.
// @ts-ignore: decorator
@inline function probsExpF32(
  z: usize, t: usize, w: usize, n: i32, m: f32, invT: f32, keep: f32, spread: f32, flags: i32,
  weighted: bool, e: usize,
): f64 {
  let i = 0;
  let s: f64 = 0, a: f64 = 0, d: f64 = 0, k: f64 = 0;
  let bad = false;
  if (ASC_FEATURE_SIMD) {
    const vm = f32x4.splat(m), vt = f32x4.splat(invT), vk = f32x4.splat(keep), vs = f32x4.splat(spread);
    const zero = f32x4.splat(0);
    const vecEnd = n & ~3;
    let badT = zero;
    do {
      const end = min(i + BLOCK, vecEnd);
      let accS = zero, accA = zero, accD = zero, accK = zero;
      for (; i < end; i += 4) {
        const sh = f32x4.mul(f32x4.sub(v128.load(z + (<usize>i << 2)), vm), vt);
        const x = expf4Neg(sh);
        v128.store(e + (<usize>i << 2), x);
        accS = f32x4.add(accS, x);
        let tv = v128.load(t + (<usize>i << 2));
        // A NaN or negative target fails t >= 0 (with XENT_LOG_TARGET: a NaN log fails t == t).
        badT = v128.or(badT, v128.not(flags & XENT_LOG_TARGET ? f32x4.eq(tv, tv) : f32x4.ge(tv, zero)));
        if (flags & XENT_LOG_TARGET) tv = expf4(tv);
        const tp = f32x4.add(f32x4.mul(tv, vk), vs);
        const av = weighted ? f32x4.mul(tp, v128.load(w + (<usize>i << 2))) : tp;
        const nz = f32x4.ne(av, zero);
        accA = f32x4.add(accA, av);
        accD = f32x4.add(accD, v128.and(f32x4.mul(av, sh), nz));
        if (flags & XENT_KL) accK = f32x4.add(accK, v128.and(f32x4.mul(av, logf4(tp)), nz));
      }
      s += hsumF32(accS);
      a += hsumF32(accA);
      d += hsumF32(accD);
      if (flags & XENT_KL) k += hsumF32(accK);
    } while (i < vecEnd);
    bad = v128.any_true(badT);
  }
  for (; i < n; i++) {
    const sh = (<f64>load<f32>(z + (<usize>i << 2)) - <f64>m) * <f64>invT;
    const x = Math.exp(sh);
    store<f32>(e + (<usize>i << 2), <f32>x);
    s += x;
    let tv = <f64>load<f32>(t + (<usize>i << 2));
    if (flags & XENT_LOG_TARGET) {
      if (isNaN(tv)) bad = true;
      tv = Math.exp(tv);
    } else if (!(tv >= 0)) bad = true;
    const tp = tv * <f64>keep + <f64>spread;
    const av = weighted ? tp * <f64>load<f32>(w + (<usize>i << 2)) : tp;
    a += av;
    if (av != 0) {
      d += av * sh;
      if (flags & XENT_KL) k += av * Math.log(tp);
    }
  }
  rowA = a;
  rowD = d;
  rowK = k;
  rowBad = bad || !(a < Infinity);
  // Confident rows: S - 1 redone exactly from the stored exponentials (see expSumF32 in softmax.ts).
  const sm1 = s - 1;
  return sm1 < RESUM_BELOW ? rowSumF32(e, n) : sm1;
}

// @ts-ignore: decorator
@inline function probsExpF64(
  z: usize, t: usize, w: usize, n: i32, m: f64, invT: f64, keep: f64, spread: f64, flags: i32,
  weighted: bool, e: usize,
): f64 {
  let i = 0, ones = 0;
  let s: f64 = 0, a: f64 = 0, d: f64 = 0, k: f64 = 0;
  let bad = false;
  if (ASC_FEATURE_SIMD) {
    const vm = f64x2.splat(m), vt = f64x2.splat(invT), vk = f64x2.splat(keep), vs = f64x2.splat(spread);
    const zero = f64x2.splat(0), one = f64x2.splat(1);
    let accS = zero, accA = zero, accD = zero, accK = zero, badT = zero, accOnes = zero;
    for (; i + 2 <= n; i += 2) {
      const sh = f64x2.mul(f64x2.sub(v128.load(z + (<usize>i << 3)), vm), vt);
      const x = exp2d(sh);
      if (e) v128.store(e + (<usize>i << 3), x);
      const ox = f64x2.eq(x, one);
      accS = f64x2.add(accS, v128.andnot(x, ox));
      accOnes = i64x2.sub(accOnes, ox);
      let tv = v128.load(t + (<usize>i << 3));
      badT = v128.or(badT, v128.not(flags & XENT_LOG_TARGET ? f64x2.eq(tv, tv) : f64x2.ge(tv, zero)));
      if (flags & XENT_LOG_TARGET) tv = exp2d(tv);
      const tp = f64x2.add(f64x2.mul(tv, vk), vs);
      const av = weighted ? f64x2.mul(tp, v128.load(w + (<usize>i << 3))) : tp;
      const nz = f64x2.ne(av, zero);
      accA = f64x2.add(accA, av);
      accD = f64x2.add(accD, v128.and(f64x2.mul(av, sh), nz));
      if (flags & XENT_KL) accK = f64x2.add(accK, v128.and(f64x2.mul(av, log2d(tp)), nz));
    }
    s = hsumF64(accS);
    ones = <i32>(i64x2.extract_lane(accOnes, 0) + i64x2.extract_lane(accOnes, 1));
    a = hsumF64(accA);
    d = hsumF64(accD);
    k = hsumF64(accK);
    bad = v128.any_true(badT);
  }
  for (; i < n; i++) {
    const sh = (load<f64>(z + (<usize>i << 3)) - m) * invT;
    const x = Math.exp(sh);
    if (e) store<f64>(e + (<usize>i << 3), x);
    if (x == 1) ones++;
    else s += x;
    let tv = load<f64>(t + (<usize>i << 3));
    if (flags & XENT_LOG_TARGET) {
      if (isNaN(tv)) bad = true;
      tv = Math.exp(tv);
    } else if (!(tv >= 0)) bad = true;
    const tp = tv * keep + spread;
    const av = weighted ? tp * load<f64>(w + (<usize>i << 3)) : tp;
    a += av;
    if (av != 0) {
      d += av * sh;
      if (flags & XENT_KL) k += av * Math.log(tp);
    }
  }
  rowA = a;
  rowD = d;
  rowK = k;
  rowBad = bad || !(a < Infinity);
  return s + <f64>(ones - 1);
}

// Gradient of one row in place over the stored exponentials e: g = scale (A e / S - a).
// @ts-ignore: decorator
@inline function probsGradF32(
  e: usize, t: usize, w: usize, n: i32, ratio: f32, scale: f32, keep: f32, spread: f32, flags: i32,
  weighted: bool,
): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vr = f32x4.splat(ratio), vg = f32x4.splat(scale), vk = f32x4.splat(keep), vs = f32x4.splat(spread);
    for (; i + 4 <= n; i += 4) {
      let tv = v128.load(t + (<usize>i << 2));
      if (flags & XENT_LOG_TARGET) tv = expf4(tv);
      const tp = f32x4.add(f32x4.mul(tv, vk), vs);
      const av = weighted ? f32x4.mul(tp, v128.load(w + (<usize>i << 2))) : tp;
      const g = f32x4.sub(f32x4.mul(v128.load(e + (<usize>i << 2)), vr), av);
      v128.store(e + (<usize>i << 2), f32x4.mul(g, vg));
    }
  }
  for (; i < n; i++) {
    let tv = <f64>load<f32>(t + (<usize>i << 2));
    if (flags & XENT_LOG_TARGET) tv = Math.exp(tv);
    const tp = tv * <f64>keep + <f64>spread;
    const av = weighted ? tp * <f64>load<f32>(w + (<usize>i << 2)) : tp;
    const g = (<f64>load<f32>(e + (<usize>i << 2)) * <f64>ratio - av) * <f64>scale;
    store<f32>(e + (<usize>i << 2), <f32>g);
  }
}

// As probsGradF32, for a confident row (S - 1 < RESUM_BELOW, so its max is its only e = 1): also sums
// a over the other classes into rowRest, in blocks of float32 lanes, and returns the max's index (for
// gradAtMax; A - a would keep the rounding of A there).
// @ts-ignore: decorator
@inline function probsGradTopF32(
  e: usize, t: usize, w: usize, n: i32, ratio: f32, scale: f32, keep: f32, spread: f32, flags: i32,
  weighted: bool,
): i32 {
  let i = 0, top = -1;
  let rest: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    const vr = f32x4.splat(ratio), vg = f32x4.splat(scale), vk = f32x4.splat(keep), vs = f32x4.splat(spread);
    const one = f32x4.splat(1);
    const vecEnd = n & ~3;
    do {
      const end = min(i + BLOCK, vecEnd);
      let acc = f32x4.splat(0);
      for (; i < end; i += 4) {
        let tv = v128.load(t + (<usize>i << 2));
        if (flags & XENT_LOG_TARGET) tv = expf4(tv);
        const tp = f32x4.add(f32x4.mul(tv, vk), vs);
        const av = weighted ? f32x4.mul(tp, v128.load(w + (<usize>i << 2))) : tp;
        const ev = v128.load(e + (<usize>i << 2));
        const g = f32x4.sub(f32x4.mul(ev, vr), av);
        v128.store(e + (<usize>i << 2), f32x4.mul(g, vg));
        const o = f32x4.eq(ev, one);
        acc = f32x4.add(acc, v128.andnot(av, o));
        const bits = i32x4.bitmask(o);
        if (bits) top = i + ctz(bits);
      }
      rest += hsumF32(acc);
    } while (i < vecEnd);
  }
  for (; i < n; i++) {
    const av = coefF32(t, w, i, keep, spread, flags);
    const ev = load<f32>(e + (<usize>i << 2));
    store<f32>(e + (<usize>i << 2), <f32>((<f64>ev * <f64>ratio - av) * <f64>scale));
    if (ev == 1) top = i;
    else rest += av;
  }
  rowRest = rest;
  return top;
}

// a_c of one class in float64 (from float32 targets and weights).
// @ts-ignore: decorator
@inline function coefF32(t: usize, w: usize, i: i32, keep: f32, spread: f32, flags: i32): f64 {
  let tv = <f64>load<f32>(t + (<usize>i << 2));
  if (flags & XENT_LOG_TARGET) tv = Math.exp(tv);
  const tp = tv * <f64>keep + <f64>spread;
  return w ? tp * <f64>load<f32>(w + (<usize>i << 2)) : tp;
}

// @ts-ignore: decorator
@inline function coefF64(t: usize, w: usize, i: i32, keep: f64, spread: f64, flags: i32): f64 {
  let tv = load<f64>(t + (<usize>i << 3));
  if (flags & XENT_LOG_TARGET) tv = Math.exp(tv);
  const tp = tv * keep + spread;
  return w ? tp * load<f64>(w + (<usize>i << 3)) : tp;
}

// As probsGradTopF32, in float64 (one scalar pass: float64 sums need no blocks).
function probsGradTopF64(
  e: usize, t: usize, w: usize, n: i32, ratio: f64, scale: f64, keep: f64, spread: f64, flags: i32,
): i32 {
  let top = -1;
  let rest: f64 = 0;
  for (let i = 0; i < n; i++) {
    const av = coefF64(t, w, i, keep, spread, flags);
    const ev = load<f64>(e + (<usize>i << 3));
    store<f64>(e + (<usize>i << 3), (ev * ratio - av) * scale);
    if (ev == 1) top = i;
    else rest += av;
  }
  rowRest = rest;
  return top;
}

// @ts-ignore: decorator
@inline function probsGradF64(
  e: usize, t: usize, w: usize, n: i32, ratio: f64, scale: f64, keep: f64, spread: f64, flags: i32,
  weighted: bool,
): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vr = f64x2.splat(ratio), vg = f64x2.splat(scale), vk = f64x2.splat(keep), vs = f64x2.splat(spread);
    for (; i + 2 <= n; i += 2) {
      let tv = v128.load(t + (<usize>i << 3));
      if (flags & XENT_LOG_TARGET) tv = exp2d(tv);
      const tp = f64x2.add(f64x2.mul(tv, vk), vs);
      const av = weighted ? f64x2.mul(tp, v128.load(w + (<usize>i << 3))) : tp;
      const g = f64x2.sub(f64x2.mul(v128.load(e + (<usize>i << 3)), vr), av);
      v128.store(e + (<usize>i << 3), f64x2.mul(g, vg));
    }
  }
  for (; i < n; i++) {
    let tv = load<f64>(t + (<usize>i << 3));
    if (flags & XENT_LOG_TARGET) tv = Math.exp(tv);
    const tp = tv * keep + spread;
    const av = weighted ? tp * load<f64>(w + (<usize>i << 3)) : tp;
    store<f64>(e + (<usize>i << 3), (load<f64>(e + (<usize>i << 3)) * ratio - av) * scale);
  }
}

// KL of a target row that is a distribution (A = sum t' within sumTol of 1, the divergences' row-sum
// tolerance) against softmax is >= 0 (Gibbs): rounding alone dips below, so clamp, as kl() does.
// Weighted rows and other measures keep their value. NaN rows stay NaN.
function clampKl(loss: usize, work: usize, rows: i32, sumTol: f64): void {
  for (let r = 0; r < rows; r++) {
    const at = loss + (<usize>r << 3);
    if (Math.abs(load<f64>(work + (<usize>r << 4)) - 1) <= sumTol && load<f64>(at) < 0) store<f64>(at, 0);
  }
}

// Rows of probability targets. w: C weights or 0. eps: label smoothing. gradScale: the reduction's
// factor (1/N for 'mean'). grad: rows x C output or 0. loss: rows f64; work: rows x 2 f64 of
// scratch (see stash in xent.ts). Returns the first bad row.
// @ts-ignore: decorator
@inline function probsRowsF32(
  z: usize, t: usize, w: usize, rows: i32, c: i32, eps: f64, invT: f64, flags: i32, gradScale: f64,
  grad: usize, loss: usize, work: usize, hot: bool, weighted: bool,
): i32 {
  const keep = <f32>(1 - eps), spread = <f32>(eps / c);
  const f = hot ? XENT_WANT_GRAD & flags : flags;
  let bad = -1;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * c << 2;
    // Exponentials always go to e (the gradient buffer, or scratch when no gradient is wanted).
    const e = grad + off;
    const m = rowMaxF32(z + off, c);
    if (!usable(m)) {
      poisonF32(loss, work, r, f & XENT_WANT_GRAD ? e : 0, c);
      if (bad < 0) bad = r;
      continue;
    }
    const sm1 = hot
      ? probsExpF32(z + off, t + off, w, c, m, <f32>invT, keep, spread, 0, weighted, e)
      : probsExpF32(z + off, t + off, w, c, m, <f32>invT, keep, spread, f, w != 0, e);
    if (rowBad) {
      poisonF32(loss, work, r, f & XENT_WANT_GRAD ? e : 0, c);
      if (bad < 0) bad = r;
      continue;
    }
    if (c == 1) {
      // One class: softmax is exactly 1, log p exactly 0, the gradient exactly 0 (rounding would
      // leave a residue); KL keeps its target term sum a ln t'.
      stash(loss, work, r, 0, 0, f & XENT_KL ? -rowK : 0);
      store<f32>(e, 0);
      continue;
    }
    stash(loss, work, r, sm1, rowA, f & XENT_KL ? rowD - rowK : rowD);
    if (f & XENT_WANT_GRAD) {
      const ratio = <f32>(rowA / (1 + sm1)), scale = <f32>(gradScale * invT);
      if (sm1 < RESUM_BELOW) {
        // A confident row: its max's gradient from gradAtMax.
        const top = hot
          ? probsGradTopF32(e, t + off, w, c, ratio, scale, keep, spread, 0, weighted)
          : probsGradTopF32(e, t + off, w, c, ratio, scale, keep, spread, f, w != 0);
        if (top >= 0) {
          const at = coefF32(t + off, w, top, keep, spread, f);
          store<f32>(e + (<usize>top << 2), <f32>gradAtMax(rowRest, at, sm1, gradScale * invT));
        }
      } else if (hot) probsGradF32(e, t + off, w, c, ratio, scale, keep, spread, 0, weighted);
      else probsGradF32(e, t + off, w, c, ratio, scale, keep, spread, f, w != 0);
    }
  }
  return bad;
}

// @ts-ignore: decorator
@inline function probsRowsF64(
  z: usize, t: usize, w: usize, rows: i32, c: i32, eps: f64, invT: f64, flags: i32, gradScale: f64,
  grad: usize, loss: usize, work: usize, hot: bool, weighted: bool,
): i32 {
  const keep = 1 - eps, spread = eps / c;
  const f = hot ? XENT_WANT_GRAD & flags : flags;
  let bad = -1;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * c << 3;
    const e = f & XENT_WANT_GRAD ? grad + off : 0;
    const m = rowMaxF64(z + off, c);
    if (!usable(m)) {
      poisonF64(loss, work, r, e, c);
      if (bad < 0) bad = r;
      continue;
    }
    const sm1 = hot
      ? probsExpF64(z + off, t + off, w, c, m, invT, keep, spread, 0, weighted, e)
      : probsExpF64(z + off, t + off, w, c, m, invT, keep, spread, f, w != 0, e);
    if (rowBad) {
      poisonF64(loss, work, r, e, c);
      if (bad < 0) bad = r;
      continue;
    }
    if (c == 1) {
      // One class: softmax is exactly 1, log p exactly 0, the gradient exactly 0 (rounding would
      // leave a residue); KL keeps its target term sum a ln t'.
      stash(loss, work, r, 0, 0, f & XENT_KL ? -rowK : 0);
      if (e) store<f64>(e, 0);
      continue;
    }
    stash(loss, work, r, sm1, rowA, f & XENT_KL ? rowD - rowK : rowD);
    if (e) {
      const ratio = rowA / (1 + sm1), scale = gradScale * invT;
      if (sm1 < RESUM_BELOW) {
        // As in probsRowsF32: a confident row's max from gradAtMax.
        const top = probsGradTopF64(e, t + off, w, c, ratio, scale, keep, spread, f);
        if (top >= 0) store<f64>(e + (<usize>top << 3), gradAtMax(rowRest, coefF64(t + off, w, top, keep, spread, f), sm1, scale));
      } else if (hot) probsGradF64(e, t + off, w, c, ratio, scale, keep, spread, 0, weighted);
      else probsGradF64(e, t + off, w, c, ratio, scale, keep, spread, f, w != 0);
    }
  }
  return bad;
}

// Plain cross-entropy (no KL, no log target) compiles to its own loops, with and without weights;
// the other flag combinations share one loop with run-time flags.
export function xent_probs_f32(
  z: usize, t: usize, w: usize, rows: i32, c: i32, eps: f64, invT: f64, flags: i32, gradScale: f64,
  grad: usize, loss: usize, work: usize, sumTol: f64,
): i32 {
  return xentProbs<f32>(z, t, w, rows, c, eps, invT, flags, gradScale, grad, loss, work, sumTol);
}

export function xent_probs_f64(
  z: usize, t: usize, w: usize, rows: i32, c: i32, eps: f64, invT: f64, flags: i32, gradScale: f64,
  grad: usize, loss: usize, work: usize, sumTol: f64,
): i32 {
  return xentProbs<f64>(z, t, w, rows, c, eps, invT, flags, gradScale, grad, loss, work, sumTol);
}

// @ts-ignore: decorator
@inline function xentProbs<T>(
  z: usize, t: usize, w: usize, rows: i32, c: i32, eps: f64, invT: f64, flags: i32, gradScale: f64,
  grad: usize, loss: usize, work: usize, sumTol: f64,
): i32 {
  let bad: i32;
  if ((flags & (XENT_KL | XENT_LOG_TARGET)) == 0) {
    bad = w
      ? probsRows<T>(z, t, w, rows, c, eps, invT, flags, gradScale, grad, loss, work, true, true)
      : probsRows<T>(z, t, w, rows, c, eps, invT, flags, gradScale, grad, loss, work, true, false);
  } else {
    bad = probsRows<T>(z, t, w, rows, c, eps, invT, flags, gradScale, grad, loss, work, false, false);
  }
  finishLosses(loss, work, rows);
  if ((flags & XENT_KL) != 0 && w == 0) clampKl(loss, work, rows, sumTol);
  return bad;
}

// probsRowsF32 or probsRowsF64, by T at compile time.
// @ts-ignore: decorator
@inline function probsRows<T>(
  z: usize, t: usize, w: usize, rows: i32, c: i32, eps: f64, invT: f64, flags: i32, gradScale: f64,
  grad: usize, loss: usize, work: usize, hot: bool, weighted: bool,
): i32 {
  if (sizeof<T>() == 4) {
    return probsRowsF32(z, t, w, rows, c, eps, invT, flags, gradScale, grad, loss, work, hot, weighted);
  }
  return probsRowsF64(z, t, w, rows, c, eps, invT, flags, gradScale, grad, loss, work, hot, weighted);
}
