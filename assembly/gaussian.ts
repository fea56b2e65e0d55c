// KL divergence between diagonal Gaussians and its gradient, fused: gaussianKL through
//   gaussian_kl_f32, gaussian_kl_f64 (row_totals of rows.ts for reduction 'none')
// Per dimension
//   KL(N(mp, e^lvp) || N(mq, e^lvq)) = 1/2 (lvq - lvp + (e^lvp + (mp - mq)^2) / e^lvq - 1)
// for means mp, mq and log-variances lvp, lvq. Without q, q is the standard normal (mq = lvq = 0):
// the closed-form term of a VAE's ELBO.
//
// With d = lvp - lvq and m = mp - mq the term is 1/2 (phi(d) + m^2 e^-lvq), phi(d) = e^d - 1 - d:
// two parts >= 0, so nothing cancels, and the term is exactly 0 where p = q (d = m = 0). phi is the
// polynomial of math/expm1mx.ts for |d| <= 1/2, where e^d - 1 - d as it reads would lose every
// digit (at |d| = 1e-8), and exp(d) - 1 - d beyond. The gradient of the term:
//   d/dmp = m e^-lvq              d/dlvp = expm1(d) / 2
//   d/dmq = -m e^-lvq             d/dlvq = -(expm1(d) + m^2 e^-lvq) / 2
// with expm1(d) = d + phi(d) for |d| <= 1/2, exp(d) - 1 beyond.
//
// A kernel runs over a flat range of elements (see rows.ts): the sum of the terms goes to the stats
// record, each term (f64) to `terms` when that is not 0 (reduction 'none'), and the gradient times
// `gscale` (the reduction's 1/rows, or 1) to gmp, glvp (and gmq, glvq with q) when gmp is not 0.
// Kernels trust their arguments: src/gaussian.ts validates shapes, the flags report bad elements.
//
// The SIMD loops compute blocks of BLOCK elements on the fast domain (finite means, |d| and |lvq|
// at most 87 in float32 and 708 in float64, where both exponentials are normal numbers; float32
// terms that do not overflow) and OR-accumulate a mask of lanes outside it. A block with any such
// lane is redone by the exact scalar code (float64, float32 inputs promoted), which also records the
// flags. The scalar build runs only the scalar code.

import { expf4 } from "./math/expf";
import { exp2d } from "./math/exp";
import { expm1mx, expm1mxPolyf4, expm1mxPoly2d } from "./math/expm1mx";
import { BLOCK, loadAs, storeAs, storePromotedF32 } from "./common";
import { LOSS_FLAGS, LOSS_TOTAL } from "./rows";
import { hsumF32, hsumF64 } from "./math/lanes";

// Flags: a NaN or infinite element of p's means, p's log-variances, q's means, q's log-variances.
const BAD_P_MEAN: i32 = 1;
const BAD_P_LOGVAR: i32 = 2;
const BAD_Q_MEAN: i32 = 4;
const BAD_Q_LOGVAR: i32 = 8;

// Results of the scalar range function (a wasm function returns one value; these are its others).
let accLoss: f64 = 0;
let accFlags: i32 = 0;

// ---------------------------------------------------------------------------------------------
// Exact scalar code, in f64: elements [from, to), into accLoss and accFlags. mq = 0: no q.

function gaussRange<T>(
  mp: usize, lvp: usize, mq: usize, lvq: usize, gmp: usize, glvp: usize, gmq: usize, glvq: usize,
  terms: usize, from: i32, to: i32, gscale: f64,
): void {
  const hasQ = mq != 0;
  const hgs = 0.5 * gscale;
  let total: f64 = 0, flags = 0;
  for (let i = from; i < to; i++) {
    const a = loadAs<T>(mp, i), la = loadAs<T>(lvp, i);
    const b: f64 = hasQ ? loadAs<T>(mq, i) : 0;
    const lb: f64 = hasQ ? loadAs<T>(lvq, i) : 0;
    const d = la - lb, m = a - b;
    const phi = expm1mx(d);
    const em1 = Math.abs(d) <= 0.5 ? d + phi : Math.expm1(d);
    // 0 where the means agree, also where e^-lvq overflows (a variance of q below 1e-308).
    const gm = m == 0 || !hasQ ? m : m * Math.exp(-lb);
    const mt = gm * m;
    const l = 0.5 * (phi + mt);
    total += l;
    if (terms) store<f64>(terms + (<usize>i << 3), l);
    if (gmp) {
      storeAs<T>(gmp, i, gm * gscale);
      storeAs<T>(glvp, i, em1 * hgs);
      if (hasQ) {
        storeAs<T>(gmq, i, -(gm * gscale));
        storeAs<T>(glvq, i, -((em1 + mt) * hgs));
      }
    }
    if (!(Math.abs(a) < Infinity)) flags |= BAD_P_MEAN;
    if (!(Math.abs(la) < Infinity)) flags |= BAD_P_LOGVAR;
    if (hasQ) {
      if (!(Math.abs(b) < Infinity)) flags |= BAD_Q_MEAN;
      if (!(Math.abs(lb) < Infinity)) flags |= BAD_Q_LOGVAR;
    }
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
@lazy const F32_HALF = memory.data<f32>([0.5]);
// @ts-ignore: decorator
@lazy const F32_LIMIT = memory.data<f32>([87.0]); // e^+-87 are normal float32 numbers
// @ts-ignore: decorator
@lazy const F32_MAX = memory.data<u32>([0x7f7fffff]); // bits of 3.4028234664e38
// @ts-ignore: decorator
@lazy const F64_ONE = memory.data<f64>([1.0]);
// @ts-ignore: decorator
@lazy const F64_HALF = memory.data<f64>([0.5]);
// @ts-ignore: decorator
@lazy const F64_LIMIT = memory.data<f64>([708.0]); // e^+-708 are normal float64 numbers
// @ts-ignore: decorator
@lazy const F64_MAX = memory.data<f64>([1.7976931348623157e308]);

// ---------------------------------------------------------------------------------------------
// Range functions: SIMD blocks, then the scalar tail. hasQ is a constant at each call site, so
// each instance compiles to its own loop.

// @ts-ignore: decorator
@inline function gaussF32(
  hasQ: bool, mp: usize, lvp: usize, mq: usize, lvq: usize, gmp: usize, glvp: usize, gmq: usize,
  glvq: usize, terms: usize, n: i32, gscale: f64,
): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vecEnd = n & ~3;
    const gs = f32x4.splat(<f32>gscale);
    const hgs = f32x4.splat(<f32>(0.5 * gscale));
    while (i < vecEnd) {
      const start = i;
      const end = min(i + BLOCK, vecEnd);
      let acc = f32x4.splat(0), bad = i32x4.splat(0);
      for (; i < end; i += 4) {
        const o = <usize>i << 2;
        const a = v128.load(mp + o);
        const la = v128.load(lvp + o);
        const one = v128.load32_splat(F32_ONE);
        const half = v128.load32_splat(F32_HALF);
        const limit = v128.load32_splat(F32_LIMIT);
        const max = v128.load32_splat(F32_MAX);
        let d = la, m = a, gm = a;
        let ok = f32x4.le(f32x4.abs(a), max);
        if (hasQ) {
          const b = v128.load(mq + o);
          const lb = v128.load(lvq + o);
          d = f32x4.sub(la, lb);
          m = f32x4.sub(a, b);
          gm = f32x4.mul(m, expf4(f32x4.neg(lb)));
          ok = v128.and(ok, v128.and(f32x4.le(f32x4.abs(b), max), f32x4.le(f32x4.abs(lb), limit)));
        }
        ok = v128.and(ok, f32x4.le(f32x4.abs(d), limit));
        const small = f32x4.le(f32x4.abs(d), half);
        const poly = expm1mxPolyf4(d);
        const em1 = v128.bitselect(f32x4.add(d, poly), f32x4.sub(expf4(d), one), small);
        const phi = v128.bitselect(poly, f32x4.sub(em1, d), small);
        const mt = f32x4.mul(gm, m);
        const l = f32x4.mul(half, f32x4.add(phi, mt));
        // A term beyond float32 (a huge mean difference or a tiny variance of q) is still a
        // float64 number: the scalar code keeps it.
        ok = v128.and(ok, f32x4.le(l, max));
        bad = v128.or(bad, v128.not(ok));
        acc = f32x4.add(acc, l);
        if (terms) storePromotedF32(terms + (<usize>i << 3), l);
        if (gmp) {
          const gmean = f32x4.mul(gm, gs);
          v128.store(gmp + o, gmean);
          v128.store(glvp + o, f32x4.mul(em1, hgs));
          if (hasQ) {
            v128.store(gmq + o, f32x4.neg(gmean));
            v128.store(glvq + o, f32x4.neg(f32x4.mul(f32x4.add(em1, mt), hgs)));
          }
        }
      }
      if (i32x4.bitmask(bad)) {
        gaussRange<f32>(mp, lvp, mq, lvq, gmp, glvp, gmq, glvq, terms, start, end, gscale);
      } else {
        accLoss += hsumF32(acc);
      }
    }
  }
  gaussRange<f32>(mp, lvp, mq, lvq, gmp, glvp, gmq, glvq, terms, i, n, gscale);
}

// @ts-ignore: decorator
@inline function gaussF64(
  hasQ: bool, mp: usize, lvp: usize, mq: usize, lvq: usize, gmp: usize, glvp: usize, gmq: usize,
  glvq: usize, terms: usize, n: i32, gscale: f64,
): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vecEnd = n & ~1;
    const gs = f64x2.splat(gscale);
    const hgs = f64x2.splat(0.5 * gscale);
    while (i < vecEnd) {
      const start = i;
      const end = min(i + BLOCK, vecEnd);
      let acc = f64x2.splat(0), bad = i64x2.splat(0);
      for (; i < end; i += 2) {
        const o = <usize>i << 3;
        const a = v128.load(mp + o);
        const la = v128.load(lvp + o);
        const one = v128.load64_splat(F64_ONE);
        const half = v128.load64_splat(F64_HALF);
        const limit = v128.load64_splat(F64_LIMIT);
        const max = v128.load64_splat(F64_MAX);
        let d = la, m = a, gm = a;
        let ok = f64x2.le(f64x2.abs(a), max);
        if (hasQ) {
          const b = v128.load(mq + o);
          const lb = v128.load(lvq + o);
          d = f64x2.sub(la, lb);
          m = f64x2.sub(a, b);
          gm = f64x2.mul(m, exp2d(f64x2.neg(lb)));
          ok = v128.and(ok, v128.and(f64x2.le(f64x2.abs(b), max), f64x2.le(f64x2.abs(lb), limit)));
        }
        ok = v128.and(ok, f64x2.le(f64x2.abs(d), limit));
        const small = f64x2.le(f64x2.abs(d), half);
        const poly = expm1mxPoly2d(d);
        const em1 = v128.bitselect(f64x2.add(d, poly), f64x2.sub(exp2d(d), one), small);
        const phi = v128.bitselect(poly, f64x2.sub(em1, d), small);
        const mt = f64x2.mul(gm, m);
        const l = f64x2.mul(half, f64x2.add(phi, mt));
        bad = v128.or(bad, v128.not(ok));
        acc = f64x2.add(acc, l);
        if (terms) v128.store(terms + o, l);
        if (gmp) {
          const gmean = f64x2.mul(gm, gs);
          v128.store(gmp + o, gmean);
          v128.store(glvp + o, f64x2.mul(em1, hgs));
          if (hasQ) {
            v128.store(gmq + o, f64x2.neg(gmean));
            v128.store(glvq + o, f64x2.neg(f64x2.mul(f64x2.add(em1, mt), hgs)));
          }
        }
      }
      if (i64x2.bitmask(bad)) {
        gaussRange<f64>(mp, lvp, mq, lvq, gmp, glvp, gmq, glvq, terms, start, end, gscale);
      } else {
        accLoss += hsumF64(acc);
      }
    }
  }
  gaussRange<f64>(mp, lvp, mq, lvq, gmp, glvp, gmq, glvq, terms, i, n, gscale);
}

// ---------------------------------------------------------------------------------------------
// Exported kernels: n dimensions of p (mp, lvp) and q (mq, lvq; both 0 for the standard normal);
// gradient into gmp, glvp (and gmq, glvq with q) when gmp is not 0, per-element terms into terms
// when that is not 0; the sum and the flags into the stats record st.

export function gaussian_kl_f32(
  mp: usize, lvp: usize, mq: usize, lvq: usize, gmp: usize, glvp: usize, gmq: usize, glvq: usize,
  terms: usize, n: i32, gscale: f64, st: usize,
): void {
  accLoss = 0;
  accFlags = 0;
  if (mq) gaussF32(true, mp, lvp, mq, lvq, gmp, glvp, gmq, glvq, terms, n, gscale);
  else gaussF32(false, mp, lvp, 0, 0, gmp, glvp, 0, 0, terms, n, gscale);
  store<f64>(st, accLoss, LOSS_TOTAL);
  store<f64>(st, <f64>accFlags, LOSS_FLAGS);
}

export function gaussian_kl_f64(
  mp: usize, lvp: usize, mq: usize, lvq: usize, gmp: usize, glvp: usize, gmq: usize, glvq: usize,
  terms: usize, n: i32, gscale: f64, st: usize,
): void {
  accLoss = 0;
  accFlags = 0;
  if (mq) gaussF64(true, mp, lvp, mq, lvq, gmp, glvp, gmq, glvq, terms, n, gscale);
  else gaussF64(false, mp, lvp, 0, 0, gmp, glvp, 0, 0, terms, n, gscale);
  store<f64>(st, accLoss, LOSS_TOTAL);
  store<f64>(st, <f64>accFlags, LOSS_FLAGS);
}
