// The softmax family: logsumexp, softmax, log-softmax, and the fused softmax cross-entropy / KL on
// logits with their gradients. Rows of C logits, row-major.
//
// Every row is split the way XNNPACK splits softmax: a max pass, one pass that computes
// e = exp((z - max) / T), stores it and sums it (S), and, for gradients, one pass that reuses the
// stored exponentials. A loss is written -sum_c a_c logp_c for a coefficient vector a (targets,
// weights and label smoothing folded together), so with A = sum a and D = sum a_c (z_c - max) / T:
//   loss = A ln S - D,   d loss / d z_c = (A e_c / S - a_c) / T.
// a_c = 0 terms are masked, so a -inf logit with no target mass gives 0, never NaN.
// Kernels return the first row whose logits are NaN, +inf or all -inf (or whose soft target is
// negative or NaN), or -1; src/softmax.ts turns that into an error naming the element.

import { expf4, expf4Neg } from "./math/expf";
import { exp2d } from "./math/exp";
import { logf4 } from "./math/logf";
import { log2d } from "./math/log";
import { log1p2d, log1pf4 } from "./math/log1p";
import { storePromotedF32 } from "./rows";
import { hsumF32, hsumF64, hsumI32 } from "./math/lanes";

// Flags of the cross-entropy kernels.
const WANT_GRAD: i32 = 1;
const KL: i32 = 2; // add sum a ln t' (KL rather than cross-entropy)
const LOG_TARGET: i32 = 4; // the target holds ln t

// Elements per block of float32 lane sums: each lane adds at most BLOCK/4 terms before the block's
// sum moves to f64 (two-level blocked summation, as in divergence.ts), so a row's float32 sums keep
// about 1e-7 of their value whatever the number of classes; lanes summing a whole row lose accuracy
// in proportion to its length. The block loops are do-whiles (a row is never empty): the while form
// made 10-class rows measurably slower.
const BLOCK: i32 = 128;

// Results of a row's exp pass beyond its return value (sum of exponentials).
let rowA: f64 = 0; // sum of coefficients
let rowD: f64 = 0; // sum a_c (z_c - max) / T
let rowK: f64 = 0; // sum a_c ln t'_c (KL only)
let rowBad: bool = false; // a negative or NaN soft target
let rowRest: f64 = 0; // sum of a over a confident row's classes other than its max

// Largest lane of a NaN-free vector: shuffles and pmax (scalar max is V8's branchy NaN-aware code).
@inline function hmaxF32(v: v128): f32 {
  v = f32x4.pmax(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  v = f32x4.pmax(v, i32x4.shuffle(v, v, 1, 0, 3, 2));
  return f32x4.extract_lane(v, 0);
}

// The last 1-3 elements of a float32 row as one vector, padded with -inf: exp of a padded lane is
// exactly 0 and it never wins a max, so a row's tail costs one vector exp rather than three
// scalar (float64) ones, which dominate short rows such as 10 classes.
@inline function tailF32(p: usize, count: i32, pad: f32 = -Infinity): v128 {
  let v = f32x4.splat(pad);
  v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (count > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (count > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

@inline function storeTailF32(p: usize, v: v128, count: i32): void {
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (count > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (count > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

// ---------------------------------------------------------------------------------------------
// Row maximum, NaN if any logit is NaN. wasm's f32x4.max (NaN-propagating, -0 < +0) has no x64
// instruction and costs eight on the loop-carried chain; pmax is one maxps, with NaN tracked by
// an OR-accumulated x != x mask instead. Two accumulators halve the chain.

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

// A refused row's results: NaN loss and outputs, so a caller that skips validation sees NaN.
@inline function poisonF32(loss: usize, work: usize, r: i32, e: usize, n: i32): void {
  if (loss) stash(loss, work, r, NaN, NaN, 0);
  if (e) for (let i = 0; i < n; i++) store<f32>(e + (<usize>i << 2), NaN);
}

@inline function poisonF64(loss: usize, work: usize, r: i32, e: usize, n: i32): void {
  if (loss) stash(loss, work, r, NaN, NaN, 0);
  if (e) for (let i = 0; i < n; i++) store<f64>(e + (<usize>i << 3), NaN);
}

// A usable row maximum: finite. NaN or +inf means a bad logit; -inf means no finite logit.
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
const RESUM_BELOW: f64 = 0.0625;

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
      poisonF32(0, 0, r, dst, c);
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
      poisonF64(0, 0, r, dst, c);
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

// ---------------------------------------------------------------------------------------------
// Cross-entropy (and KL) with probability targets. Per row: a_c = w_c t'_c, t' = (1 - eps) t + eps/C
// (w_c = 1 without weights; t = exp(target) with LOG_TARGET).

// The exp pass of one row with targets: stores e (when e != 0), returns S; A, D, K, bad in globals.
// Inlined with constant `flags`/`weighted` at the hot call sites, so their branches fold away.
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
        // A NaN or negative target fails t >= 0 (with LOG_TARGET: a NaN log fails t == t).
        badT = v128.or(badT, v128.not(flags & LOG_TARGET ? f32x4.eq(tv, tv) : f32x4.ge(tv, zero)));
        if (flags & LOG_TARGET) tv = expf4(tv);
        const tp = f32x4.add(f32x4.mul(tv, vk), vs);
        const av = weighted ? f32x4.mul(tp, v128.load(w + (<usize>i << 2))) : tp;
        const nz = f32x4.ne(av, zero);
        accA = f32x4.add(accA, av);
        accD = f32x4.add(accD, v128.and(f32x4.mul(av, sh), nz));
        if (flags & KL) accK = f32x4.add(accK, v128.and(f32x4.mul(av, logf4(tp)), nz));
      }
      s += hsumF32(accS);
      a += hsumF32(accA);
      d += hsumF32(accD);
      if (flags & KL) k += hsumF32(accK);
    } while (i < vecEnd);
    bad = v128.any_true(badT);
  }
  for (; i < n; i++) {
    const sh = (<f64>load<f32>(z + (<usize>i << 2)) - <f64>m) * <f64>invT;
    const x = Math.exp(sh);
    store<f32>(e + (<usize>i << 2), <f32>x);
    s += x;
    let tv = <f64>load<f32>(t + (<usize>i << 2));
    if (flags & LOG_TARGET) {
      if (isNaN(tv)) bad = true;
      tv = Math.exp(tv);
    } else if (!(tv >= 0)) bad = true;
    const tp = tv * <f64>keep + <f64>spread;
    const av = weighted ? tp * <f64>load<f32>(w + (<usize>i << 2)) : tp;
    a += av;
    if (av != 0) {
      d += av * sh;
      if (flags & KL) k += av * Math.log(tp);
    }
  }
  rowA = a;
  rowD = d;
  rowK = k;
  rowBad = bad || !(a < Infinity);
  // Confident rows: S - 1 redone exactly from the stored exponentials (see expSumF32).
  const sm1 = s - 1;
  return sm1 < RESUM_BELOW ? rowSumF32(e, n) : sm1;
}

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
      badT = v128.or(badT, v128.not(flags & LOG_TARGET ? f64x2.eq(tv, tv) : f64x2.ge(tv, zero)));
      if (flags & LOG_TARGET) tv = exp2d(tv);
      const tp = f64x2.add(f64x2.mul(tv, vk), vs);
      const av = weighted ? f64x2.mul(tp, v128.load(w + (<usize>i << 3))) : tp;
      const nz = f64x2.ne(av, zero);
      accA = f64x2.add(accA, av);
      accD = f64x2.add(accD, v128.and(f64x2.mul(av, sh), nz));
      if (flags & KL) accK = f64x2.add(accK, v128.and(f64x2.mul(av, log2d(tp)), nz));
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
    if (flags & LOG_TARGET) {
      if (isNaN(tv)) bad = true;
      tv = Math.exp(tv);
    } else if (!(tv >= 0)) bad = true;
    const tp = tv * keep + spread;
    const av = weighted ? tp * load<f64>(w + (<usize>i << 3)) : tp;
    a += av;
    if (av != 0) {
      d += av * sh;
      if (flags & KL) k += av * Math.log(tp);
    }
  }
  rowA = a;
  rowD = d;
  rowK = k;
  rowBad = bad || !(a < Infinity);
  return s + <f64>(ones - 1);
}

// Gradient of one row in place over the stored exponentials e: g = scale (A e / S - a).
@inline function probsGradF32(
  e: usize, t: usize, w: usize, n: i32, ratio: f32, scale: f32, keep: f32, spread: f32, flags: i32,
  weighted: bool,
): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vr = f32x4.splat(ratio), vg = f32x4.splat(scale), vk = f32x4.splat(keep), vs = f32x4.splat(spread);
    for (; i + 4 <= n; i += 4) {
      let tv = v128.load(t + (<usize>i << 2));
      if (flags & LOG_TARGET) tv = expf4(tv);
      const tp = f32x4.add(f32x4.mul(tv, vk), vs);
      const av = weighted ? f32x4.mul(tp, v128.load(w + (<usize>i << 2))) : tp;
      const g = f32x4.sub(f32x4.mul(v128.load(e + (<usize>i << 2)), vr), av);
      v128.store(e + (<usize>i << 2), f32x4.mul(g, vg));
    }
  }
  for (; i < n; i++) {
    let tv = <f64>load<f32>(t + (<usize>i << 2));
    if (flags & LOG_TARGET) tv = Math.exp(tv);
    const tp = tv * <f64>keep + <f64>spread;
    const av = weighted ? tp * <f64>load<f32>(w + (<usize>i << 2)) : tp;
    const g = (<f64>load<f32>(e + (<usize>i << 2)) * <f64>ratio - av) * <f64>scale;
    store<f32>(e + (<usize>i << 2), <f32>g);
  }
}

// As probsGradF32, for a confident row (S - 1 < RESUM_BELOW, so its max is its only e = 1): also sums
// a over the other classes into rowRest, in blocks of float32 lanes, and returns the max's index (for
// gradAtMax; A - a would keep the rounding of A there).
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
        if (flags & LOG_TARGET) tv = expf4(tv);
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
@inline function coefF32(t: usize, w: usize, i: i32, keep: f32, spread: f32, flags: i32): f64 {
  let tv = <f64>load<f32>(t + (<usize>i << 2));
  if (flags & LOG_TARGET) tv = Math.exp(tv);
  const tp = tv * <f64>keep + <f64>spread;
  return w ? tp * <f64>load<f32>(w + (<usize>i << 2)) : tp;
}

@inline function coefF64(t: usize, w: usize, i: i32, keep: f64, spread: f64, flags: i32): f64 {
  let tv = load<f64>(t + (<usize>i << 3));
  if (flags & LOG_TARGET) tv = Math.exp(tv);
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

@inline function probsGradF64(
  e: usize, t: usize, w: usize, n: i32, ratio: f64, scale: f64, keep: f64, spread: f64, flags: i32,
  weighted: bool,
): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vr = f64x2.splat(ratio), vg = f64x2.splat(scale), vk = f64x2.splat(keep), vs = f64x2.splat(spread);
    for (; i + 2 <= n; i += 2) {
      let tv = v128.load(t + (<usize>i << 3));
      if (flags & LOG_TARGET) tv = exp2d(tv);
      const tp = f64x2.add(f64x2.mul(tv, vk), vs);
      const av = weighted ? f64x2.mul(tp, v128.load(w + (<usize>i << 3))) : tp;
      const g = f64x2.sub(f64x2.mul(v128.load(e + (<usize>i << 3)), vr), av);
      v128.store(e + (<usize>i << 3), f64x2.mul(g, vg));
    }
  }
  for (; i < n; i++) {
    let tv = load<f64>(t + (<usize>i << 3));
    if (flags & LOG_TARGET) tv = Math.exp(tv);
    const tp = tv * keep + spread;
    const av = weighted ? tp * load<f64>(w + (<usize>i << 3)) : tp;
    store<f64>(e + (<usize>i << 3), (load<f64>(e + (<usize>i << 3)) * ratio - av) * scale);
  }
}

// A row's loss is A ln S - D. Rather than one scalar (software, float64) logarithm per row, each row
// stashes S - 1 in its loss slot and A, D in `work`; finishLosses then takes all the logarithms,
// ln S = log1p(S - 1), two rows per vector. A row with A = 0 gives -D (0, or a KL target term); a refused row has A = NaN.
@inline function stash(loss: usize, work: usize, r: i32, sm1: f64, a: f64, d: f64): void {
  store<f64>(loss + (<usize>r << 3), sm1);
  store<f64>(work + (<usize>r << 4), a);
  store<f64>(work + (<usize>r << 4), d, 8);
}

function finishLosses(loss: usize, work: usize, rows: i32): void {
  let r = 0;
  if (ASC_FEATURE_SIMD) {
    for (; r + 2 <= rows; r += 2) {
      const at = loss + (<usize>r << 3);
      const w0 = v128.load(work + (<usize>r << 4)), w1 = v128.load(work + (<usize>r << 4), 16);
      // (A0, D0), (A1, D1) -> (A0, A1), (D0, D1)
      const a = i64x2.shuffle(w0, w1, 0, 2);
      const d = i64x2.shuffle(w0, w1, 1, 3);
      // ln S = log1p(S - 1), needed only where S - 1 is small; elsewhere the cheaper log of 1 + x
      // (rounding 1 + x costs at most 2^-53 / RESUM_BELOW, relative).
      const sm1 = v128.load(at);
      const ln = v128.any_true(f64x2.lt(sm1, f64x2.splat(RESUM_BELOW)))
        ? log1p2d(sm1)
        : log2d(f64x2.add(sm1, f64x2.splat(1)));
      v128.store(at, f64x2.sub(f64x2.mul(a, ln), d));
    }
  }
  for (; r < rows; r++) {
    const at = loss + (<usize>r << 3);
    const a = load<f64>(work + (<usize>r << 4));
    store<f64>(at, a * Math.log1p(load<f64>(at)) - load<f64>(work + (<usize>r << 4), 8));
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
// scratch (see stash). Returns the first bad row.
// @ts-ignore: decorator
@inline function probsRowsF32(
  z: usize, t: usize, w: usize, rows: i32, c: i32, eps: f64, invT: f64, flags: i32, gradScale: f64,
  grad: usize, loss: usize, work: usize, hot: bool, weighted: bool,
): i32 {
  const keep = <f32>(1 - eps), spread = <f32>(eps / c);
  const f = hot ? WANT_GRAD & flags : flags;
  let bad = -1;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * c << 2;
    // Exponentials always go to e (the gradient buffer, or scratch when no gradient is wanted).
    const e = grad + off;
    const m = rowMaxF32(z + off, c);
    if (!usable(m)) {
      poisonF32(loss, work, r, f & WANT_GRAD ? e : 0, c);
      if (bad < 0) bad = r;
      continue;
    }
    const sm1 = hot
      ? probsExpF32(z + off, t + off, w, c, m, <f32>invT, keep, spread, 0, weighted, e)
      : probsExpF32(z + off, t + off, w, c, m, <f32>invT, keep, spread, f, w != 0, e);
    if (rowBad) {
      poisonF32(loss, work, r, f & WANT_GRAD ? e : 0, c);
      if (bad < 0) bad = r;
      continue;
    }
    if (c == 1) {
      // One class: softmax is exactly 1, log p exactly 0, the gradient exactly 0 (rounding would
      // leave a residue); KL keeps its target term sum a ln t'.
      stash(loss, work, r, 0, 0, f & KL ? -rowK : 0);
      store<f32>(e, 0);
      continue;
    }
    stash(loss, work, r, sm1, rowA, f & KL ? rowD - rowK : rowD);
    if (f & WANT_GRAD) {
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
  const f = hot ? WANT_GRAD & flags : flags;
  let bad = -1;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * c << 3;
    const e = f & WANT_GRAD ? grad + off : 0;
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
      stash(loss, work, r, 0, 0, f & KL ? -rowK : 0);
      if (e) store<f64>(e, 0);
      continue;
    }
    stash(loss, work, r, sm1, rowA, f & KL ? rowD - rowK : rowD);
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
  let bad: i32;
  if ((flags & (KL | LOG_TARGET)) == 0) {
    bad = w
      ? probsRowsF32(z, t, w, rows, c, eps, invT, flags, gradScale, grad, loss, work, true, true)
      : probsRowsF32(z, t, w, rows, c, eps, invT, flags, gradScale, grad, loss, work, true, false);
  } else {
    bad = probsRowsF32(z, t, w, rows, c, eps, invT, flags, gradScale, grad, loss, work, false, false);
  }
  finishLosses(loss, work, rows);
  if ((flags & KL) != 0 && w == 0) clampKl(loss, work, rows, sumTol);
  return bad;
}

export function xent_probs_f64(
  z: usize, t: usize, w: usize, rows: i32, c: i32, eps: f64, invT: f64, flags: i32, gradScale: f64,
  grad: usize, loss: usize, work: usize, sumTol: f64,
): i32 {
  let bad: i32;
  if ((flags & (KL | LOG_TARGET)) == 0) {
    bad = w
      ? probsRowsF64(z, t, w, rows, c, eps, invT, flags, gradScale, grad, loss, work, true, true)
      : probsRowsF64(z, t, w, rows, c, eps, invT, flags, gradScale, grad, loss, work, true, false);
  } else {
    bad = probsRowsF64(z, t, w, rows, c, eps, invT, flags, gradScale, grad, loss, work, false, false);
  }
  finishLosses(loss, work, rows);
  if ((flags & KL) != 0 && w == 0) clampKl(loss, work, rows, sumTol);
  return bad;
}

// ---------------------------------------------------------------------------------------------
// Cross-entropy with class indices y (i32, one per row; rows with y == ignore give 0). Per row:
// a_c = (eps/C) w_c + [c == y] (1 - eps) w_y. The dense part is a dot with the weights (or a plain
// sum), the one-hot part a single element.

// sum w_c (z_c - m) T^-1 over the row (w_c = 1 without weights), skipping w_c = 0; into rowD.
@inline function denseDotF32(z: usize, w: usize, n: i32, m: f32, invT: f32): void {
  let i = 0;
  let d: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    const vm = f32x4.splat(m), vt = f32x4.splat(invT), zero = f32x4.splat(0);
    const vecEnd = n & ~3;
    do {
      const end = min(i + BLOCK, vecEnd);
      let acc = zero;
      for (; i < end; i += 4) {
        const sh = f32x4.mul(f32x4.sub(v128.load(z + (<usize>i << 2)), vm), vt);
        if (w) {
          const wv = v128.load(w + (<usize>i << 2));
          acc = f32x4.add(acc, v128.and(f32x4.mul(wv, sh), f32x4.ne(wv, zero)));
        } else {
          acc = f32x4.add(acc, sh);
        }
      }
      d += hsumF32(acc);
    } while (i < vecEnd);
  }
  for (; i < n; i++) {
    const sh = (<f64>load<f32>(z + (<usize>i << 2)) - <f64>m) * <f64>invT;
    const wv: f64 = w ? <f64>load<f32>(w + (<usize>i << 2)) : 1;
    if (wv != 0) d += wv * sh;
  }
  rowD = d;
}

function denseDotF64(z: usize, w: usize, n: i32, m: f64, invT: f64): void {
  let i = 0;
  let d: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    const vm = f64x2.splat(m), vt = f64x2.splat(invT), zero = f64x2.splat(0);
    let acc = zero;
    for (; i + 2 <= n; i += 2) {
      const sh = f64x2.mul(f64x2.sub(v128.load(z + (<usize>i << 3)), vm), vt);
      if (w) {
        const wv = v128.load(w + (<usize>i << 3));
        acc = f64x2.add(acc, v128.and(f64x2.mul(wv, sh), f64x2.ne(wv, zero)));
      } else {
        acc = f64x2.add(acc, sh);
      }
    }
    d = hsumF64(acc);
  }
  for (; i < n; i++) {
    const sh = (load<f64>(z + (<usize>i << 3)) - m) * invT;
    const wv: f64 = w ? load<f64>(w + (<usize>i << 3)) : 1;
    if (wv != 0) d += wv * sh;
  }
  rowD = d;
}

// The gradient at a class whose exponential is exactly 1 (the row's max): scale (A / S - a), A the
// row's coefficient sum, a the class's, rest = A - a. Formed as scale (rest - a (S - 1)) / S: in a
// confident row (S - 1 ~ 1e-6) A / S and a cancel to about a (S - 1), of which their float32
// difference would keep a few percent.
@inline function gradAtMax(rest: f64, a: f64, sm1: f64, scale: f64): f64 {
  return (scale * (rest - a * sm1)) / (1 + sm1);
}

// g = scale (ratio e - spread w) over the stored exponentials (w_c = 1 without weights).
@inline function indexGradF32(e: usize, w: usize, n: i32, ratio: f32, spread: f32, scale: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vr = f32x4.splat(ratio), vs = f32x4.splat(spread), vg = f32x4.splat(scale);
    for (; i + 4 <= n; i += 4) {
      const sub = w ? f32x4.mul(v128.load(w + (<usize>i << 2)), vs) : vs;
      const g = f32x4.sub(f32x4.mul(v128.load(e + (<usize>i << 2)), vr), sub);
      v128.store(e + (<usize>i << 2), f32x4.mul(g, vg));
    }
  }
  for (; i < n; i++) {
    const wv: f32 = w ? load<f32>(w + (<usize>i << 2)) : 1;
    store<f32>(e + (<usize>i << 2), (load<f32>(e + (<usize>i << 2)) * ratio - wv * spread) * scale);
  }
}

function indexGradF64(e: usize, w: usize, n: i32, ratio: f64, spread: f64, scale: f64): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vr = f64x2.splat(ratio), vs = f64x2.splat(spread), vg = f64x2.splat(scale);
    for (; i + 2 <= n; i += 2) {
      const sub = w ? f64x2.mul(v128.load(w + (<usize>i << 3)), vs) : vs;
      const g = f64x2.sub(f64x2.mul(v128.load(e + (<usize>i << 3)), vr), sub);
      v128.store(e + (<usize>i << 3), f64x2.mul(g, vg));
    }
  }
  for (; i < n; i++) {
    const wv: f64 = w ? load<f64>(w + (<usize>i << 3)) : 1;
    store<f64>(e + (<usize>i << 3), (load<f64>(e + (<usize>i << 3)) * ratio - wv * spread) * scale);
  }
}

// Rows shorter than SHORT_ROW take three passes over the chunk instead of one per row: per row, the
// max and the shifted logits (z - m)/T into e; one flat exp pass over the whole chunk; per row, the
// sum and the gradient. A 10-class row is too short for its own exp loop to hide the latency of
// max -> exp -> sum; the flat pass keeps the vector units busy across rows.
const SHORT_ROW: i32 = 32;

// dst = (z - m) * invT over a row.
@inline function shiftRowF32(z: usize, dst: usize, n: i32, m: f32, invT: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vm = f32x4.splat(m), vt = f32x4.splat(invT);
    for (; i + 4 <= n; i += 4) {
      v128.store(dst + (<usize>i << 2), f32x4.mul(f32x4.sub(v128.load(z + (<usize>i << 2)), vm), vt));
    }
  }
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), (load<f32>(z + (<usize>i << 2)) - m) * invT);
}

// e = exp(e) in place for e <= 0, over a whole chunk.
function expInPlaceF32(e: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 8 <= n; i += 8) {
      const at = e + (<usize>i << 2);
      v128.store(at, expf4Neg(v128.load(at)));
      v128.store(at, expf4Neg(v128.load(at, 16)), 16);
    }
    for (; i + 4 <= n; i += 4) {
      const at = e + (<usize>i << 2);
      v128.store(at, expf4Neg(v128.load(at)));
    }
    if (i < n) {
      const at = e + (<usize>i << 2);
      storeTailF32(at, expf4Neg(tailF32(at, n - i)), n - i);
      i = n;
    }
  }
  for (; i < n; i++) store<f32>(e + (<usize>i << 2), <f32>Math.exp(<f64>load<f32>(e + (<usize>i << 2))));
}

// A row's sum of exponentials as S - 1 (see expSumF32), in f64.
@inline function rowSumF32(x: usize, n: i32): f64 {
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

// Rows of at most TINY_ROW classes, four at a time, transposed so that each lane holds one row and
// each vector one class: max, exp, sum and gradient become lane-wise, with none of the per-row
// horizontal reductions, tails and scalar bookkeeping that dominate a 10-class row. The label's
// term is a lane-wise compare. A group with an ignored or refused row goes the short-row way.
const TINY_ROW: i32 = 16;

// Column-major tile of four rows: column j at TILE + 16 j (four lanes = four rows).
@lazy const TILE = memory.data(16 * TINY_ROW, 16);

// Transposes four rows of four floats (r0..r3) into the tile's columns j0 .. j0 + 3.
@inline function transposeIn(r0: v128, r1: v128, r2: v128, r3: v128, at: usize): void {
  const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5);
  const t1 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
  const t2 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
  const t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
  v128.store(at, i32x4.shuffle(t0, t2, 0, 1, 4, 5));
  v128.store(at, i32x4.shuffle(t0, t2, 2, 3, 6, 7), 16);
  v128.store(at, i32x4.shuffle(t1, t3, 0, 1, 4, 5), 32);
  v128.store(at, i32x4.shuffle(t1, t3, 2, 3, 6, 7), 48);
}

// Loads four rows (stride c floats, from row element j0) into the tile as columns j0 .. j0 + 3;
// a partial block (fewer than four columns left) is gathered lane by lane, never reading past a row.
@inline function loadTile(z: usize, c: i32): void {
  const stride = <usize>c << 2;
  let j = 0;
  for (; j + 4 <= c; j += 4) {
    const at = z + (<usize>j << 2);
    transposeIn(v128.load(at), v128.load(at + stride), v128.load(at + 2 * stride), v128.load(at + 3 * stride), TILE + (<usize>j << 4));
  }
  if (j < c) {
    const at = z + (<usize>j << 2);
    const n = c - j;
    transposeIn(tailF32(at, n, 0), tailF32(at + stride, n, 0), tailF32(at + 2 * stride, n, 0), tailF32(at + 3 * stride, n, 0), TILE + (<usize>j << 4));
  }
}

// Writes the tile's columns back as four rows (stride c floats).
@inline function storeTile(e: usize, c: i32): void {
  const stride = <usize>c << 2;
  let j = 0;
  for (; j < c; j += 4) {
    // The transpose of a transpose: columns j .. j + 3 become rows' elements j .. j + 3.
    const src = TILE + (<usize>j << 4);
    const c0 = v128.load(src), c1 = v128.load(src, 16), c2 = v128.load(src, 32), c3 = v128.load(src, 48);
    const t0 = i32x4.shuffle(c0, c1, 0, 4, 1, 5);
    const t1 = i32x4.shuffle(c0, c1, 2, 6, 3, 7);
    const t2 = i32x4.shuffle(c2, c3, 0, 4, 1, 5);
    const t3 = i32x4.shuffle(c2, c3, 2, 6, 3, 7);
    const r0 = i32x4.shuffle(t0, t2, 0, 1, 4, 5);
    const r1 = i32x4.shuffle(t0, t2, 2, 3, 6, 7);
    const r2 = i32x4.shuffle(t1, t3, 0, 1, 4, 5);
    const r3 = i32x4.shuffle(t1, t3, 2, 3, 6, 7);
    const at = e + (<usize>j << 2);
    if (j + 4 <= c) {
      v128.store(at, r0);
      v128.store(at + stride, r1);
      v128.store(at + 2 * stride, r2);
      v128.store(at + 3 * stride, r3);
    } else {
      const n = c - j;
      storeTailF32(at, r0, n);
      storeTailF32(at + stride, r1, n);
      storeTailF32(at + 2 * stride, r2, n);
      storeTailF32(at + 3 * stride, r3, n);
    }
  }
}

// Rows [0, rows) in groups of four; returns the first bad row. Rows beyond the last full group, and
// groups with an ignored or refused row, go through indexShortF32. Losses come out final (the
// caller runs no finishLosses over these rows).
function indexTinyF32(
  z: usize, y: usize, w: usize, wSum: f64, rows: i32, c: i32, eps: f64, invT: f64, ignore: i32,
  flags: i32, gradScale: f64, e: usize, loss: usize, work: usize,
): i32 {
  const spread = <f32>(eps / c);
  const keep = <f32>(1 - eps);
  const vt = f32x4.splat(<f32>invT);
  const scale = f32x4.splat(<f32>(gradScale * invT));
  const base = f32x4.splat(<f32>(eps / c * wSum));
  let bad = -1;
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const off = <usize>r * c << 2;
    const labels = v128.load(y + (<usize>r << 2));
    const z0 = z + off;
    if (v128.any_true(i32x4.eq(labels, i32x4.splat(ignore)))) {
      const b = indexShortF32(z0, y + (<usize>r << 2), w, wSum, 4, c, eps, invT, ignore, flags, gradScale, e + off, loss + (<usize>r << 3), work + (<usize>r << 4));
      finishLosses(loss + (<usize>r << 3), work + (<usize>r << 4), 4);
      if (b >= 0 && bad < 0) bad = r + b;
      continue;
    }
    loadTile(z0, c);
    // Lane-wise max (pmax), NaN tracked by x != x.
    let m = v128.load(TILE);
    let nan = f32x4.ne(m, m);
    for (let j = 1; j < c; j++) {
      const x = v128.load(TILE + (<usize>j << 4));
      m = f32x4.pmax(m, x);
      nan = v128.or(nan, f32x4.ne(x, x));
    }
    // A refused row (NaN, +inf, or no finite logit) sends the group the short-row way.
    const fine = v128.and(f32x4.lt(m, f32x4.splat(Infinity)), f32x4.gt(m, f32x4.splat(-Infinity)));
    if (v128.any_true(nan) || !i32x4.all_true(fine)) {
      const b = indexShortF32(z0, y + (<usize>r << 2), w, wSum, 4, c, eps, invT, ignore, flags, gradScale, e + off, loss + (<usize>r << 3), work + (<usize>r << 4));
      finishLosses(loss + (<usize>r << 3), work + (<usize>r << 4), 4);
      if (b >= 0 && bad < 0) bad = r + b;
      continue;
    }
    // a = eps/C sum w + (1 - eps) w_y per lane; the label's weight gathered lane by lane.
    let wy = f32x4.splat(1);
    if (w) {
      wy = f32x4.replace_lane(wy, 0, load<f32>(w + (<usize>i32x4.extract_lane(labels, 0) << 2)));
      wy = f32x4.replace_lane(wy, 1, load<f32>(w + (<usize>i32x4.extract_lane(labels, 1) << 2)));
      wy = f32x4.replace_lane(wy, 2, load<f32>(w + (<usize>i32x4.extract_lane(labels, 2) << 2)));
      wy = f32x4.replace_lane(wy, 3, load<f32>(w + (<usize>i32x4.extract_lane(labels, 3) << 2)));
    }
    const hit = f32x4.mul(wy, f32x4.splat(keep));
    const a = f32x4.add(base, hit);
    let s = f32x4.splat(0), dense = f32x4.splat(0), atLabel = f32x4.splat(0);
    const one = f32x4.splat(1);
    for (let j = 0; j < c; j++) {
      const at = TILE + (<usize>j << 4);
      const sh = f32x4.mul(f32x4.sub(v128.load(at), m), vt);
      atLabel = v128.or(atLabel, v128.and(sh, i32x4.eq(labels, i32x4.splat(j))));
      if (spread != 0) {
        // Columns with w_j = 0 carry no mass (and would make 0 * -inf = NaN): skipped.
        const wj: f32 = w ? load<f32>(w + (<usize>j << 2)) : 1;
        if (wj != 0) dense = f32x4.add(dense, f32x4.mul(sh, f32x4.splat(wj)));
      }
      const x = expf4Neg(sh);
      v128.store(at, x);
      s = f32x4.add(s, x);
    }
    // D = spread sum_j w_j sh_j + hit sh_y; with no hit mass the label term is 0 (never 0 * -inf).
    const d = f32x4.add(f32x4.mul(dense, f32x4.splat(spread)), v128.and(f32x4.mul(hit, atLabel), f32x4.ne(hit, f32x4.splat(0))));
    // S - 1 per lane; confident rows (S - 1 small) redo it exactly: ones counted apart (see
    // expSumF32), over the exponentials in the tile.
    s = f32x4.sub(s, one);
    const sure = f32x4.lt(s, f32x4.splat(<f32>RESUM_BELOW));
    if (v128.any_true(sure)) {
      let rest = f32x4.splat(0), ones = i32x4.splat(0);
      for (let j = 0; j < c; j++) {
        const x = v128.load(TILE + (<usize>j << 4));
        const o = f32x4.eq(x, one);
        rest = f32x4.add(rest, v128.andnot(x, o));
        ones = i32x4.sub(ones, o);
      }
      s = f32x4.add(rest, f32x4.convert_i32x4_s(i32x4.sub(ones, i32x4.splat(1))));
    }
    // The loss A ln S - D, finished in the lanes: D <= 0 and A ln S >= 0, so nothing cancels and
    // float32 (log1pf4: 4.95 ulp) keeps about 3e-7 of it.
    storePromotedF32(loss + (<usize>r << 3), f32x4.sub(f32x4.mul(a, log1pf4(s)), d));
    if (flags & WANT_GRAD) {
      // g_j = scale (e_j a / S - spread w_j - [j == y] hit)
      const ratio = f32x4.div(a, f32x4.add(s, one));
      for (let j = 0; j < c; j++) {
        const at = TILE + (<usize>j << 4);
        const wj: f32 = w ? load<f32>(w + (<usize>j << 2)) : 1;
        let g = f32x4.sub(f32x4.mul(v128.load(at), ratio), f32x4.splat(spread * wj));
        g = f32x4.sub(g, v128.and(hit, i32x4.eq(labels, i32x4.splat(j))));
        v128.store(at, f32x4.mul(g, scale));
      }
      // A confident row's label at its max (shifted logit 0): gradAtMax, lane-wise. Elsewhere
      // (S - 1 >= RESUM_BELOW) the float32 difference keeps 1e-6 of the gradient there.
      const top = v128.and(sure, f32x4.eq(atLabel, f32x4.splat(0)));
      if (v128.any_true(top)) {
        const ay = f32x4.add(f32x4.mul(wy, f32x4.splat(spread)), hit);
        const rest = f32x4.mul(f32x4.sub(f32x4.splat(<f32>wSum), wy), f32x4.splat(spread));
        const g = f32x4.div(f32x4.mul(scale, f32x4.sub(rest, f32x4.mul(ay, s))), f32x4.add(s, one));
        if (i32x4.extract_lane(top, 0)) store<f32>(TILE + (<usize>i32x4.extract_lane(labels, 0) << 4), f32x4.extract_lane(g, 0));
        if (i32x4.extract_lane(top, 1)) store<f32>(TILE + (<usize>i32x4.extract_lane(labels, 1) << 4), f32x4.extract_lane(g, 1), 4);
        if (i32x4.extract_lane(top, 2)) store<f32>(TILE + (<usize>i32x4.extract_lane(labels, 2) << 4), f32x4.extract_lane(g, 2), 8);
        if (i32x4.extract_lane(top, 3)) store<f32>(TILE + (<usize>i32x4.extract_lane(labels, 3) << 4), f32x4.extract_lane(g, 3), 12);
      }
      storeTile(e + off, c);
    }
  }
  if (r < rows) {
    const off = <usize>r * c << 2;
    const b = indexShortF32(z + off, y + (<usize>r << 2), w, wSum, rows - r, c, eps, invT, ignore, flags, gradScale, e + off, loss + (<usize>r << 3), work + (<usize>r << 4));
    finishLosses(loss + (<usize>r << 3), work + (<usize>r << 4), rows - r);
    if (b >= 0 && bad < 0) bad = r + b;
  }
  // Each group finished its own losses (in its lanes, or by finishLosses for a fallback group).
  return bad;
}

// The short-row path of xent_index_f32 (2 <= c < SHORT_ROW). e: rows x c scratch, also the
// gradient output when flags has WANT_GRAD. Each pass is its own function, so each keeps its few
// live values in registers (one function holding both spilled heavily).
function indexShortF32(
  z: usize, y: usize, w: usize, wSum: f64, rows: i32, c: i32, eps: f64, invT: f64, ignore: i32,
  flags: i32, gradScale: f64, e: usize, loss: usize, work: usize,
): i32 {
  const bad = shortShiftF32(z, y, w, wSum, rows, c, eps, invT, ignore, e, loss, work);
  expInPlaceF32(e, rows * c);
  shortGradF32(y, w, rows, c, eps, ignore, flags, gradScale * invT, e, loss, work);
  // The caller runs finishLosses once over all its rows.
  return bad;
}

// Pass 1: per row, the max and (z - m)/T into e; A and D into work. Returns the first bad row.
function shortShiftF32(
  z: usize, y: usize, w: usize, wSum: f64, rows: i32, c: i32, eps: f64, invT: f64, ignore: i32,
  e: usize, loss: usize, work: usize,
): i32 {
  const spread = eps / c;
  let bad = -1;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * c << 2;
    const label = load<i32>(y + (<usize>r << 2));
    const m = rowMaxF32(z + off, c);
    if (label == ignore) {
      // Ignored rows contribute nothing, but a NaN or +inf logit there is still a caller's bug.
      if (!(m < Infinity) && bad < 0) bad = r;
      stash(loss, work, r, 0, 0, 0);
      continue;
    }
    if (!usable(m)) {
      stash(loss, work, r, NaN, NaN, 0);
      if (bad < 0) bad = r;
      continue;
    }
    shiftRowF32(z + off, e + off, c, m, <f32>invT);
    const hit = (1 - eps) * (w ? <f64>load<f32>(w + (<usize>label << 2)) : 1);
    const a = spread * wSum + hit;
    let d: f64 = 0;
    if (spread != 0) {
      denseDotF32(e + off, w, c, 0, 1);
      d = spread * rowD;
    }
    if (hit != 0) d += hit * <f64>load<f32>(e + off + (<usize>label << 2));
    stash(loss, work, r, 0, a, a == 0 ? 0 : d);
  }
  return bad;
}

// Pass 3 (after the flat exp pass): per row, the sum S into the loss slot and the gradient.
function shortGradF32(
  y: usize, w: usize, rows: i32, c: i32, eps: f64, ignore: i32, flags: i32, scale: f64, e: usize,
  loss: usize, work: usize,
): void {
  const spread = <f32>(eps / c);
  const keep = 1 - eps;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * c << 2;
    const label = load<i32>(y + (<usize>r << 2));
    const a = load<f64>(work + (<usize>r << 4));
    if (label == ignore) {
      if (flags & WANT_GRAD) memory.fill(e + off, 0, <usize>c << 2);
      continue;
    }
    if (isNaN(a)) {
      if (flags & WANT_GRAD) poisonF32(0, 0, r, e + off, c);
      continue;
    }
    const sm1 = rowSumF32(e + off, c);
    store<f64>(loss + (<usize>r << 3), sm1);
    if (flags & WANT_GRAD) {
      const wy: f64 = w ? <f64>load<f32>(w + (<usize>label << 2)) : 1;
      const hit = keep * wy;
      const at = e + off + (<usize>label << 2);
      const top = load<f32>(at) == 1;
      indexGradF32(e + off, w, c, <f32>(a / (1 + sm1)), spread, <f32>scale);
      if (top) {
        const ay = (eps / c) * wy + hit;
        store<f32>(at, <f32>gradAtMax(a - ay, ay, sm1, scale));
      } else {
        store<f32>(at, load<f32>(at) - <f32>(hit * scale));
      }
    }
  }
}

// wSum: sum of the weights (C without weights). grad: rows x C, always given (scratch when the
// gradient is not wanted: the short-row path works in it); rows of ignored targets are zeroed.
export function xent_index_f32(
  z: usize, y: usize, w: usize, wSum: f64, rows: i32, c: i32, eps: f64, invT: f64, ignore: i32,
  flags: i32, gradScale: f64, grad: usize, loss: usize, work: usize,
): i32 {
  if (ASC_FEATURE_SIMD) {
    if (c >= 2 && c <= TINY_ROW) {
      return indexTinyF32(z, y, w, wSum, rows, c, eps, invT, ignore, flags, gradScale, grad, loss, work);
    }
    if (c >= 2 && c < SHORT_ROW) {
      const bad = indexShortF32(z, y, w, wSum, rows, c, eps, invT, ignore, flags, gradScale, grad, loss, work);
      finishLosses(loss, work, rows);
      return bad;
    }
  }
  const spread = eps / c;
  let bad = -1;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * c << 2;
    const e = grad + off; // exponentials always stored (scratch when no gradient is wanted)
    const label = load<i32>(y + (<usize>r << 2));
    if (label == ignore) {
      stash(loss, work, r, 0, 0, 0);
      if (flags & WANT_GRAD) memory.fill(e, 0, <usize>c << 2);
      // Ignored rows contribute nothing, but a NaN or +inf logit there is still a caller's bug.
      if (!(rowMaxF32(z + off, c) < Infinity) && bad < 0) bad = r;
      continue;
    }
    const m = rowMaxF32(z + off, c);
    if (!usable(m)) {
      poisonF32(loss, work, r, flags & WANT_GRAD ? e : 0, c);
      if (bad < 0) bad = r;
      continue;
    }
    if (c == 1) {
      // One class: the loss and gradient are exactly 0 (see probsRowsF32).
      stash(loss, work, r, 0, 0, 0);
      if (flags & WANT_GRAD) store<f32>(e, 0);
      continue;
    }
    const sm1 = expSumF32(z + off, c, m, <f32>invT, e);
    const wy: f64 = w ? <f64>load<f32>(w + (<usize>label << 2)) : 1;
    const hit = (1 - eps) * wy;
    const a = spread * wSum + hit;
    // D = spread sum_c w_c sh_c + hit sh_y; the dense part only when smoothing puts mass there.
    let d: f64 = 0;
    if (spread != 0) {
      denseDotF32(z + off, w, c, m, <f32>invT);
      d = spread * rowD;
    }
    if (hit != 0) d += hit * ((<f64>load<f32>(z + off + (<usize>label << 2)) - <f64>m) * invT);
    stash(loss, work, r, sm1, a, a == 0 ? 0 : d);
    if (flags & WANT_GRAD) {
      const scale = gradScale * invT;
      const at = e + (<usize>label << 2);
      const top = load<f32>(at) == 1;
      indexGradF32(e, w, c, <f32>(a / (1 + sm1)), <f32>spread, <f32>scale);
      if (top) store<f32>(at, <f32>gradAtMax(spread * (wSum - wy), spread * wy + hit, sm1, scale));
      else store<f32>(at, load<f32>(at) - <f32>(hit * scale));
    }
  }
  finishLosses(loss, work, rows);
  return bad;
}

export function xent_index_f64(
  z: usize, y: usize, w: usize, wSum: f64, rows: i32, c: i32, eps: f64, invT: f64, ignore: i32,
  flags: i32, gradScale: f64, grad: usize, loss: usize, work: usize,
): i32 {
  const spread = eps / c;
  let bad = -1;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * c << 3;
    const e = flags & WANT_GRAD ? grad + off : 0;
    const label = load<i32>(y + (<usize>r << 2));
    if (label == ignore) {
      stash(loss, work, r, 0, 0, 0);
      if (e) memory.fill(e, 0, <usize>c << 3);
      // Ignored rows contribute nothing, but a NaN or +inf logit there is still a caller's bug.
      if (!(rowMaxF64(z + off, c) < Infinity) && bad < 0) bad = r;
      continue;
    }
    const m = rowMaxF64(z + off, c);
    if (!usable(m)) {
      poisonF64(loss, work, r, e, c);
      if (bad < 0) bad = r;
      continue;
    }
    if (c == 1) {
      // One class: the loss and gradient are exactly 0 (see probsRowsF64).
      stash(loss, work, r, 0, 0, 0);
      if (e) store<f64>(e, 0);
      continue;
    }
    const sm1 = expSumF64(z + off, c, m, invT, e);
    const wy: f64 = w ? load<f64>(w + (<usize>label << 3)) : 1;
    const hit = (1 - eps) * wy;
    const a = spread * wSum + hit;
    let d: f64 = 0;
    if (spread != 0) {
      denseDotF64(z + off, w, c, m, invT);
      d = spread * rowD;
    }
    if (hit != 0) d += hit * ((load<f64>(z + off + (<usize>label << 3)) - m) * invT);
    stash(loss, work, r, sm1, a, a == 0 ? 0 : d);
    if (e) {
      const scale = gradScale * invT;
      const at = e + (<usize>label << 3);
      const top = load<f64>(at) == 1;
      indexGradF64(e, w, c, a / (1 + sm1), spread, scale);
      if (top) store<f64>(at, gradAtMax(spread * (wSum - wy), spread * wy + hit, sm1, scale));
      else store<f64>(at, load<f64>(at) - hit * scale);
    }
  }
  finishLosses(loss, work, rows);
  return bad;
}
