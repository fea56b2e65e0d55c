// Losses between probability targets t and q = softmax(z / T), fused with their exact gradient
// w.r.t. the logits: probabilityLossWithLogits (and fit's losses 'mse', 'l1' and 'js') through
//   probloss_f32, probloss_f64 (kind PROBLOSS_MSE, PROBLOSS_L1 or PROBLOSS_JS)
// Rows of C logits and C targets, row-major. Per row, summed over the classes:
//   mse: sum (q - t)^2                                       g = dL/dq = 2 (q - t)
//   l1:  sum |q - t|                                         g = sign(q - t) (0 where equal)
//   js:  JS(t || q) = KL(t || m)/2 + KL(q || m)/2, m = (t + q)/2, natural log, 0 ln 0 = 0:
//        1/2 sum t ln(2t / (t + q)) + q ln(2q / (t + q))      g = 1/2 ln(2q / (t + q))
// Each row: the max, e = exp((z - max) / T) and S = sum e, q = e / S (stored), the loss terms and
// h = q g (into `work`), then the softmax Jacobian product dL/dz_c = (h_c - q_c H) / T, H = sum h.
// h is formed directly (never g, then q g), so a JS class with q = 0 gives h = lim q ln q = 0, not
// 0 * -inf; the same class with t > 0 still adds its t ln 2 to the loss.
// Float32 rows accumulate in float32 lanes over blocks of BLOCK elements, each block's lanes summed
// in float64, so this costs a few ulp of the row's loss at any number of classes. JS in float32 loses
// relative accuracy where t ~ q (its terms, first order in t - q, cancel to second order).
// Kernels return the first row whose logits are NaN, +inf or all -inf, or whose target is negative,
// NaN or +inf, or -1; such rows get NaN losses (and gradients). src/probloss.ts names the element.

import { logf4 } from "./math/logf";
import { log2d } from "./math/log";
import { hsumF32, hsumF64 } from "./math/lanes";
import { BLOCK } from "./common";
import { expSumF32, expSumF64, rowMaxF32, rowMaxF64, usable } from "./softmax";

// Loss kinds and flags (exported: src/wasm/abi.ts is generated from the module's exports).
export const PROBLOSS_MSE: i32 = 0;
export const PROBLOSS_L1: i32 = 1;
export const PROBLOSS_JS: i32 = 2;
export const PROBLOSS_WANT_GRAD: i32 = 1;

// Results of a row's terms pass beyond its return value (the loss).
let rowH: f64 = 0; // sum_c q_c g_c
let rowBad: bool = false; // a negative, NaN or +inf target
let termH: f64 = 0; // q g of the last scalar term

// One element's loss term in float64, q g into termH.
// @ts-ignore: decorator
@inline function term(kind: i32, q: f64, t: f64): f64 {
  if (kind == PROBLOSS_MSE) {
    const d = q - t;
    termH = 2 * q * d;
    return d * d;
  }
  if (kind == PROBLOSS_L1) {
    const d = q - t;
    termH = d > 0 ? q : d < 0 ? -q : 0;
    return Math.abs(d);
  }
  const s = t + q;
  const qlq = q > 0 ? q * Math.log((2 * q) / s) : 0;
  const tlt = t > 0 ? t * Math.log((2 * t) / s) : 0;
  termH = 0.5 * qlq;
  return 0.5 * (tlt + qlq);
}

// A refused row: NaN loss and (when wanted) NaN gradient.
// @ts-ignore: decorator
@inline function poisonF32(loss: usize, r: i32, g: usize, n: i32): void {
  store<f64>(loss + (<usize>r << 3), NaN);
  if (g) for (let i = 0; i < n; i++) store<f32>(g + (<usize>i << 2), NaN);
}

// @ts-ignore: decorator
@inline function poisonF64(loss: usize, r: i32, g: usize, n: i32): void {
  store<f64>(loss + (<usize>r << 3), NaN);
  if (g) for (let i = 0; i < n; i++) store<f64>(g + (<usize>i << 3), NaN);
}

// ---------------------------------------------------------------------------------------------
// float32

// q = e * invS in place, the row's loss (returned), h = q g into h when grad; H and bad in globals.
// Inlined with a constant kind, so the other kinds' branches fold away.
// @ts-ignore: decorator
@inline function termsF32(q: usize, t: usize, h: usize, n: i32, invS: f32, kind: i32, grad: bool): f64 {
  let i = 0;
  let l: f64 = 0, hs: f64 = 0;
  let bad = false;
  if (ASC_FEATURE_SIMD) {
    const vs = f32x4.splat(invS), zero = f32x4.splat(0), inf = f32x4.splat(Infinity);
    const one = f32x4.splat(1), half = f32x4.splat(0.5);
    const vecEnd = n & ~3;
    let badT = zero;
    do {
      const end = min(i + BLOCK, vecEnd);
      let accL = zero, accH = zero;
      for (; i < end; i += 4) {
        const qv = f32x4.mul(v128.load(q + (<usize>i << 2)), vs);
        v128.store(q + (<usize>i << 2), qv);
        const tv = v128.load(t + (<usize>i << 2));
        // A NaN, negative or +inf target fails 0 <= t < inf.
        badT = v128.or(badT, v128.not(v128.and(f32x4.ge(tv, zero), f32x4.lt(tv, inf))));
        let x: v128, hv: v128;
        if (kind == PROBLOSS_MSE) {
          const d = f32x4.sub(qv, tv);
          x = f32x4.mul(d, d);
          hv = f32x4.mul(f32x4.add(qv, qv), d);
        } else if (kind == PROBLOSS_L1) {
          const d = f32x4.sub(qv, tv);
          x = f32x4.abs(d);
          const sign = f32x4.sub(v128.and(one, f32x4.gt(d, zero)), v128.and(one, f32x4.lt(d, zero)));
          hv = f32x4.mul(qv, sign);
        } else {
          // 0 ln 0 = 0: lanes with q = 0 (t = 0) are masked, whatever the log gave there.
          const s = f32x4.add(tv, qv);
          const qlq = v128.and(f32x4.mul(qv, logf4(f32x4.div(f32x4.add(qv, qv), s))), f32x4.ne(qv, zero));
          const tlt = v128.and(f32x4.mul(tv, logf4(f32x4.div(f32x4.add(tv, tv), s))), f32x4.ne(tv, zero));
          x = f32x4.mul(f32x4.add(tlt, qlq), half);
          hv = f32x4.mul(qlq, half);
        }
        accL = f32x4.add(accL, x);
        if (grad) {
          v128.store(h + (<usize>i << 2), hv);
          accH = f32x4.add(accH, hv);
        }
      }
      l += hsumF32(accL);
      if (grad) hs += hsumF32(accH);
    } while (i < vecEnd);
    bad = v128.any_true(badT);
  }
  for (; i < n; i++) {
    const qv = <f32>(<f64>load<f32>(q + (<usize>i << 2)) * <f64>invS);
    store<f32>(q + (<usize>i << 2), qv);
    const tv = <f64>load<f32>(t + (<usize>i << 2));
    if (!(tv >= 0 && tv < Infinity)) bad = true;
    l += term(kind, <f64>qv, tv);
    if (grad) {
      const hv = <f32>termH;
      store<f32>(h + (<usize>i << 2), hv);
      hs += hv;
    }
  }
  rowH = hs;
  rowBad = bad;
  return l;
}

// g = (h - q H) * scale in place over q.
function jacobianF32(q: usize, h: usize, n: i32, hs: f32, scale: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vh = f32x4.splat(hs), vg = f32x4.splat(scale);
    for (; i + 4 <= n; i += 4) {
      const at = q + (<usize>i << 2);
      const g = f32x4.sub(v128.load(h + (<usize>i << 2)), f32x4.mul(v128.load(at), vh));
      v128.store(at, f32x4.mul(g, vg));
    }
  }
  for (; i < n; i++) {
    const at = q + (<usize>i << 2);
    const g = (<f64>load<f32>(h + (<usize>i << 2)) - <f64>load<f32>(at) * <f64>hs) * <f64>scale;
    store<f32>(at, <f32>g);
  }
}

// @ts-ignore: decorator
@inline function rowsF32(
  kind: i32, z: usize, t: usize, rows: i32, c: i32, invT: f64, flags: i32, gradScale: f64, grad: usize,
  work: usize, loss: usize,
): i32 {
  const want = (flags & PROBLOSS_WANT_GRAD) != 0;
  const scale = <f32>(gradScale * invT);
  let bad = -1;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * c << 2;
    // q always goes to the gradient buffer (scratch when no gradient is wanted).
    const q = grad + off;
    const m = rowMaxF32(z + off, c);
    if (!usable(m)) {
      poisonF32(loss, r, want ? q : 0, c);
      if (bad < 0) bad = r;
      continue;
    }
    // S from the softmax family's exp pass (which returns S - 1).
    const s = 1 + expSumF32(z + off, c, m, <f32>invT, q);
    const l = termsF32(q, t + off, work, c, <f32>(1 / s), kind, want);
    if (rowBad) {
      poisonF32(loss, r, want ? q : 0, c);
      if (bad < 0) bad = r;
      continue;
    }
    store<f64>(loss + (<usize>r << 3), l);
    if (want) jacobianF32(q, work, c, <f32>rowH, scale);
  }
  return bad;
}

// ---------------------------------------------------------------------------------------------
// float64

// @ts-ignore: decorator
@inline function termsF64(q: usize, t: usize, h: usize, n: i32, invS: f64, kind: i32, grad: bool): f64 {
  let i = 0;
  let l: f64 = 0, hs: f64 = 0;
  let bad = false;
  if (ASC_FEATURE_SIMD) {
    const vs = f64x2.splat(invS), zero = f64x2.splat(0), inf = f64x2.splat(Infinity);
    const one = f64x2.splat(1), half = f64x2.splat(0.5);
    let accL = zero, accH = zero, badT = zero;
    for (; i + 2 <= n; i += 2) {
      const qv = f64x2.mul(v128.load(q + (<usize>i << 3)), vs);
      v128.store(q + (<usize>i << 3), qv);
      const tv = v128.load(t + (<usize>i << 3));
      badT = v128.or(badT, v128.not(v128.and(f64x2.ge(tv, zero), f64x2.lt(tv, inf))));
      let x: v128, hv: v128;
      if (kind == PROBLOSS_MSE) {
        const d = f64x2.sub(qv, tv);
        x = f64x2.mul(d, d);
        hv = f64x2.mul(f64x2.add(qv, qv), d);
      } else if (kind == PROBLOSS_L1) {
        const d = f64x2.sub(qv, tv);
        x = f64x2.abs(d);
        const sign = f64x2.sub(v128.and(one, f64x2.gt(d, zero)), v128.and(one, f64x2.lt(d, zero)));
        hv = f64x2.mul(qv, sign);
      } else {
        const s = f64x2.add(tv, qv);
        const qlq = v128.and(f64x2.mul(qv, log2d(f64x2.div(f64x2.add(qv, qv), s))), f64x2.ne(qv, zero));
        const tlt = v128.and(f64x2.mul(tv, log2d(f64x2.div(f64x2.add(tv, tv), s))), f64x2.ne(tv, zero));
        x = f64x2.mul(f64x2.add(tlt, qlq), half);
        hv = f64x2.mul(qlq, half);
      }
      accL = f64x2.add(accL, x);
      if (grad) {
        v128.store(h + (<usize>i << 3), hv);
        accH = f64x2.add(accH, hv);
      }
    }
    l = hsumF64(accL);
    hs = hsumF64(accH);
    bad = v128.any_true(badT);
  }
  for (; i < n; i++) {
    const qv = load<f64>(q + (<usize>i << 3)) * invS;
    store<f64>(q + (<usize>i << 3), qv);
    const tv = load<f64>(t + (<usize>i << 3));
    if (!(tv >= 0 && tv < Infinity)) bad = true;
    l += term(kind, qv, tv);
    if (grad) {
      store<f64>(h + (<usize>i << 3), termH);
      hs += termH;
    }
  }
  rowH = hs;
  rowBad = bad;
  return l;
}

function jacobianF64(q: usize, h: usize, n: i32, hs: f64, scale: f64): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vh = f64x2.splat(hs), vg = f64x2.splat(scale);
    for (; i + 2 <= n; i += 2) {
      const at = q + (<usize>i << 3);
      const g = f64x2.sub(v128.load(h + (<usize>i << 3)), f64x2.mul(v128.load(at), vh));
      v128.store(at, f64x2.mul(g, vg));
    }
  }
  for (; i < n; i++) {
    const at = q + (<usize>i << 3);
    store<f64>(at, (load<f64>(h + (<usize>i << 3)) - load<f64>(at) * hs) * scale);
  }
}

// @ts-ignore: decorator
@inline function rowsF64(
  kind: i32, z: usize, t: usize, rows: i32, c: i32, invT: f64, flags: i32, gradScale: f64, grad: usize,
  work: usize, loss: usize,
): i32 {
  const want = (flags & PROBLOSS_WANT_GRAD) != 0;
  const scale = gradScale * invT;
  let bad = -1;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * c << 3;
    const q = grad + off;
    const m = rowMaxF64(z + off, c);
    if (!usable(m)) {
      poisonF64(loss, r, want ? q : 0, c);
      if (bad < 0) bad = r;
      continue;
    }
    const s = 1 + expSumF64(z + off, c, m, invT, q);
    const l = termsF64(q, t + off, work, c, 1 / s, kind, want);
    if (rowBad) {
      poisonF64(loss, r, want ? q : 0, c);
      if (bad < 0) bad = r;
      continue;
    }
    store<f64>(loss + (<usize>r << 3), l);
    if (want) jacobianF64(q, work, c, rowH, scale);
  }
  return bad;
}

// ---------------------------------------------------------------------------------------------
// kind: PROBLOSS_MSE, PROBLOSS_L1 or PROBLOSS_JS. grad: rows x C, always given (scratch when flags
// lacks PROBLOSS_WANT_GRAD: q is formed there). work: C elements of scratch. loss: rows f64, one loss per row. gradScale: the
// reduction's factor (1/rows for 'mean'). Returns the first bad row, or -1.

export function probloss_f32(
  kind: i32, z: usize, t: usize, rows: i32, c: i32, invT: f64, flags: i32, gradScale: f64, grad: usize,
  work: usize, loss: usize,
): i32 {
  if (kind == PROBLOSS_MSE) return rowsF32(PROBLOSS_MSE, z, t, rows, c, invT, flags, gradScale, grad, work, loss);
  if (kind == PROBLOSS_L1) return rowsF32(PROBLOSS_L1, z, t, rows, c, invT, flags, gradScale, grad, work, loss);
  return rowsF32(PROBLOSS_JS, z, t, rows, c, invT, flags, gradScale, grad, work, loss);
}

export function probloss_f64(
  kind: i32, z: usize, t: usize, rows: i32, c: i32, invT: f64, flags: i32, gradScale: f64, grad: usize,
  work: usize, loss: usize,
): i32 {
  if (kind == PROBLOSS_MSE) return rowsF64(PROBLOSS_MSE, z, t, rows, c, invT, flags, gradScale, grad, work, loss);
  if (kind == PROBLOSS_L1) return rowsF64(PROBLOSS_L1, z, t, rows, c, invT, flags, gradScale, grad, work, loss);
  return rowsF64(PROBLOSS_JS, z, t, rows, c, invT, flags, gradScale, grad, work, loss);
}
