// Divergence kernels: KL, cross-entropy, entropy, Jensen-Shannon and the elementwise rel_entr.
//   kl, crossEntropy, entropy, jsDivergence, jsDistance
//       divergence_f32, divergence_f64 (by FN_*), then check_rows and finish; with normalize,
//       Jensen-Shannon first sums the rows (rowsums_f32, rowsums_f64, normalizing_scales)
//   relEntr  rel_entr_f32, rel_entr_f64
//
// Every row kernel ADDS into a per-row stats record of eight f64 (see STATS_*), so a row longer
// than one chunk of scratch memory is processed in pieces. `finish` then turns the stats into
// values. Kernels trust their arguments: src/ validates shapes, and the stats report bad elements.
//
// The SIMD loops compute a block of BLOCK elements on the fast domain (normal, positive, finite
// ratios; zero probabilities) and OR-accumulate a mask of lanes outside it. Branching per vector
// costs register spills, so a block with any such lane is recomputed by the exact scalar code,
// which also records invalid elements. The scalar build runs only the scalar code.
//
// Near p = q the terms of KL and Jensen-Shannon are computed in forms without cancellation
// (assembly/math/logratio.ts, assembly/math/jsterm.ts): by the scalar code always, by the SIMD
// loops in the blocks where the rows are close (BLOCK_*), the fast forms elsewhere. KL is split as
// sum (x - y) + sum (x ln(x/y) - (x - y)): the second sum has terms >= 0 (the kl_div terms, whose
// sum is the generalized KL), the first has terms that are exact where x is near y and is summed
// with compensation, so the KL of nearly equal rows keeps its relative accuracy instead of losing
// eps / |ln(x/y)| to the cancelling terms x ln(x/y).

import { logf4, logRatiof4 } from "./math/logf";
import { log2d } from "./math/log";
import {
  NEAR_U,
  klDiv,
  klDiv2d,
  klDivNear2d,
  klDivNearf4,
  log1pmx,
  xlogRatio,
  xlogRatio2d,
} from "./math/logratio";
import { JS_NEAR, jsNear, jsNear2d, jsNearf4 } from "./math/jsterm";
import { expm1mx } from "./math/expm1mx";
import { hsumF32, hsumF64 } from "./math/lanes";
import { BLOCK, loadAs } from "./common";

// Stats record of one row: sum of terms, sum of p, sum of q, invalid-element flags; for KL the
// terms are the kl_div terms of the ordinary elements (p, q finite and > 0, or p = 0 <= q finite),
// DIFF + DIFF_LO (compensated) their sum of p - q, and SPECIAL / SPECIAL_GEN the rel_entr and
// kl_div sums of the other elements (non-finite or negative: inf or NaN, as SciPy gives them).
export const STATS_TERMS: i32 = 0;
export const STATS_SUM_P: i32 = 8;
export const STATS_SUM_Q: i32 = 16;
export const STATS_FLAGS: i32 = 24;
export const STATS_DIFF: i32 = 32;
export const STATS_DIFF_LO: i32 = 40;
export const STATS_SPECIAL: i32 = 48;
export const STATS_SPECIAL_GEN: i32 = 56;
export const STATS_SIZE: i32 = 64;

// Flags in the stats record: an element of p (or q) is NaN, infinite or negative.
const BAD_P: i32 = 1;
const BAD_Q: i32 = 2;

// Results of the scalar range functions (a wasm function returns one value; these are its others).
let accTerms: f64 = 0;
let accTermsLo: f64 = 0;
let accP: f64 = 0;
let accQ: f64 = 0;
let accFlags: i32 = 0;
let accDiff: f64 = 0;
let accDiffLo: f64 = 0;
let accSpecial: f64 = 0;
let accSpecialGen: f64 = 0;

// accTerms + accTermsLo += v, compensated as addDiff: the blocks' sums (each of at most BLOCK
// terms) add up without a further error growing with the row's length.
// @ts-ignore: decorator
@inline function addTerms(v: f64): void {
  const s = accTerms + v;
  const b = s - accTerms;
  accTermsLo += (accTerms - (s - b)) + (v - b);
  accTerms = s;
}

// hi + lo of a compensated pair; an infinite hi leaves a NaN in lo (inf - inf), which must not
// spread.
// @ts-ignore: decorator
@inline function joined(hi: f64, lo: f64): f64 {
  return isFinite(hi) ? hi + lo : hi;
}

// accDiff + accDiffLo += v, compensated (TwoSum: Knuth, TAOCP vol. 2, 4.2.2; the error of each
// addition is exact and collects in accDiffLo).
// @ts-ignore: decorator
@inline function addDiff(v: f64): void {
  const s = accDiff + v;
  const b = s - accDiff;
  accDiffLo += (accDiff - (s - b)) + (v - b);
  accDiff = s;
}

// ---------------------------------------------------------------------------------------------
// Exact scalar terms, in f64 (float32 inputs are promoted): SciPy's conventions.

// rel_entr(x, y): x ln(x/y) for x, y > 0; 0 for x = 0 <= y; +inf otherwise; NaN in, NaN out.
// Where x/y overflows or underflows (subnormal y), ln x - ln y keeps the finite exact value.
// @ts-ignore: decorator
@inline function relEntr(x: f64, y: f64): f64 {
  if (x > 0 && y > 0) {
    if (x < Infinity && y < Infinity) return xlogRatio(x, y);
    return x * Math.log(x / y);
  }
  if (x == 0 && y >= 0) return 0;
  if (isNaN(x) || isNaN(y)) return NaN;
  return Infinity;
}

// kl_div(x, y) as SciPy defines it: x ln(x/y) - x + y for x, y > 0 (NaN where infinities meet),
// y for x = 0 <= y, +inf otherwise; NaN in, NaN out. Only for the special elements (see STATS_*).
// @ts-ignore: decorator
@inline function klDivSpecial(x: f64, y: f64): f64 {
  if (isNaN(x) || isNaN(y)) return NaN;
  if (x > 0 && y > 0) return x * Math.log(x / y) - x + y;
  if (x == 0 && y >= 0) return y;
  return Infinity;
}

// One element of KL into the acc* globals: see STATS_* for the split.
// @ts-ignore: decorator
@inline function klElement(x: f64, y: f64): void {
  if (x > 0 && y > 0 && x < Infinity && y < Infinity) {
    const d = x - y;
    accTerms += klDiv(x, y, d);
    addDiff(d);
  } else if (x == 0 && y >= 0 && y < Infinity) {
    accTerms += y;
    addDiff(-y);
  } else {
    accSpecial += relEntr(x, y);
    accSpecialGen += klDivSpecial(x, y);
  }
}

// The rounding error of a * b (computed as ab): Dekker's product with Veltkamp's splitting
// (T. J. Dekker, "A floating-point technique for extending the available precision", Numer. Math.
// 18, 1971): a * b = ab + err exactly. 0 where the split overflows (|a| or |b| above 2^996).
// @ts-ignore: decorator
@inline function productError(a: f64, b: f64, ab: f64): f64 {
  const ca = a * 134217729, cb = b * 134217729; // 2^27 + 1
  const ah = ca - (ca - a), bh = cb - (cb - b);
  const al = a - ah, bl = b - bh;
  const err = ((ah * bh - ab) + ah * bl + al * bh) + al * bl;
  return isFinite(err) ? err : 0;
}

// jsTerm of the scaled elements x = sa p, y = sb q, whose rounding would make d = (x - y)/(x + y)
// wrong by eps / d: x - y is formed from the exact products (each with productError).
// @ts-ignore: decorator
@inline function jsTermScaled(p: f64, q: f64, sa: f64, sb: f64): f64 {
  const x = p * sa, y = q * sb;
  const s = x + y;
  if (x > 0 && y > 0 && s < Infinity) {
    const d = (x - y) + (productError(p, sa, x) - productError(q, sb, y));
    if (Math.abs(d) <= JS_NEAR * s) {
      const e = d / s;
      return d * e * jsNear(e * e) * 0.5;
    }
  }
  const m = s * 0.5;
  return relEntr(x, m) + relEntr(y, m);
}

// rel_entr(x, m) + rel_entr(y, m) with m = (x + y)/2: the Jensen-Shannon term (halved in finish).
// Where |x - y| <= (x + y)/2, the form without cancellation (assembly/math/jsterm.ts).
// @ts-ignore: decorator
@inline function jsTerm(x: f64, y: f64): f64 {
  const s = x + y, d = x - y;
  if (x > 0 && y > 0 && Math.abs(d) <= JS_NEAR * s && s < Infinity) {
    const e = d / s;
    return d * e * jsNear(e * e) * 0.5;
  }
  const m = s * 0.5;
  return relEntr(x, m) + relEntr(y, m);
}

// -x ln y with 0 for x = 0 and any y >= 0 (also y = 0): the cross-entropy term.
// @ts-ignore: decorator
@inline function negXlogY(x: f64, y: f64): f64 {
  if (x == 0 && y >= 0) return 0;
  return -x * Math.log(y);
}

// entr(x) = -x ln x; 0 at 0; -inf for x < 0.
// @ts-ignore: decorator
@inline function entr(x: f64): f64 {
  if (x > 0) return -x * Math.log(x);
  if (x == 0) return 0;
  if (x < 0) return -Infinity;
  return NaN;
}

// A probability is valid when finite and >= 0 (-0 included).
// @ts-ignore: decorator
@inline function invalid(x: f64): bool {
  return !(x >= 0 && x < Infinity);
}

// A natural log of a probability is valid unless NaN or +inf (-inf is a zero probability).
// @ts-ignore: decorator
@inline function invalidLog(x: f64): bool {
  return !(x < Infinity);
}

// ---------------------------------------------------------------------------------------------
// Scalar range functions: elements [from, to) of one row, into the acc* globals.

// Elements [from, to) of a row pair, as terms of `fn` (a constant at every call site, so each
// instance compiles to its own loop): rel_entr for KL, -x ln y for cross-entropy, and for
// Jensen-Shannon rel_entr(a, m) + rel_entr(b, m) of the scaled rows a = sa p, b = sb q, m = (a + b)/2
// (scales are 1 unless normalising; the sum is halved in `finish`). Summed in blocks of BLOCK as the
// SIMD loops are (klElement adds into accTerms, zeroed for each block).
// @ts-ignore: decorator
@inline function pairRange<T>(fn: i32, p: usize, q: usize, from: i32, to: i32, sa: f64, sb: f64): void {
  for (let b = from; b < to; b += BLOCK) {
    const e = min(b + BLOCK, to);
    const keep = accTerms;
    accTerms = 0;
    let t: f64 = 0, sp: f64 = 0, sq: f64 = 0, flags = 0;
    for (let i = b; i < e; i++) {
      const x = loadAs<T>(p, i) * sa, y = loadAs<T>(q, i) * sb;
      if (fn == FN_KL) {
        klElement(x, y);
      } else if (fn == FN_XENT) {
        t += negXlogY(x, y);
      } else if (sa == 1 && sb == 1) {
        t += jsTerm(x, y);
      } else {
        t += jsTermScaled(loadAs<T>(p, i), loadAs<T>(q, i), sa, sb);
      }
      sp += x;
      sq += y;
      if (invalid(x)) flags |= BAD_P;
      if (invalid(y)) flags |= BAD_Q;
    }
    t += accTerms;
    accTerms = keep;
    addTerms(t);
    accP += sp;
    accQ += sq;
    accFlags |= flags;
  }
}

function klRange<T>(p: usize, q: usize, from: i32, to: i32): void {
  pairRange<T>(FN_KL, p, q, from, to, 1, 1);
}

function xentRange<T>(p: usize, q: usize, from: i32, to: i32): void {
  pairRange<T>(FN_XENT, p, q, from, to, 1, 1);
}

function jsRange<T>(p: usize, q: usize, from: i32, to: i32, sa: f64, sb: f64): void {
  pairRange<T>(FN_JS, p, q, from, to, sa, sb);
}

function entropyRange<T>(p: usize, from: i32, to: i32): void {
  for (let b = from; b < to; b += BLOCK) {
    const e = min(b + BLOCK, to);
    let t: f64 = 0, sp: f64 = 0, flags = 0;
    for (let i = b; i < e; i++) {
      const x = loadAs<T>(p, i);
      t += entr(x);
      sp += x;
      if (invalid(x)) flags |= BAD_P;
    }
    addTerms(t);
    accP += sp;
    accFlags |= flags;
  }
}

// Row sums for the scales of normalised Jensen-Shannon, compensated (TwoSum, without a branch): a
// scale in error by e moves the divergence of nearly equal rows by about e^2, which a sum of n
// elements rounded n times could make larger than the divergence itself. accP, accQ take the sums.
function sumRange<T>(p: usize, q: usize, from: i32, to: i32): void {
  let sp: f64 = 0, cp: f64 = 0, sq: f64 = 0, cq: f64 = 0, flags = 0;
  for (let i = from; i < to; i++) {
    const x = loadAs<T>(p, i);
    const t = sp + x;
    const b = t - sp;
    cp += (sp - (t - b)) + (x - b);
    sp = t;
    if (invalid(x)) flags |= BAD_P;
    if (q) {
      const y = loadAs<T>(q, i);
      const u = sq + y;
      const c = u - sq;
      cq += (sq - (u - c)) + (y - c);
      sq = u;
      if (invalid(y)) flags |= BAD_Q;
    }
  }
  accP += joined(sp, cp);
  accQ += joined(sq, cq);
  accFlags |= flags;
}

// ---------------------------------------------------------------------------------------------
// SIMD helpers.

// Constants live in linear memory, one splat load each: Node 20's V8 rebuilds a v128.const at
// every use inside a loop, which costs more than the load (assembly/math).
// @ts-ignore: decorator
@lazy const F32_MIN_NORMAL = memory.data<u32>([0x00800000]); // bits of 2^-126
// @ts-ignore: decorator
@lazy const F32_MAX = memory.data<u32>([0x7f7fffff]); // bits of 3.4028234664e38
// @ts-ignore: decorator
@lazy const F32_ONE = memory.data<f32>([1.0]);
// @ts-ignore: decorator
@lazy const F32_HALF = memory.data<f32>([0.5]);
// @ts-ignore: decorator
@lazy const F32_THIRD = memory.data<f32>([0.3333333333333333]); // 3.3333334327e-01
// @ts-ignore: decorator
@lazy const F32_LN2 = memory.data<f32>([0.6931471805599453]); // 6.9314718246e-01
// @ts-ignore: decorator
@lazy const F64_MIN_NORMAL = memory.data<f64>([2.2250738585072014e-308]); // 2^-1022
// @ts-ignore: decorator
@lazy const F64_MAX = memory.data<f64>([1.7976931348623157e308]);
// @ts-ignore: decorator
@lazy const F64_HALF = memory.data<f64>([0.5]);
// @ts-ignore: decorator
@lazy const F64_LN2 = memory.data<f64>([0.6931471805599453]);

// Lanes whose float is positive, normal and finite: the fast domain of logf4. Negative, zero,
// subnormal, infinite and NaN all fail one of the two compares (x64 has no unsigned vector compare,
// so two float compares beat one emulated i32x4.lt_u).
// @ts-ignore: decorator
@inline function fastF32(x: v128): v128 {
  return v128.and(f32x4.ge(x, v128.load32_splat(F32_MIN_NORMAL)), f32x4.le(x, v128.load32_splat(F32_MAX)));
}

// Lanes that hold +0 ... max finite (excludes -0, negatives, inf, NaN).
// @ts-ignore: decorator
@inline function finiteNonNegF32(x: v128): v128 {
  return i32x4.le_u(x, v128.load32_splat(F32_MAX));
}

// @ts-ignore: decorator
@inline function fastF64(x: v128): v128 {
  return v128.and(
    f64x2.ge(x, v128.load64_splat(F64_MIN_NORMAL)),
    f64x2.le(x, v128.load64_splat(F64_MAX)),
  );
}

// ---------------------------------------------------------------------------------------------
// Row functions: one row (or a piece of one), SIMD blocks, then the scalar tail.

// Blocks of the SIMD loops: each block function adds one block [i, end) into the acc* globals and
// names the form for the next block, or adds nothing and names the form to redo it with. The fast
// form (the logarithms of rounded ratios) is accurate to a few ulp of the terms' sum where that sum
// is not small next to the block's mass (sum p + sum q): there the ratios' rounding (half an ulp
// each) is a small part of it. Where the rows are nearly equal it is all that is left, so the
// block is redone with the exact forms: the near form alone (no logarithm, cheaper than the fast
// form) where every lane is near, else both forms lane by lane. The exact forms go on for the
// following blocks until a block is far enough from equal again (twice the bound, so that a row
// near the bound does not switch at every block). The scalar code redoes a block with other
// elements (zeros the near form cannot take, infinities, NaN, negatives, subnormal ratios).
const NEXT_FAST: i32 = 0; // added; the next block tries the fast form
const NEXT_NEAR: i32 = 1; // added; the next block tries the near form
const NEXT_MIXED: i32 = 2; // added; the next block takes both forms
const TRY_NEAR: i32 = 3; // not added: too close to equal for the fast form
const TRY_MIXED: i32 = 4; // not added: a lane the near form cannot take
const BLOCK_BAD: i32 = 5; // not added: an element for the scalar code

// Where a run of fast blocks stopped (the run functions' second result): consecutive fast blocks
// run in one call, without a return to the row loop per block.
let runAt: i32 = 0;

// Where the fast forms stop: the kl_div sum (KL) or the term sum (Jensen-Shannon) of a block at
// least this fraction of its sum p + sum q. Every block of the benchmark's rows stays above 0.164
// (KL) and 0.078 (Jensen-Shannon): scripts/measure/measure-block-margins.mjs, docs/divergence-accuracy.md.
const KL_FAST: f64 = 0.125;
const JS_FAST: f64 = 0.0625;

// Largest finite float32, as f64: a block whose sum p + sum q exceeds it has an infinite element
// or a sum that overflowed in float32 lanes.
const F32_MAX_F64: f64 = 3.4028234663852886e38;

// KL over one row, as in klRowF64: fast blocks, exact blocks where rows are nearly equal.
function klRowF32(p: usize, q: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vecEnd = n & ~3;
    let next = NEXT_FAST;
    while (i < vecEnd) {
      let r = next == NEXT_NEAR ? TRY_NEAR : TRY_MIXED;
      if (next == NEXT_FAST) {
        r = klRunFastF32(p, q, i, vecEnd);
        i = runAt;
        if (i >= vecEnd) break;
      }
      const end = min(i + BLOCK, vecEnd);
      if (r == TRY_NEAR) r = klBlockNearF32(p, q, i, end);
      if (r == TRY_MIXED) r = klBlockMixedF32(p, q, i, end);
      if (r == BLOCK_BAD) klRange<f32>(p, q, i, end);
      else next = r;
      i = end;
    }
  } else {
    i = klRowScalar<f32>(p, q, n);
  }
  klRange<f32>(p, q, i, n);
}

// Fast blocks from start on, while they are accurate enough; runAt = where the run stopped.
function klRunFastF32(p: usize, q: usize, start: i32, vecEnd: i32): i32 {
  let i = start;
  let r = NEXT_FAST;
  while (i < vecEnd) {
    const end = min(i + BLOCK, vecEnd);
    r = klBlockFastF32(p, q, i, end);
    if (r != NEXT_FAST) break;
    i = end;
  }
  runAt = i;
  return r;
}

// @ts-ignore: decorator
@inline function klBlockFastF32(p: usize, q: usize, start: i32, end: i32): i32 {
  let i = start;
  let acc = f32x4.splat(0), sp = f32x4.splat(0), sq = f32x4.splat(0), bad = i32x4.splat(0);
  // Four, then two vectors per iteration: independent work for the out-of-order core, and
  // the constants loaded once for all of them.
  for (; i + 16 <= end; i += 16) {
    const at = <usize>i << 2;
    const one = v128.load32_splat(F32_ONE);
    const zero = i32x4.splat(0);
    const pa = v128.load(p + at, 0), qa = v128.load(q + at, 0);
    const ia = f32x4.div(one, qa);
    const ra = f32x4.mul(pa, ia);
    const fa = fastF32(ra);
    bad = v128.or(bad, v128.or(v128.not(v128.or(fa, i32x4.eq(pa, zero))), qa));
    const ta = v128.and(f32x4.mul(pa, logRatiof4(ra, f32x4.mul(f32x4.sub(pa, qa), ia))), fa);
    const pb = v128.load(p + at, 16), qb = v128.load(q + at, 16);
    const ib = f32x4.div(one, qb);
    const rb = f32x4.mul(pb, ib);
    const fb = fastF32(rb);
    bad = v128.or(bad, v128.or(v128.not(v128.or(fb, i32x4.eq(pb, zero))), qb));
    const tb = v128.and(f32x4.mul(pb, logRatiof4(rb, f32x4.mul(f32x4.sub(pb, qb), ib))), fb);
    const pc = v128.load(p + at, 32), qc = v128.load(q + at, 32);
    const ic = f32x4.div(one, qc);
    const rc = f32x4.mul(pc, ic);
    const fc = fastF32(rc);
    bad = v128.or(bad, v128.or(v128.not(v128.or(fc, i32x4.eq(pc, zero))), qc));
    const tc = v128.and(f32x4.mul(pc, logRatiof4(rc, f32x4.mul(f32x4.sub(pc, qc), ic))), fc);
    const pd = v128.load(p + at, 48), qd = v128.load(q + at, 48);
    const id = f32x4.div(one, qd);
    const rd = f32x4.mul(pd, id);
    const fd = fastF32(rd);
    bad = v128.or(bad, v128.or(v128.not(v128.or(fd, i32x4.eq(pd, zero))), qd));
    const td = v128.and(f32x4.mul(pd, logRatiof4(rd, f32x4.mul(f32x4.sub(pd, qd), id))), fd);
    acc = f32x4.add(acc, f32x4.add(f32x4.add(ta, tb), f32x4.add(tc, td)));
    sp = f32x4.add(sp, f32x4.add(f32x4.add(pa, pb), f32x4.add(pc, pd)));
    sq = f32x4.add(sq, f32x4.add(f32x4.add(qa, qb), f32x4.add(qc, qd)));
  }
  for (; i + 8 <= end; i += 8) {
    const vp = v128.load(p + (<usize>i << 2));
    const vq = v128.load(q + (<usize>i << 2));
    const wp = v128.load(p + (<usize>i << 2), 16);
    const wq = v128.load(q + (<usize>i << 2), 16);
    const one = v128.load32_splat(F32_ONE);
    const inv = f32x4.div(one, vq);
    const jnv = f32x4.div(one, wq);
    const r = f32x4.mul(vp, inv);
    const s = f32x4.mul(wp, jnv);
    const fast = fastF32(r);
    const wast = fastF32(s);
    const zero = i32x4.splat(0);
    bad = v128.or(bad, v128.or(v128.not(v128.or(fast, i32x4.eq(vp, zero))), vq));
    bad = v128.or(bad, v128.or(v128.not(v128.or(wast, i32x4.eq(wp, zero))), wq));
    const lr = logRatiof4(r, f32x4.mul(f32x4.sub(vp, vq), inv));
    const ls = logRatiof4(s, f32x4.mul(f32x4.sub(wp, wq), jnv));
    acc = f32x4.add(acc, f32x4.add(v128.and(f32x4.mul(vp, lr), fast), v128.and(f32x4.mul(wp, ls), wast)));
    sp = f32x4.add(sp, f32x4.add(vp, wp));
    sq = f32x4.add(sq, f32x4.add(vq, wq));
  }
  for (; i < end; i += 4) {
    const vp = v128.load(p + (<usize>i << 2));
    const vq = v128.load(q + (<usize>i << 2));
    // One reciprocal gives both the ratio and (p - q)/q, its accurate form near 1.
    const inv = f32x4.div(v128.load32_splat(F32_ONE), vq);
    const r = f32x4.mul(vp, inv);
    const fast = fastF32(r);
    // A lane with p = +0 is an exact 0 term (0 times a finite log, masked off where q is NaN
    // or inf, which the row sum of q reports). The sign of q catches p, q both negative.
    bad = v128.or(bad, v128.or(v128.not(v128.or(fast, i32x4.eq(vp, i32x4.splat(0)))), vq));
    const lr = logRatiof4(r, f32x4.mul(f32x4.sub(vp, vq), inv));
    acc = f32x4.add(acc, v128.and(f32x4.mul(vp, lr), fast));
    sp = f32x4.add(sp, vp);
    sq = f32x4.add(sq, vq);
  }
  if (i32x4.bitmask(bad)) return BLOCK_BAD;
  // The block's rel_entr sum t is its kl_div sum t - (sp - sq) plus its sum of p - q.
  const bp = hsumF32(sp), bq = hsumF32(sq);
  if (!(bp + bq <= F32_MAX_F64)) return BLOCK_BAD;
  const g = hsumF32(acc) - (bp - bq);
  if (!(g >= KL_FAST * (bp + bq))) return TRY_NEAR;
  addTerms(g);
  addDiff(bp - bq);
  accP += bp;
  accQ += bq;
  return NEXT_FAST;
}

// The near form alone in float32 lanes: the kl_div term by klDivNearf4, which needs
// |p - q| < (p + q)/3, or p = +0 (the term is q), and p, q >= 0 in every lane (else the mixed form
// redoes the block), and p - q (exact there) summed in float64 lanes.
function klBlockNearF32(p: usize, q: usize, start: i32, end: i32): i32 {
  let acc = f32x4.splat(0), sp = f32x4.splat(0), sq = f32x4.splat(0), other = i32x4.splat(0);
  let dlo = f64x2.splat(0), dhi = f64x2.splat(0);
  let i = start;
  // Four, then two vectors per iteration: the division and polynomial of each are a long
  // dependency chain, and independent chains keep the core busy.
  for (; i + 16 <= end; i += 16) {
    const at = <usize>i << 2;
    const third = v128.load32_splat(F32_THIRD);
    const zero = i32x4.splat(0);
    const pa = v128.load(p + at), qa = v128.load(q + at);
    const pb = v128.load(p + at, 16), qb = v128.load(q + at, 16);
    const pc = v128.load(p + at, 32), qc = v128.load(q + at, 32);
    const pd = v128.load(p + at, 48), qd = v128.load(q + at, 48);
    const da = f32x4.sub(pa, qa), sa = f32x4.add(pa, qa), za = i32x4.eq(pa, zero);
    const db = f32x4.sub(pb, qb), sb = f32x4.add(pb, qb), zb = i32x4.eq(pb, zero);
    const dc = f32x4.sub(pc, qc), sc = f32x4.add(pc, qc), zc = i32x4.eq(pc, zero);
    const dd = f32x4.sub(pd, qd), sd = f32x4.add(pd, qd), zd = i32x4.eq(pd, zero);
    const na = v128.or(f32x4.lt(f32x4.abs(da), f32x4.mul(sa, third)), za);
    const nb = v128.or(f32x4.lt(f32x4.abs(db), f32x4.mul(sb, third)), zb);
    const nc = v128.or(f32x4.lt(f32x4.abs(dc), f32x4.mul(sc, third)), zc);
    const nd = v128.or(f32x4.lt(f32x4.abs(dd), f32x4.mul(sd, third)), zd);
    const signs = v128.or(v128.or(v128.or(pa, qa), v128.or(pb, qb)), v128.or(v128.or(pc, qc), v128.or(pd, qd)));
    other = v128.or(other, v128.or(v128.not(v128.and(v128.and(na, nb), v128.and(nc, nd))), signs));
    const ga = v128.bitselect(qa, klDivNearf4(pa, da, sa), za);
    const gb = v128.bitselect(qb, klDivNearf4(pb, db, sb), zb);
    const gc = v128.bitselect(qc, klDivNearf4(pc, dc, sc), zc);
    const gd = v128.bitselect(qd, klDivNearf4(pd, dd, sd), zd);
    acc = f32x4.add(acc, f32x4.add(f32x4.add(ga, gb), f32x4.add(gc, gd)));
    const lo = f64x2.add(
      f64x2.add(f64x2.promote_low_f32x4(da), f64x2.promote_low_f32x4(db)),
      f64x2.add(f64x2.promote_low_f32x4(dc), f64x2.promote_low_f32x4(dd)),
    );
    const hi = f64x2.add(
      f64x2.add(f64x2.promote_low_f32x4(i32x4.shuffle(da, da, 2, 3, 0, 1)), f64x2.promote_low_f32x4(i32x4.shuffle(db, db, 2, 3, 0, 1))),
      f64x2.add(f64x2.promote_low_f32x4(i32x4.shuffle(dc, dc, 2, 3, 0, 1)), f64x2.promote_low_f32x4(i32x4.shuffle(dd, dd, 2, 3, 0, 1))),
    );
    dlo = f64x2.add(dlo, lo);
    dhi = f64x2.add(dhi, hi);
    sp = f32x4.add(sp, f32x4.add(f32x4.add(pa, pb), f32x4.add(pc, pd)));
    sq = f32x4.add(sq, f32x4.add(f32x4.add(qa, qb), f32x4.add(qc, qd)));
  }
  for (; i + 8 <= end; i += 8) {
    const vp = v128.load(p + (<usize>i << 2)), vq = v128.load(q + (<usize>i << 2));
    const wp = v128.load(p + (<usize>i << 2), 16), wq = v128.load(q + (<usize>i << 2), 16);
    const third = v128.load32_splat(F32_THIRD);
    const dv = f32x4.sub(vp, vq), sv = f32x4.add(vp, vq);
    const dw = f32x4.sub(wp, wq), sw = f32x4.add(wp, wq);
    const zv = i32x4.eq(vp, i32x4.splat(0)), zw = i32x4.eq(wp, i32x4.splat(0));
    const nv = f32x4.lt(f32x4.abs(dv), f32x4.mul(sv, third));
    const nw = f32x4.lt(f32x4.abs(dw), f32x4.mul(sw, third));
    other = v128.or(other, v128.or(v128.not(v128.and(v128.or(nv, zv), v128.or(nw, zw))), v128.or(v128.or(vp, vq), v128.or(wp, wq))));
    const gv = v128.bitselect(vq, klDivNearf4(vp, dv, sv), zv);
    const gw = v128.bitselect(wq, klDivNearf4(wp, dw, sw), zw);
    acc = f32x4.add(acc, f32x4.add(gv, gw));
    // dv + dw in float64 lanes (each exact there; their float32 sum need not be).
    dlo = f64x2.add(dlo, f64x2.add(f64x2.promote_low_f32x4(dv), f64x2.promote_low_f32x4(dw)));
    dhi = f64x2.add(
      dhi,
      f64x2.add(
        f64x2.promote_low_f32x4(i32x4.shuffle(dv, dv, 2, 3, 0, 1)),
        f64x2.promote_low_f32x4(i32x4.shuffle(dw, dw, 2, 3, 0, 1)),
      ),
    );
    sp = f32x4.add(sp, f32x4.add(vp, wp));
    sq = f32x4.add(sq, f32x4.add(vq, wq));
  }
  for (; i < end; i += 4) {
    const vp = v128.load(p + (<usize>i << 2));
    const vq = v128.load(q + (<usize>i << 2));
    const d = f32x4.sub(vp, vq);
    const s = f32x4.add(vp, vq);
    const near = f32x4.lt(f32x4.abs(d), f32x4.mul(s, v128.load32_splat(F32_THIRD)));
    const zero = i32x4.eq(vp, i32x4.splat(0));
    other = v128.or(other, v128.or(v128.not(v128.or(near, zero)), v128.or(vp, vq)));
    acc = f32x4.add(acc, v128.bitselect(vq, klDivNearf4(vp, d, s), zero));
    dlo = f64x2.add(dlo, f64x2.promote_low_f32x4(d));
    dhi = f64x2.add(dhi, f64x2.promote_low_f32x4(i32x4.shuffle(d, d, 2, 3, 0, 1)));
    sp = f32x4.add(sp, vp);
    sq = f32x4.add(sq, vq);
  }
  if (i32x4.bitmask(other)) return TRY_MIXED;
  const bp = hsumF32(sp), bq = hsumF32(sq);
  if (!(bp + bq <= F32_MAX_F64)) return TRY_MIXED;
  const g = hsumF32(acc);
  addTerms(g);
  addDiff(hsumF64(dlo));
  addDiff(hsumF64(dhi));
  accP += bp;
  accQ += bq;
  return g >= 2 * KL_FAST * (bp + bq) ? NEXT_FAST : NEXT_NEAR;
}

// Both exact forms in float32 lanes: the kl_div term as klDivNearf4 where |p - q| < (p + q)/3,
// else p ln(p/q) - (p - q) (losing at most 2.6 bits to cancellation, at p/q = 2), and p - q (exact
// in the near lanes) summed in float64 lanes.
function klBlockMixedF32(p: usize, q: usize, start: i32, end: i32): i32 {
  let acc = f32x4.splat(0), sp = f32x4.splat(0), sq = f32x4.splat(0), bad = i32x4.splat(0);
  let far = i32x4.splat(0);
  let dlo = f64x2.splat(0), dhi = f64x2.splat(0);
  for (let i = start; i < end; i += 4) {
    const vp = v128.load(p + (<usize>i << 2));
    const vq = v128.load(q + (<usize>i << 2));
    const inv = f32x4.div(v128.load32_splat(F32_ONE), vq);
    const r = f32x4.mul(vp, inv);
    const fast = fastF32(r);
    bad = v128.or(bad, v128.or(v128.not(v128.or(fast, i32x4.eq(vp, i32x4.splat(0)))), vq));
    const d = f32x4.sub(vp, vq);
    const s = f32x4.add(vp, vq);
    const gFar = f32x4.sub(v128.and(f32x4.mul(vp, logRatiof4(r, f32x4.mul(d, inv))), fast), d);
    // Strict: p = q = 0 (a 0/0 in klDivNearf4) is a far lane, whose term is the exact 0.
    const near = f32x4.lt(f32x4.abs(d), f32x4.mul(s, v128.load32_splat(F32_THIRD)));
    acc = f32x4.add(acc, v128.bitselect(klDivNearf4(vp, d, s), gFar, near));
    far = v128.or(far, v128.not(near));
    dlo = f64x2.add(dlo, f64x2.promote_low_f32x4(d));
    dhi = f64x2.add(dhi, f64x2.promote_low_f32x4(i32x4.shuffle(d, d, 2, 3, 0, 1)));
    sp = f32x4.add(sp, vp);
    sq = f32x4.add(sq, vq);
  }
  if (i32x4.bitmask(bad)) return BLOCK_BAD;
  const bp = hsumF32(sp), bq = hsumF32(sq);
  if (!(bp + bq <= F32_MAX_F64)) return BLOCK_BAD;
  const g = hsumF32(acc);
  addTerms(g);
  addDiff(hsumF64(dlo));
  addDiff(hsumF64(dhi));
  accP += bp;
  accQ += bq;
  return g >= 2 * KL_FAST * (bp + bq) ? NEXT_FAST : i32x4.bitmask(far) ? NEXT_MIXED : NEXT_NEAR;
}

// KL over one row: fast blocks where p and q are far apart, exact blocks where they are nearly
// equal (see BLOCK_*), the scalar code for blocks with other elements and for the tail.
function klRowF64(p: usize, q: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vecEnd = n & ~1;
    let next = NEXT_FAST;
    while (i < vecEnd) {
      let r = next == NEXT_NEAR ? TRY_NEAR : TRY_MIXED;
      if (next == NEXT_FAST) {
        r = klRunFastF64(p, q, i, vecEnd);
        i = runAt;
        if (i >= vecEnd) break;
      }
      const end = min(i + BLOCK, vecEnd);
      if (r == TRY_NEAR) r = klBlockNearF64(p, q, i, end);
      if (r == TRY_MIXED) r = klBlockMixedF64(p, q, i, end);
      if (r == BLOCK_BAD) klRange<f64>(p, q, i, end);
      else next = r;
      i = end;
    }
  } else {
    i = klRowScalar<f64>(p, q, n);
  }
  klRange<f64>(p, q, i, n);
}

// The scalar build's KL: blocks as in the SIMD loops, the fast form being SciPy's x ln(x/y) (the
// exact forms cost about a third more per element). Returns where the scalar tail starts.
function klRowScalar<T>(p: usize, q: usize, n: i32): i32 {
  let exact = false;
  let i = 0;
  for (; i < n; i += BLOCK) {
    const end = min(i + BLOCK, n);
    if (!exact && klBlockFastScalar<T>(p, q, i, end)) continue;
    const keep = accTerms;
    accTerms = 0;
    const gp = accP, gq = accQ;
    klRange<T>(p, q, i, end);
    // The block's kl_div sum against its mass, as klBlockExactF64 does.
    const g = accTerms, mass = (accP - gp) + (accQ - gq);
    accTerms = keep;
    addTerms(g);
    exact = !(g >= 2 * KL_FAST * mass);
  }
  return i;
}

// A block of rel_entr terms x ln(x/y) of ordinary elements (p, q positive and finite, or p = 0 <=
// q finite), added as in klBlockFastF64; false (nothing added) where an element is another or the
// block is too close to equal for this form.
// @ts-ignore: decorator
@inline function klBlockFastScalar<T>(p: usize, q: usize, start: i32, end: i32): bool {
  let t: f64 = 0, sp: f64 = 0, sq: f64 = 0;
  for (let i = start; i < end; i++) {
    const x = loadAs<T>(p, i), y = loadAs<T>(q, i);
    if (x > 0 && y > 0 && x < Infinity && y < Infinity) {
      const r = x / y;
      t += r >= 2.2250738585072014e-308 && r <= 1.7976931348623157e308
        ? x * Math.log(r)
        : x * (Math.log(x) - Math.log(y));
    } else if (!(x == 0 && y >= 0 && y < Infinity)) {
      return false;
    }
    sp += x;
    sq += y;
  }
  const g = t - (sp - sq);
  if (!(g >= KL_FAST * (sp + sq)) || !(sp + sq <= f64.MAX_VALUE)) return false;
  addTerms(g);
  addDiff(sp - sq);
  accP += sp;
  accQ += sq;
  return true;
}

// Fast blocks from start on, while they are accurate enough; runAt = where the run stopped.
function klRunFastF64(p: usize, q: usize, start: i32, vecEnd: i32): i32 {
  let i = start;
  let r = NEXT_FAST;
  while (i < vecEnd) {
    const end = min(i + BLOCK, vecEnd);
    r = klBlockFastF64(p, q, i, end);
    if (r != NEXT_FAST) break;
    i = end;
  }
  runAt = i;
  return r;
}

// @ts-ignore: decorator
@inline function klBlockFastF64(p: usize, q: usize, start: i32, end: i32): i32 {
  let i = start;
  let acc = f64x2.splat(0), sp = f64x2.splat(0), sq = f64x2.splat(0), bad = i64x2.splat(0);
  // Two vectors per iteration, as in klBlockFastF32.
  for (; i + 4 <= end; i += 4) {
    const vp = v128.load(p + (<usize>i << 3));
    const vq = v128.load(q + (<usize>i << 3));
    const wp = v128.load(p + (<usize>i << 3), 16);
    const wq = v128.load(q + (<usize>i << 3), 16);
    const r = f64x2.div(vp, vq);
    const s = f64x2.div(wp, wq);
    const fast = fastF64(r);
    const wast = fastF64(s);
    const zero = f64x2.splat(0);
    bad = v128.or(bad, v128.or(v128.not(v128.or(fast, f64x2.eq(vp, zero))), v128.or(vp, vq)));
    bad = v128.or(bad, v128.or(v128.not(v128.or(wast, f64x2.eq(wp, zero))), v128.or(wp, wq)));
    const tv = v128.and(f64x2.mul(vp, log2d(r)), fast);
    const tw = v128.and(f64x2.mul(wp, log2d(s)), wast);
    acc = f64x2.add(acc, f64x2.add(tv, tw));
    sp = f64x2.add(sp, f64x2.add(vp, wp));
    sq = f64x2.add(sq, f64x2.add(vq, wq));
  }
  for (; i < end; i += 2) {
    const vp = v128.load(p + (<usize>i << 3));
    const vq = v128.load(q + (<usize>i << 3));
    const r = f64x2.div(vp, vq);
    const fast = fastF64(r);
    // As in klBlockFastF32; the sign bits catch -0 (a float compare counts it as zero) and negatives.
    const zero = f64x2.eq(vp, f64x2.splat(0));
    bad = v128.or(bad, v128.or(v128.not(v128.or(fast, zero)), v128.or(vp, vq)));
    acc = f64x2.add(acc, v128.and(f64x2.mul(vp, log2d(r)), fast));
    sp = f64x2.add(sp, vp);
    sq = f64x2.add(sq, vq);
  }
  if (i64x2.bitmask(bad)) return BLOCK_BAD;
  const bp = hsumF64(sp), bq = hsumF64(sq);
  if (!(bp + bq <= f64.MAX_VALUE)) return BLOCK_BAD;
  const g = hsumF64(acc) - (bp - bq);
  if (!(g >= KL_FAST * (bp + bq))) return TRY_NEAR;
  addTerms(g);
  addDiff(bp - bq);
  accP += bp;
  accQ += bq;
  return NEXT_FAST;
}

// Lanes of a KL vector outside the fast domain: a positive normal finite ratio, or x = +0. The sign
// bits catch -0 (a float compare counts it as zero) and negatives. klDiv2d also needs a finite
// x + y: a block whose sum p + sum q is not finite (an infinite or huge q) is redone instead.
// @ts-ignore: decorator
@inline function klBadF64(x: v128, r: v128, sign: v128): v128 {
  return v128.or(v128.not(v128.or(fastF64(r), f64x2.eq(x, f64x2.splat(0)))), sign);
}

// The near form alone: kl_div terms by klDivNear2d, which needs |p - q| < 0.1716 (p + q), or p = +0
// (the term is q), and p, q >= 0 in every lane (else the mixed form redoes the block), and p - q
// summed per lane with TwoSum as in klBlockMixedF64.
function klBlockNearF64(p: usize, q: usize, start: i32, end: i32): i32 {
  let acc = f64x2.splat(0), sp = f64x2.splat(0), sq = f64x2.splat(0), other = i64x2.splat(0);
  let dsum = f64x2.splat(0), dlo = f64x2.splat(0);
  const bound = f64x2.splat(NEAR_U);
  for (let i = start; i < end; i += 2) {
    const vp = v128.load(p + (<usize>i << 3)), vq = v128.load(q + (<usize>i << 3));
    const d = f64x2.sub(vp, vq), s = f64x2.add(vp, vq);
    const zero = f64x2.eq(vp, f64x2.splat(0));
    const near = f64x2.lt(f64x2.abs(d), f64x2.mul(s, bound));
    other = v128.or(other, v128.or(v128.not(v128.or(near, zero)), v128.or(vp, vq)));
    acc = f64x2.add(acc, v128.bitselect(vq, klDivNear2d(vp, d, s), zero));
    const t = f64x2.add(dsum, d);
    const b = f64x2.sub(t, dsum);
    dlo = f64x2.add(dlo, f64x2.add(f64x2.sub(dsum, f64x2.sub(t, b)), f64x2.sub(d, b)));
    dsum = t;
    sp = f64x2.add(sp, vp);
    sq = f64x2.add(sq, vq);
  }
  if (i64x2.bitmask(other)) return TRY_MIXED;
  const bp = hsumF64(sp), bq = hsumF64(sq);
  if (!(bp + bq <= f64.MAX_VALUE)) return TRY_MIXED;
  const g = hsumF64(acc);
  addTerms(g);
  addDiff(f64x2.extract_lane(dsum, 0));
  addDiff(f64x2.extract_lane(dsum, 1));
  accDiffLo += hsumF64(dlo);
  accP += bp;
  accQ += bq;
  return g >= 2 * KL_FAST * (bp + bq) ? NEXT_FAST : NEXT_NEAR;
}

// Both exact forms: kl_div terms by klDiv2d, and p - q summed per lane with TwoSum (dsum + dlo is
// the exact sum of the lanes' differences up to the rounding of dlo's own additions).
function klBlockMixedF64(p: usize, q: usize, start: i32, end: i32): i32 {
  let acc = f64x2.splat(0), sp = f64x2.splat(0), sq = f64x2.splat(0), bad = i64x2.splat(0);
  let dsum = f64x2.splat(0), dlo = f64x2.splat(0), far = i64x2.splat(0);
  const bound = f64x2.splat(NEAR_U);
  let i = start;
  // Two vectors per iteration (the constants loaded once for both).
  for (; i + 4 <= end; i += 4) {
    const vp = v128.load(p + (<usize>i << 3)), vq = v128.load(q + (<usize>i << 3));
    const wp = v128.load(p + (<usize>i << 3), 16), wq = v128.load(q + (<usize>i << 3), 16);
    const r = f64x2.div(vp, vq), s = f64x2.div(wp, wq);
    const dv = f64x2.sub(vp, vq), dw = f64x2.sub(wp, wq);
    bad = v128.or(bad, v128.or(klBadF64(vp, r, v128.or(vp, vq)), klBadF64(wp, s, v128.or(wp, wq))));
    far = v128.or(far, v128.not(f64x2.le(f64x2.abs(dv), f64x2.mul(f64x2.add(vp, vq), bound))));
    far = v128.or(far, v128.not(f64x2.le(f64x2.abs(dw), f64x2.mul(f64x2.add(wp, wq), bound))));
    acc = f64x2.add(acc, f64x2.add(klDiv2d(vp, vq, dv, r), klDiv2d(wp, wq, dw, s)));
    // TwoSum of dv + dw, then of dsum + that.
    const d = f64x2.add(dv, dw);
    const e = f64x2.add(f64x2.sub(dv, f64x2.sub(d, dw)), f64x2.sub(dw, f64x2.sub(d, f64x2.sub(d, dw))));
    const t = f64x2.add(dsum, d);
    const b = f64x2.sub(t, dsum);
    dlo = f64x2.add(dlo, f64x2.add(f64x2.add(f64x2.sub(dsum, f64x2.sub(t, b)), f64x2.sub(d, b)), e));
    dsum = t;
    sp = f64x2.add(sp, f64x2.add(vp, wp));
    sq = f64x2.add(sq, f64x2.add(vq, wq));
  }
  for (; i < end; i += 2) {
    const vp = v128.load(p + (<usize>i << 3)), vq = v128.load(q + (<usize>i << 3));
    const r = f64x2.div(vp, vq);
    const d = f64x2.sub(vp, vq);
    bad = v128.or(bad, klBadF64(vp, r, v128.or(vp, vq)));
    far = v128.or(far, v128.not(f64x2.le(f64x2.abs(d), f64x2.mul(f64x2.add(vp, vq), bound))));
    acc = f64x2.add(acc, klDiv2d(vp, vq, d, r));
    const t = f64x2.add(dsum, d);
    const b = f64x2.sub(t, dsum);
    dlo = f64x2.add(dlo, f64x2.add(f64x2.sub(dsum, f64x2.sub(t, b)), f64x2.sub(d, b)));
    dsum = t;
    sp = f64x2.add(sp, vp);
    sq = f64x2.add(sq, vq);
  }
  if (i64x2.bitmask(bad)) return BLOCK_BAD;
  const bp = hsumF64(sp), bq = hsumF64(sq);
  if (!(bp + bq <= f64.MAX_VALUE)) return BLOCK_BAD;
  const g = hsumF64(acc);
  addTerms(g);
  addDiff(f64x2.extract_lane(dsum, 0));
  addDiff(f64x2.extract_lane(dsum, 1));
  accDiffLo += hsumF64(dlo);
  accP += bp;
  accQ += bq;
  return g >= 2 * KL_FAST * (bp + bq) ? NEXT_FAST : i64x2.bitmask(far) ? NEXT_MIXED : NEXT_NEAR;
}

function xentRowF32(p: usize, q: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vecEnd = n & ~3;
    while (i < vecEnd) {
      const start = i;
      const end = min(i + BLOCK, vecEnd);
      let acc = f32x4.splat(0), sp = f32x4.splat(0), sq = f32x4.splat(0), bad = i32x4.splat(0);
      for (; i < end; i += 4) {
        const vp = v128.load(p + (<usize>i << 2));
        const vq = v128.load(q + (<usize>i << 2));
        const fast = fastF32(vq);
        // NaN or infinite p (and q where p = 0) reach the row sums, which report them; the sign
        // of p catches negative p.
        bad = v128.or(bad, v128.or(v128.not(v128.or(fast, i32x4.eq(vp, i32x4.splat(0)))), vp));
        acc = f32x4.add(acc, v128.and(f32x4.mul(vp, logf4(vq)), fast));
        sp = f32x4.add(sp, vp);
        sq = f32x4.add(sq, vq);
      }
      if (i32x4.bitmask(bad)) {
        xentRange<f32>(p, q, start, end);
      } else {
        addTerms(-hsumF32(acc));
        accP += hsumF32(sp);
        accQ += hsumF32(sq);
      }
    }
  }
  xentRange<f32>(p, q, i, n);
}

function xentRowF64(p: usize, q: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vecEnd = n & ~1;
    while (i < vecEnd) {
      const start = i;
      const end = min(i + BLOCK, vecEnd);
      let acc = f64x2.splat(0), sp = f64x2.splat(0), sq = f64x2.splat(0), bad = i64x2.splat(0);
      for (; i < end; i += 2) {
        const vp = v128.load(p + (<usize>i << 3));
        const vq = v128.load(q + (<usize>i << 3));
        const fast = fastF64(vq);
        // As in xentRowF32.
        bad = v128.or(bad, v128.or(v128.not(v128.or(fast, f64x2.eq(vp, f64x2.splat(0)))), vp));
        acc = f64x2.add(acc, v128.and(f64x2.mul(vp, log2d(vq)), fast));
        sp = f64x2.add(sp, vp);
        sq = f64x2.add(sq, vq);
      }
      if (i64x2.bitmask(bad)) {
        xentRange<f64>(p, q, start, end);
      } else {
        addTerms(-hsumF64(acc));
        accP += hsumF64(sp);
        accQ += hsumF64(sq);
      }
    }
  }
  xentRange<f64>(p, q, i, n);
}

function entropyRowF32(p: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vecEnd = n & ~3;
    while (i < vecEnd) {
      const start = i;
      const end = min(i + BLOCK, vecEnd);
      let acc = f32x4.splat(0), sp = f32x4.splat(0), bad = i32x4.splat(0);
      for (; i < end; i += 4) {
        const vp = v128.load(p + (<usize>i << 2));
        const fast = fastF32(vp);
        bad = v128.or(bad, v128.not(v128.or(fast, i32x4.eq(vp, i32x4.splat(0)))));
        acc = f32x4.add(acc, v128.and(f32x4.mul(vp, logf4(vp)), fast));
        sp = f32x4.add(sp, vp);
      }
      if (i32x4.bitmask(bad)) {
        entropyRange<f32>(p, start, end);
      } else {
        addTerms(-hsumF32(acc));
        accP += hsumF32(sp);
      }
    }
  }
  entropyRange<f32>(p, i, n);
}

function entropyRowF64(p: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vecEnd = n & ~1;
    while (i < vecEnd) {
      const start = i;
      const end = min(i + BLOCK, vecEnd);
      let acc = f64x2.splat(0), sp = f64x2.splat(0), bad = i64x2.splat(0);
      for (; i < end; i += 2) {
        const vp = v128.load(p + (<usize>i << 3));
        const fast = fastF64(vp);
        // Float compare: -0 counts as zero here, and its set sign bit sends the block to the
        // scalar code, which treats it as the zero it is.
        bad = v128.or(bad, v128.or(v128.not(v128.or(fast, f64x2.eq(vp, f64x2.splat(0)))), vp));
        acc = f64x2.add(acc, v128.and(f64x2.mul(vp, log2d(vp)), fast));
        sp = f64x2.add(sp, vp);
      }
      if (i64x2.bitmask(bad)) {
        entropyRange<f64>(p, start, end);
      } else {
        addTerms(-hsumF64(acc));
        accP += hsumF64(sp);
      }
    }
  }
  entropyRange<f64>(p, i, n);
}

// Jensen-Shannon over one row of the scaled rows sa p, sb q: fast and exact blocks as in klRowF64.
function jsRowF32(p: usize, q: usize, n: i32, sa: f64, sb: f64): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vecEnd = n & ~3;
    // Scaled rows (normalize) need the exact products of jsTermScaled near p = q: the scalar code.
    const scaled = sa != 1 || sb != 1;
    let next = NEXT_FAST;
    while (i < vecEnd) {
      let r = next == NEXT_NEAR ? TRY_NEAR : TRY_MIXED;
      if (next == NEXT_FAST) {
        r = jsRunFastF32(p, q, i, vecEnd, sa, sb);
        i = runAt;
        if (i >= vecEnd) break;
      }
      const end = min(i + BLOCK, vecEnd);
      if (scaled && r != NEXT_FAST && r != BLOCK_BAD) r = BLOCK_BAD;
      if (r == TRY_NEAR) r = jsBlockNearF32(p, q, i, end);
      if (r == TRY_MIXED) r = jsBlockMixedF32(p, q, i, end);
      if (r == BLOCK_BAD) jsRange<f32>(p, q, i, end, sa, sb);
      else next = r;
      i = end;
    }
  }
  jsRange<f32>(p, q, i, n, sa, sb);
}

// As klRunFastF32.
function jsRunFastF32(p: usize, q: usize, start: i32, vecEnd: i32, sa: f64, sb: f64): i32 {
  let i = start;
  let r = NEXT_FAST;
  while (i < vecEnd) {
    const end = min(i + BLOCK, vecEnd);
    r = jsBlockF32(false, p, q, i, end, sa, sb);
    if (r != NEXT_FAST) break;
    i = end;
  }
  runAt = i;
  return r;
}

// Unscaled rows only (jsRowF32 sends scaled ones to the scalar code).
function jsBlockMixedF32(p: usize, q: usize, start: i32, end: i32): i32 {
  return jsBlockF32(true, p, q, start, end, 1, 1);
}

// One block: the two logarithms, and in the exact form jsNearf4 where |p - q| <= (p + q)/2
// (exact is a constant at both call sites).
// @ts-ignore: decorator
@inline function jsBlockF32(exact: bool, p: usize, q: usize, start: i32, end: i32, sa: f64, sb: f64): i32 {
  const va = f32x4.splat(<f32>sa), vb = f32x4.splat(<f32>sb);
  let acc = f32x4.splat(0), sp = f32x4.splat(0), sq = f32x4.splat(0), bad = i32x4.splat(0);
  let far = i32x4.splat(0);
  for (let i = start; i < end; i += 4) {
    const vp = f32x4.mul(v128.load(p + (<usize>i << 2)), va);
    const vq = f32x4.mul(v128.load(q + (<usize>i << 2)), vb);
    const half = v128.load32_splat(F32_HALF);
    const m = f32x4.mul(f32x4.add(vp, vq), half);
    // One reciprocal of m serves both ratios and their accurate forms near 1.
    const inv = f32x4.div(v128.load32_splat(F32_ONE), m);
    const ra = f32x4.mul(vp, inv), rb = f32x4.mul(vq, inv);
    const fa = fastF32(ra), fb = fastF32(rb);
    const za = i32x4.eq(vp, i32x4.splat(0)), zb = i32x4.eq(vq, i32x4.splat(0));
    const ok = v128.and(v128.or(fa, za), v128.or(fb, zb));
    bad = v128.or(bad, v128.or(v128.not(ok), v128.or(vp, vq)));
    const ta = v128.and(f32x4.mul(vp, logRatiof4(ra, f32x4.mul(f32x4.sub(vp, m), inv))), fa);
    const tb = v128.and(f32x4.mul(vq, logRatiof4(rb, f32x4.mul(f32x4.sub(vq, m), inv))), fb);
    if (exact) {
      // d = (p - q)/(p + q) = (p - q) (1/m) / 2.
      const dpq = f32x4.sub(vp, vq);
      const d = f32x4.mul(f32x4.mul(dpq, inv), half);
      const tn = f32x4.mul(f32x4.mul(f32x4.mul(dpq, d), jsNearf4(f32x4.mul(d, d))), half);
      const near = f32x4.le(f32x4.abs(d), half);
      acc = f32x4.add(acc, v128.bitselect(tn, f32x4.add(ta, tb), near));
      far = v128.or(far, v128.not(near));
    } else {
      acc = f32x4.add(acc, f32x4.add(ta, tb));
    }
    sp = f32x4.add(sp, vp);
    sq = f32x4.add(sq, vq);
  }
  if (i32x4.bitmask(bad)) return BLOCK_BAD;
  const t = hsumF32(acc), bp = hsumF32(sp), bq = hsumF32(sq);
  if (!exact && !(t >= JS_FAST * (bp + bq))) return TRY_NEAR;
  addTerms(t);
  accP += bp;
  accQ += bq;
  if (!exact || t >= 2 * JS_FAST * (bp + bq)) return NEXT_FAST;
  return i32x4.bitmask(far) ? NEXT_MIXED : NEXT_NEAR;
}

// The near form alone (no logarithm), for unscaled rows: every lane needs |d| <= 1/2, or p = +0 or
// q = +0 (the term is (p + q) ln 2), and p, q >= 0, else the mixed form redoes the block.
function jsBlockNearF32(p: usize, q: usize, start: i32, end: i32): i32 {
  let acc = f32x4.splat(0), sp = f32x4.splat(0), sq = f32x4.splat(0), other = i32x4.splat(0);
  for (let i = start; i < end; i += 4) {
    const vp = v128.load(p + (<usize>i << 2));
    const vq = v128.load(q + (<usize>i << 2));
    const half = v128.load32_splat(F32_HALF);
    const dpq = f32x4.sub(vp, vq), s = f32x4.add(vp, vq);
    const d = f32x4.div(dpq, s);
    const zero = v128.or(i32x4.eq(vp, i32x4.splat(0)), i32x4.eq(vq, i32x4.splat(0)));
    const near = f32x4.le(f32x4.abs(d), half);
    other = v128.or(other, v128.or(v128.not(v128.or(near, zero)), v128.or(vp, vq)));
    const tn = f32x4.mul(f32x4.mul(f32x4.mul(dpq, d), jsNearf4(f32x4.mul(d, d))), half);
    acc = f32x4.add(acc, v128.bitselect(f32x4.mul(s, v128.load32_splat(F32_LN2)), tn, zero));
    sp = f32x4.add(sp, vp);
    sq = f32x4.add(sq, vq);
  }
  if (i32x4.bitmask(other)) return TRY_MIXED;
  const t = hsumF32(acc), bp = hsumF32(sp), bq = hsumF32(sq);
  if (!(bp + bq <= F32_MAX_F64)) return TRY_MIXED;
  addTerms(t);
  accP += bp;
  accQ += bq;
  return t >= 2 * JS_FAST * (bp + bq) ? NEXT_FAST : NEXT_NEAR;
}

function jsRowF64(p: usize, q: usize, n: i32, sa: f64, sb: f64): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vecEnd = n & ~1;
    // Scaled rows (normalize) need the exact products of jsTermScaled near p = q: the scalar code.
    const scaled = sa != 1 || sb != 1;
    let next = NEXT_FAST;
    while (i < vecEnd) {
      let r = next == NEXT_NEAR ? TRY_NEAR : TRY_MIXED;
      if (next == NEXT_FAST) {
        r = jsRunFastF64(p, q, i, vecEnd, sa, sb);
        i = runAt;
        if (i >= vecEnd) break;
      }
      const end = min(i + BLOCK, vecEnd);
      if (scaled && r != NEXT_FAST && r != BLOCK_BAD) r = BLOCK_BAD;
      if (r == TRY_NEAR) r = jsBlockNearF64(p, q, i, end);
      if (r == TRY_MIXED) r = jsBlockMixedF64(p, q, i, end);
      if (r == BLOCK_BAD) jsRange<f64>(p, q, i, end, sa, sb);
      else next = r;
      i = end;
    }
  }
  jsRange<f64>(p, q, i, n, sa, sb);
}

// As klRunFastF64.
function jsRunFastF64(p: usize, q: usize, start: i32, vecEnd: i32, sa: f64, sb: f64): i32 {
  let i = start;
  let r = NEXT_FAST;
  while (i < vecEnd) {
    const end = min(i + BLOCK, vecEnd);
    r = jsBlockF64(false, p, q, i, end, sa, sb);
    if (r != NEXT_FAST) break;
    i = end;
  }
  runAt = i;
  return r;
}

// Unscaled rows only (jsRowF64 sends scaled ones to the scalar code).
function jsBlockMixedF64(p: usize, q: usize, start: i32, end: i32): i32 {
  return jsBlockF64(true, p, q, start, end, 1, 1);
}

// As jsBlockF32, with d = (p - q)/(p + q) divided out.
// @ts-ignore: decorator
@inline function jsBlockF64(exact: bool, p: usize, q: usize, start: i32, end: i32, sa: f64, sb: f64): i32 {
  const va = f64x2.splat(sa), vb = f64x2.splat(sb), half = v128.load64_splat(F64_HALF);
  let acc = f64x2.splat(0), sp = f64x2.splat(0), sq = f64x2.splat(0), bad = i64x2.splat(0);
  let far = i64x2.splat(0);
  for (let i = start; i < end; i += 2) {
    const vp = f64x2.mul(v128.load(p + (<usize>i << 3)), va);
    const vq = f64x2.mul(v128.load(q + (<usize>i << 3)), vb);
    const m = f64x2.mul(f64x2.add(vp, vq), half);
    const ra = f64x2.div(vp, m), rb = f64x2.div(vq, m);
    const fa = fastF64(ra), fb = fastF64(rb);
    const za = f64x2.eq(vp, f64x2.splat(0)), zb = f64x2.eq(vq, f64x2.splat(0));
    const ok = v128.and(v128.or(fa, za), v128.or(fb, zb));
    bad = v128.or(bad, v128.or(v128.not(ok), v128.or(vp, vq)));
    const ta = v128.and(f64x2.mul(vp, log2d(ra)), fa);
    const tb = v128.and(f64x2.mul(vq, log2d(rb)), fb);
    if (exact) {
      const dpq = f64x2.sub(vp, vq);
      const d = f64x2.div(dpq, f64x2.add(vp, vq));
      const tn = f64x2.mul(f64x2.mul(f64x2.mul(dpq, d), jsNear2d(f64x2.mul(d, d))), half);
      const near = f64x2.le(f64x2.abs(d), half);
      acc = f64x2.add(acc, v128.bitselect(tn, f64x2.add(ta, tb), near));
      far = v128.or(far, v128.not(near));
    } else {
      acc = f64x2.add(acc, f64x2.add(ta, tb));
    }
    sp = f64x2.add(sp, vp);
    sq = f64x2.add(sq, vq);
  }
  if (i64x2.bitmask(bad)) return BLOCK_BAD;
  const t = hsumF64(acc), bp = hsumF64(sp), bq = hsumF64(sq);
  if (!exact && !(t >= JS_FAST * (bp + bq))) return TRY_NEAR;
  addTerms(t);
  accP += bp;
  accQ += bq;
  if (!exact || t >= 2 * JS_FAST * (bp + bq)) return NEXT_FAST;
  return i64x2.bitmask(far) ? NEXT_MIXED : NEXT_NEAR;
}

// As jsBlockNearF32.
function jsBlockNearF64(p: usize, q: usize, start: i32, end: i32): i32 {
  let acc = f64x2.splat(0), sp = f64x2.splat(0), sq = f64x2.splat(0), other = i64x2.splat(0);
  const half = v128.load64_splat(F64_HALF);
  for (let i = start; i < end; i += 2) {
    const vp = v128.load(p + (<usize>i << 3));
    const vq = v128.load(q + (<usize>i << 3));
    const dpq = f64x2.sub(vp, vq), s = f64x2.add(vp, vq);
    const d = f64x2.div(dpq, s);
    const zero = v128.or(f64x2.eq(vp, f64x2.splat(0)), f64x2.eq(vq, f64x2.splat(0)));
    const near = f64x2.le(f64x2.abs(d), half);
    other = v128.or(other, v128.or(v128.not(v128.or(near, zero)), v128.or(vp, vq)));
    const tn = f64x2.mul(f64x2.mul(f64x2.mul(dpq, d), jsNear2d(f64x2.mul(d, d))), half);
    acc = f64x2.add(acc, v128.bitselect(f64x2.mul(s, v128.load64_splat(F64_LN2)), tn, zero));
    sp = f64x2.add(sp, vp);
    sq = f64x2.add(sq, vq);
  }
  if (i64x2.bitmask(other)) return TRY_MIXED;
  const t = hsumF64(acc), bp = hsumF64(sp), bq = hsumF64(sq);
  if (!(bp + bq <= f64.MAX_VALUE)) return TRY_MIXED;
  addTerms(t);
  accP += bp;
  accQ += bq;
  return t >= 2 * JS_FAST * (bp + bq) ? NEXT_FAST : NEXT_NEAR;
}

// ---------------------------------------------------------------------------------------------
// Log-space inputs (PyTorch's KLDivLoss convention: an input holds natural logs). Computed in f64
// from the logs directly, so a tiny probability whose exp would underflow keeps its exact term.
// mode bit 1: p holds ln p; bit 2: q holds ln q.

export const LOG_P: i32 = 1;
export const LOG_Q: i32 = 2;

// ln 2, to split log((a + b) / 2).
const LN2: f64 = 0.6931471805599453;
// ln 3 = 2 atanh(1/2): |ln(x/y)| <= ln 3 exactly where |x - y| <= (x + y)/2.
const LN3: f64 = 1.0986122886681098;

// One element of log-space KL into the acc* globals, as klElement: x = e^lp and y = e^lq (either may
// have been given linear, then ln of it is rounded). With both given as logs, D = lp - lq is the
// accurate ratio: x - y = y (e^D - 1) and x D - (x - y) = y (D (e^D - 1) - (e^D - 1 - D)), two
// terms >= 0 whose difference loses at most 1.3 bits for |D| <= 1; beyond, x D - (x - y) loses
// under 2.3 bits, and x D stays finite where e^lq underflows. With one linear operand, the linear
// forms on x and y are as accurate as the rounded log.
// @ts-ignore: decorator
@inline function klLogElement(x: f64, y: f64, lp: f64, lq: f64, bothLog: bool): void {
  if (!(x < Infinity && y < Infinity) || isNaN(lp) || isNaN(lq)) {
    accSpecial += relEntr(x, y);
    accSpecialGen += klDivSpecial(x, y);
    return;
  }
  if (x == 0) {
    accTerms += y;
    addDiff(-y);
    return;
  }
  const dl = lp - lq;
  if (Math.abs(dl) <= 1 && (bothLog || y > 0)) {
    if (bothLog) {
      const e = Math.expm1(dl);
      const d = y * e;
      accTerms += y * (dl * e - expm1mx(dl));
      addDiff(d);
    } else {
      klElement(x, y);
    }
    return;
  }
  const d = x - y;
  accTerms += x * dl - d;
  addDiff(d);
}

// ln(e^a + e^b), exact for a, b = -inf.
// @ts-ignore: decorator
@inline function logAddExp(a: f64, b: f64): f64 {
  const hi = max(a, b);
  if (hi == -Infinity) return -Infinity;
  return hi + Math.log1p(Math.exp(-Math.abs(a - b)));
}

// In blocks of BLOCK, as pairRange.
function logSpaceRange<T>(
  fn: i32, mode: i32, p: usize, q: usize, from: i32, to: i32, lsa: f64, lsb: f64,
): void {
  for (let b = from; b < to; b += BLOCK) {
    const keep = accTerms;
    accTerms = 0;
    logSpaceBlock<T>(fn, mode, p, q, b, min(b + BLOCK, to), lsa, lsb);
    const t = accTerms;
    accTerms = keep;
    addTerms(t);
  }
}

// @ts-ignore: decorator
@inline function logSpaceBlock<T>(
  fn: i32, mode: i32, p: usize, q: usize, from: i32, to: i32, lsa: f64, lsb: f64,
): void {
  let t: f64 = 0, sp: f64 = 0, sq: f64 = 0, flags = 0;
  const logP = (mode & LOG_P) != 0, logQ = (mode & LOG_Q) != 0;
  for (let i = from; i < to; i++) {
    const a = loadAs<T>(p, i);
    // Linear value and natural log of each operand.
    const pv = logP ? Math.exp(a) : a;
    const lp = logP ? a : Math.log(a);
    if (logP ? invalidLog(a) : invalid(a)) flags |= BAD_P;
    sp += pv;
    if (fn == FN_ENTROPY) {
      if (pv != 0) t -= pv * lp;
      continue;
    }
    const b = loadAs<T>(q, i);
    const qv = logQ ? Math.exp(b) : b;
    const lq = logQ ? b : Math.log(b);
    if (logQ ? invalidLog(b) : invalid(b)) flags |= BAD_Q;
    sq += qv;
    if (fn == FN_KL) {
      klLogElement(pv, qv, lp, lq, logP && logQ);
    } else if (fn == FN_XENT) {
      if (pv != 0) t -= pv * lq;
    } else {
      // Jensen-Shannon of the scaled rows: ln of a*p and b*q, and of their mean.
      const la = lp + lsa, lb = lq + lsb;
      const pa = logP ? Math.exp(la) : pv * Math.exp(lsa);
      const qb = logQ ? Math.exp(lb) : qv * Math.exp(lsb);
      if (!(logP && logQ)) {
        // One operand was linear: its log is rounded, the exp of the other is as good.
        t += jsTerm(pa, qb);
        continue;
      }
      // D = ln(a p) - ln(b q), and d = (a p - b q)/(a p + b q) = tanh(D/2) = e/(e + 2), e = e^D - 1:
      // the form without cancellation where |d| <= 1/2, i.e. |D| <= ln 3.
      const dl = (lp - lq) + (lsa - lsb);
      if (Math.abs(dl) <= LN3) {
        const e = Math.expm1(dl);
        const d = e / (e + 2);
        // The term is m d^2 F(d^2) with m = (a p + b q)/2 = b q (e + 2)/2.
        t += qb * (e + 2) * 0.5 * d * d * jsNear(d * d);
        continue;
      }
      const lm = logAddExp(la, lb) - LN2;
      if (pa != 0) t += pa * (la - lm);
      if (qb != 0) t += qb * (lb - lm);
    }
  }
  accTerms += t;
  accP += sp;
  accQ += sq;
  accFlags |= flags;
}

// ---------------------------------------------------------------------------------------------
// Exported kernels. p, q: row-major rows x cols; st: rows stats records (added into).

export const FN_KL: i32 = 0;
export const FN_XENT: i32 = 1;
export const FN_ENTROPY: i32 = 2;
export const FN_JS: i32 = 3;
export const FN_JS_DISTANCE: i32 = 4;

// @ts-ignore: decorator
@inline function beginRow(): void {
  accTerms = 0;
  accTermsLo = 0;
  accP = 0;
  accQ = 0;
  accFlags = 0;
  accDiff = 0;
  accDiffLo = 0;
  accSpecial = 0;
  accSpecialGen = 0;
}

// @ts-ignore: decorator
@inline function endRow(st: usize): void {
  store<f64>(st, load<f64>(st, STATS_TERMS) + joined(accTerms, accTermsLo), STATS_TERMS);
  store<f64>(st, load<f64>(st, STATS_SUM_P) + accP, STATS_SUM_P);
  store<f64>(st, load<f64>(st, STATS_SUM_Q) + accQ, STATS_SUM_Q);
  store<f64>(st, <f64>(<i32>load<f64>(st, STATS_FLAGS) | accFlags), STATS_FLAGS);
  // The piece's compensated difference joins the record's with one more TwoSum.
  const d = accDiff, lo = isFinite(accDiff) ? accDiffLo : 0;
  accDiff = load<f64>(st, STATS_DIFF);
  accDiffLo = load<f64>(st, STATS_DIFF_LO) + lo;
  addDiff(d);
  store<f64>(st, accDiff, STATS_DIFF);
  store<f64>(st, accDiffLo, STATS_DIFF_LO);
  store<f64>(st, load<f64>(st, STATS_SPECIAL) + accSpecial, STATS_SPECIAL);
  store<f64>(st, load<f64>(st, STATS_SPECIAL_GEN) + accSpecialGen, STATS_SPECIAL_GEN);
}

// fn: FN_KL, FN_XENT, FN_ENTROPY, FN_JS (FN_JS_DISTANCE computes as FN_JS).
// scales: 0, or rows pairs (a, b) multiplying p and q (normalised Jensen-Shannon).
// mode: LOG_P | LOG_Q bits, 0 for linear inputs.
export function divergence_f32(
  fn: i32, mode: i32, p: usize, q: usize, rows: i32, cols: i32, scales: usize, st: usize,
): void {
  divergenceRows<f32>(fn, mode, p, q, rows, cols, scales, st);
}

export function divergence_f64(
  fn: i32, mode: i32, p: usize, q: usize, rows: i32, cols: i32, scales: usize, st: usize,
): void {
  divergenceRows<f64>(fn, mode, p, q, rows, cols, scales, st);
}

// The rows of divergence_f32 and divergence_f64: T picks each function's row kernel at compile time.
// @ts-ignore: decorator
@inline function divergenceRows<T>(
  fn: i32, mode: i32, p: usize, q: usize, rows: i32, cols: i32, scales: usize, st: usize,
): void {
  if (fn == FN_JS_DISTANCE) fn = FN_JS;
  const stride = <usize>cols << alignof<T>();
  const f32 = sizeof<T>() == 4;
  for (let r = 0; r < rows; r++) {
    beginRow();
    let sa: f64 = 1, sb: f64 = 1;
    if (scales) {
      sa = load<f64>(scales + (<usize>r << 4));
      sb = load<f64>(scales + (<usize>r << 4), 8);
    }
    if (mode) logSpaceRange<T>(fn, mode, p, q, 0, cols, Math.log(sa), Math.log(sb));
    else if (fn == FN_KL) {
      if (f32) klRowF32(p, q, cols);
      else klRowF64(p, q, cols);
    } else if (fn == FN_XENT) {
      if (f32) xentRowF32(p, q, cols);
      else xentRowF64(p, q, cols);
    } else if (fn == FN_ENTROPY) {
      if (f32) entropyRowF32(p, cols);
      else entropyRowF64(p, cols);
    } else if (f32) jsRowF32(p, q, cols, sa, sb);
    else jsRowF64(p, q, cols, sa, sb);
    endRow(st + <usize>r * STATS_SIZE);
    p += stride;
    q += stride;
  }
}

// Row sums and invalid-element flags only (the first pass of normalised Jensen-Shannon).
// q may be 0. mode as above: a log-space row sums exp of its entries.
export function rowsums_f32(mode: i32, p: usize, q: usize, rows: i32, cols: i32, st: usize): void {
  rowSums<f32>(mode, p, q, rows, cols, st);
}

export function rowsums_f64(mode: i32, p: usize, q: usize, rows: i32, cols: i32, st: usize): void {
  rowSums<f64>(mode, p, q, rows, cols, st);
}

// @ts-ignore: decorator
@inline function rowSums<T>(mode: i32, p: usize, q: usize, rows: i32, cols: i32, st: usize): void {
  const stride = <usize>cols << alignof<T>();
  for (let r = 0; r < rows; r++) {
    beginRow();
    if (mode) logSpaceRange<T>(FN_ENTROPY, mode & LOG_P, p, 0, 0, cols, 0, 0);
    else sumRange<T>(p, q, 0, cols);
    if (mode && q) {
      const keepP = accP, keepFlags = accFlags;
      accP = 0;
      accFlags = 0;
      logSpaceRange<T>(FN_ENTROPY, (mode & LOG_Q) >> 1, q, 0, 0, cols, 0, 0);
      accQ = accP;
      accP = keepP;
      accFlags = keepFlags | (accFlags << 1);
    }
    endRow(st + <usize>r * STATS_SIZE);
    p += stride;
    if (q) q += stride;
  }
}

// ---------------------------------------------------------------------------------------------
// Finishing: stats -> one value per row, in natural log units times `scale` (1 / ln base).

export const OPT_GENERALIZED: i32 = 1;
export const OPT_NORMALIZE: i32 = 2;

// Writes rows values to out (f64) and returns their sum. tol: the row-sum tolerance, which tells
// distributions (clamped to their exact bounds) from other measures (left as SciPy computes them).
export function finish(fn: i32, opts: i32, st: usize, rows: i32, scale: f64, tol: f64, out: usize): f64 {
  let total: f64 = 0;
  const normalize = (opts & OPT_NORMALIZE) != 0;
  const generalized = (opts & OPT_GENERALIZED) != 0;
  for (let r = 0; r < rows; r++) {
    const s = st + <usize>r * STATS_SIZE;
    const t = load<f64>(s, STATS_TERMS);
    const sp = load<f64>(s, STATS_SUM_P);
    const sq = load<f64>(s, STATS_SUM_Q);
    const dist = normalize || (Math.abs(sp - 1) <= tol && (fn == FN_ENTROPY || Math.abs(sq - 1) <= tol));
    let v: f64;
    if (fn == FN_KL) {
      // t: the kl_div sum of the ordinary elements, a: their sum of p - q, the rel_entr sum is
      // t + a (+ the special elements' sx); the kl_div sum is t (+ their sg).
      const a = joined(load<f64>(s, STATS_DIFF), load<f64>(s, STATS_DIFF_LO));
      const sx = load<f64>(s, STATS_SPECIAL), sg = load<f64>(s, STATS_SPECIAL_GEN);
      if (normalize) {
        // sum (p/sp) ln((p/sp)/(q/sq)) = (t + a)/sp + ln(sq/sp), and without special elements
        // a = sp - sq exactly: t/sp + ln(1 + w) - w with w = -a/sp, no cancellation left in w.
        v = sg == 0 ? t / sp + log1pmx(-a / sp) : (t + a + sx) / sp + Math.log(sq / sp);
      } else if (generalized) {
        v = t + sg;
      } else {
        v = t + a + sx;
      }
      // KL of distributions is >= 0 (Gibbs), and so is every kl_div term: rounding alone can
      // dip below, so clamp. Other measures keep their (possibly negative) rel_entr sum.
      if (dist || generalized) v = max(v, 0);
      v *= scale;
    } else if (fn == FN_XENT) {
      v = (normalize ? t / sp + Math.log(sq) : t) * scale;
    } else if (fn == FN_ENTROPY) {
      v = (normalize ? t / sp + Math.log(sp) : t) * scale;
    } else {
      // 0 <= JS <= ln 2 (sp + sq) / 2 for any non-negative measures, ln 2 for distributions;
      // rounding can step outside by an ulp, which would make the distance NaN: clamp.
      v = min(max(t * 0.5, 0), dist ? LN2 : LN2 * 0.5 * (sp + sq)) * scale;
      if (fn == FN_JS_DISTANCE) v = Math.sqrt(v);
    }
    // NaN in, NaN out (SciPy), also where the NaN sat in a lane whose term was an exact 0.
    if (isNaN(sp) || isNaN(sq)) v = NaN;
    store<f64>(out + (<usize>r << 3), v);
    total += v;
  }
  return total;
}

// Per-row scale pairs (1/sum p, 1/sum q) for normalised Jensen-Shannon.
export function normalizing_scales(st: usize, rows: i32, scales: usize): void {
  for (let r = 0; r < rows; r++) {
    const s = st + <usize>r * STATS_SIZE;
    store<f64>(scales + (<usize>r << 4), 1 / load<f64>(s, STATS_SUM_P));
    store<f64>(scales + (<usize>r << 4), 1 / load<f64>(s, STATS_SUM_Q), 8);
  }
}

// Sum checks of `check_rows`.
export const SUMS_UNCHECKED: i32 = 0;
export const SUMS_ONE: i32 = 1; // |sum - 1| <= tol
export const SUMS_POSITIVE: i32 = 2; // 0 < sum < inf (normalisable)

// The first row with an invalid element or a sum failing the check, or -1.
// withQ: the row has a q whose sum is checked too.
export function check_rows(st: usize, rows: i32, withQ: bool, sums: i32, tol: f64): i32 {
  for (let r = 0; r < rows; r++) {
    const s = st + <usize>r * STATS_SIZE;
    if (load<f64>(s, STATS_FLAGS) != 0) return r;
    const sp = load<f64>(s, STATS_SUM_P);
    const sq = withQ ? load<f64>(s, STATS_SUM_Q) : 1;
    // A NaN or infinite element that the kernel did not flag still shows in its row's sum.
    if (!(isFinite(sp) && isFinite(sq))) return r;
    if (sums == SUMS_UNCHECKED) continue;
    if (sums == SUMS_ONE) {
      if (!(Math.abs(sp - 1) <= tol && Math.abs(sq - 1) <= tol)) return r;
    } else if (!(sp > 0 && sp < Infinity && sq > 0 && sq < Infinity)) {
      return r;
    }
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Elementwise rel_entr(p, q) -> out, same type as the inputs; SciPy's values for every input.

export function rel_entr_f32(p: usize, q: usize, out: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vecEnd = n & ~3;
    while (i < vecEnd) {
      const start = i;
      const end = min(i + BLOCK, vecEnd);
      let bad = i32x4.splat(0);
      for (; i < end; i += 4) {
        const vp = v128.load(p + (<usize>i << 2));
        const vq = v128.load(q + (<usize>i << 2));
        const inv = f32x4.div(v128.load32_splat(F32_ONE), vq);
        const r = f32x4.mul(vp, inv);
        const fast = fastF32(r);
        const zero = v128.and(i32x4.eq(vp, i32x4.splat(0)), finiteNonNegF32(vq));
        bad = v128.or(bad, v128.or(v128.not(v128.or(fast, zero)), vq));
        const lr = logRatiof4(r, f32x4.mul(f32x4.sub(vp, vq), inv));
        v128.store(out + (<usize>i << 2), v128.and(f32x4.mul(vp, lr), fast));
      }
      if (i32x4.bitmask(bad)) relEntrRange<f32>(p, q, out, start, end);
    }
  }
  relEntrRange<f32>(p, q, out, i, n);
}

export function rel_entr_f64(p: usize, q: usize, out: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vecEnd = n & ~1;
    while (i < vecEnd) {
      const start = i;
      const end = min(i + BLOCK, vecEnd);
      let bad = i64x2.splat(0);
      for (; i < end; i += 2) {
        const vp = v128.load(p + (<usize>i << 3));
        const vq = v128.load(q + (<usize>i << 3));
        const r = f64x2.div(vp, vq);
        const fast = fastF64(r);
        const zero = v128.and(
          f64x2.eq(vp, f64x2.splat(0)),
          f64x2.le(vq, v128.load64_splat(F64_MAX)),
        );
        bad = v128.or(bad, v128.or(v128.not(v128.or(fast, zero)), v128.or(vp, vq)));
        // xlogRatio2d's near lanes need a finite p + q.
        bad = v128.or(bad, f64x2.gt(f64x2.add(vp, vq), v128.load64_splat(F64_MAX)));
        v128.store(out + (<usize>i << 3), v128.and(xlogRatio2d(vp, vq, r), fast));
      }
      if (i64x2.bitmask(bad)) relEntrRange<f64>(p, q, out, start, end);
    }
  }
  relEntrRange<f64>(p, q, out, i, n);
}

function relEntrRange<T>(p: usize, q: usize, out: usize, from: i32, to: i32): void {
  for (let i = from; i < to; i++) {
    const v = relEntr(loadAs<T>(p, i), loadAs<T>(q, i));
    store<T>(out + (<usize>i << alignof<T>()), <T>v);
  }
}
