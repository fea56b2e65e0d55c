// Cross-entropy of class indices y (i32, one per row; rows with y == ignore give 0) against
// softmax(logits / T), fused with its gradient: crossEntropyWithLogits with class-index targets,
//   xent_index_f32, xent_index_f64
// Per row: a_c = (eps/C) w_c + [c == y] (1 - eps) w_y, and the loss A ln S - D of xent.ts. The
// dense part is a dot with the weights (or a plain sum), the one-hot part a single element.
// Float32 rows of fewer than SHORT_ROW classes take a three-pass path over the whole chunk, and rows
// of at most TINY_ROW classes a transposed one, four rows at a time.

import { expf4Neg } from "./math/expf";
import { log1pf4 } from "./math/log1p";
import { BLOCK, storePromotedF32 } from "./common";
import { hsumF32, hsumF64 } from "./math/lanes";
import { RESUM_BELOW, expSumF32, expSumF64, rowMaxF32, rowMaxF64, rowSumF32, storeTailF32, tailF32, usable } from "./softmax";
import { XENT_WANT_GRAD, finishLosses, gradAtMax, poisonF32, poisonF64, stash } from "./xent";

// The dense part's sum of a row (denseDotF32, denseDotF64).
let rowD: f64 = 0;

// sum w_c (z_c - m) T^-1 over the row (w_c = 1 without weights), skipping w_c = 0; into rowD.
// @ts-ignore: decorator
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

// g = scale (ratio e - spread w) over the stored exponentials (w_c = 1 without weights).
// @ts-ignore: decorator
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
// @ts-ignore: decorator
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

// Rows of at most TINY_ROW classes, four at a time, transposed so that each lane holds one row and
// each vector one class: max, exp, sum and gradient become lane-wise, with none of the per-row
// horizontal reductions, tails and scalar bookkeeping that dominate a 10-class row. The label's
// term is a lane-wise compare. A group with an ignored or refused row goes the short-row way.
const TINY_ROW: i32 = 16;

// Column-major tile of four rows: column j at TILE + 16 j (four lanes = four rows).
// @ts-ignore: decorator
@lazy const TILE = memory.data(16 * TINY_ROW, 16);

// Transposes four rows of four floats (r0..r3) into the tile's columns j0 .. j0 + 3.
// @ts-ignore: decorator
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
// @ts-ignore: decorator
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
// @ts-ignore: decorator
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
    // expSumF32 in softmax.ts), over the exponentials in the tile.
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
    if (flags & XENT_WANT_GRAD) {
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
// gradient output when flags has XENT_WANT_GRAD. Each pass is its own function, so each keeps its few
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
      if (flags & XENT_WANT_GRAD) memory.fill(e + off, 0, <usize>c << 2);
      continue;
    }
    if (isNaN(a)) {
      if (flags & XENT_WANT_GRAD) poisonF32(0, 0, r, e + off, c);
      continue;
    }
    const sm1 = rowSumF32(e + off, c);
    store<f64>(loss + (<usize>r << 3), sm1);
    if (flags & XENT_WANT_GRAD) {
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
      if (flags & XENT_WANT_GRAD) memory.fill(e, 0, <usize>c << 2);
      // Ignored rows contribute nothing, but a NaN or +inf logit there is still a caller's bug.
      if (!(rowMaxF32(z + off, c) < Infinity) && bad < 0) bad = r;
      continue;
    }
    const m = rowMaxF32(z + off, c);
    if (!usable(m)) {
      poisonF32(loss, work, r, flags & XENT_WANT_GRAD ? e : 0, c);
      if (bad < 0) bad = r;
      continue;
    }
    if (c == 1) {
      // One class: the loss and gradient are exactly 0 (see probsRowsF32 in xentprobs.ts).
      stash(loss, work, r, 0, 0, 0);
      if (flags & XENT_WANT_GRAD) store<f32>(e, 0);
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
    if (flags & XENT_WANT_GRAD) {
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
    const e = flags & XENT_WANT_GRAD ? grad + off : 0;
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
      // One class: the loss and gradient are exactly 0 (see probsRowsF64 in xentprobs.ts).
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
