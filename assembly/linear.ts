// The dense-layer family, float32: y = x W + b and its gradients, and the activations ReLU and tanh
// with theirs. Matrices are row-major: x is rows x inputs, W inputs x outputs, y rows x outputs.
//   denseForward      dense_forward_f32
//   denseBackward     dense_backward_f32 (and its halves, dense_backward_dx_f32, dense_backward_dw_f32)
//   activate          relu_f32, tanh_f32
//   activateBackward  relu_backward_f32, tanh_backward_f32
// The models (softmaxRegression, mlp) and fit run on the same kernels.
//
// Forward and dW are one product C = init + A B with B's rows contiguous (W's rows, dy's rows) and
// A read through two strides (x, or x transposed: same memory, strides swapped), so one
// register-blocked micro-kernel serves both: a 4 x 8 tile of C held in eight accumulators over the
// whole inner dimension, per step two vector loads of B and four broadcasts of A (eleven live
// vectors: x64 has sixteen, and V8 keeps one for itself). dx = dy W^T is the same product once W is
// transposed (into dw's memory, before dW is computed there).
//
// Accumulation is float32 in a fixed order: every element sums its terms from init (bias or 0) in
// order of the inner index, bitwise what a naive float32 loop gives, error <= k u sum |a_p b_p|
// (u = 2^-24) over k terms. The scalar build follows the same order, so both builds give identical
// bits for every kernel here except tanh (the scalar build rounds Math.tanh).
// Kernels are unchecked (src/linear.ts validates shapes); outputs must not overlap inputs.

import { madd4 } from "./math/madd";
import { expf4 } from "./math/expf";

// @ts-ignore: decorator
@lazy const ONE = memory.data<u32>([0x3F800000]);   // 1.0
// @ts-ignore: decorator
@lazy const TWO = memory.data<u32>([0x40000000]);   // 2.0
// @ts-ignore: decorator
@lazy const ABS = memory.data<u32>([0x7FFFFFFF]);   // all bits but the sign
// Below this |x| tanh is the polynomial; from it on, 1 - 2 / (e^{2|x|} + 1), where e^{2|x|} >= 3.49
// keeps the subtraction from cancelling more than one bit.
// @ts-ignore: decorator
@lazy const SMALL = memory.data<u32>([0x3F200000]); // 0.625
// tanh(x) ~ x + x^3 P(x^2) on |x| < 0.625, P of degree 4 (Cephes tanhf.c, Stephen L. Moshier).
// @ts-ignore: decorator
@lazy const t0 = memory.data<u32>([0xBBBAF0EA]);    // -0x1.75e1d4p-8 -5.7049887255e-03
// @ts-ignore: decorator
@lazy const t1 = memory.data<u32>([0x3CA9134E]);    // 0x1.52269cp-6   2.0639088005e-02
// @ts-ignore: decorator
@lazy const t2 = memory.data<u32>([0xBD5C1E2D]);    // -0x1.b83c5ap-5 -5.3739715368e-02
// @ts-ignore: decorator
@lazy const t3 = memory.data<u32>([0x3E088393]);    // 0x1.110726p-3   1.3331441581e-01
// @ts-ignore: decorator
@lazy const t4 = memory.data<u32>([0xBEAAAA99]);    // -0x1.555532p-2 -3.3333280683e-01

// acc + a b: unfused in the shipped builds (the same bits in every engine), relaxed_madd in the
// opt-in FMA build (assembly/math/madd.ts).
// @ts-ignore: decorator
@inline function madd(acc: v128, a: v128, b: v128): v128 {
  return madd4(a, b, acc);
}

// The first `count` floats at p (all four when count >= 4), zero-padded: a tail as one vector.
// Never reads past the count-th float.
// @ts-ignore: decorator
@inline function loadPart(p: usize, count: i32): v128 {
  if (count >= 4) return v128.load(p);
  if (count == 1) return v128.load32_zero(p);
  let v = v128.load64_zero(p);
  if (count == 3) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

// @ts-ignore: decorator
@inline function storePart(p: usize, v: v128, count: i32): void {
  if (count >= 4) {
    v128.store(p, v);
    return;
  }
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (count > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (count > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

// ---------------------------------------------------------------------------------------------
// C = init + A B, C m x n (row stride ldc bytes), A(i, p) at a + i ai + p ap, B(p, j) at
// b + p bp + 4 j, p < k. init: a row of n floats added to every row of C, or 0 for none.

// One 4 x 8 tile over the whole inner dimension. Its own function: V8 does not inline wasm calls,
// and a tile per call costs one call per 8 k multiply-adds of each of 32 lanes, nothing.
function tile4x8(a: usize, ai: usize, ap: usize, b: usize, bp: usize, k: i32, c: usize, ldc: usize, init: usize): void {
  if (ASC_FEATURE_SIMD) {
    let c00 = f32x4.splat(0), c01 = c00;
    if (init) {
      c00 = v128.load(init);
      c01 = v128.load(init, 16);
    }
    let c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01;
    const a2 = ai << 1, a3 = ai * 3;
    for (let p = 0; p < k; p++) {
      const b0 = v128.load(b), b1 = v128.load(b, 16);
      let s = v128.load32_splat(a);
      c00 = madd(c00, s, b0);
      c01 = madd(c01, s, b1);
      s = v128.load32_splat(a + ai);
      c10 = madd(c10, s, b0);
      c11 = madd(c11, s, b1);
      s = v128.load32_splat(a + a2);
      c20 = madd(c20, s, b0);
      c21 = madd(c21, s, b1);
      s = v128.load32_splat(a + a3);
      c30 = madd(c30, s, b0);
      c31 = madd(c31, s, b1);
      a += ap;
      b += bp;
    }
    v128.store(c, c00);
    v128.store(c, c01, 16);
    c += ldc;
    v128.store(c, c10);
    v128.store(c, c11, 16);
    c += ldc;
    v128.store(c, c20);
    v128.store(c, c21, 16);
    c += ldc;
    v128.store(c, c30);
    v128.store(c, c31, 16);
  }
}

// A 4 x n tile, 1 <= n <= 4 (the columns left after the 8-wide tiles), B's row read as one
// zero-padded vector.
function tile4xn(a: usize, ai: usize, ap: usize, b: usize, bp: usize, k: i32, c: usize, ldc: usize, init: usize, n: i32): void {
  if (ASC_FEATURE_SIMD) {
    let c0 = f32x4.splat(0);
    if (init) c0 = loadPart(init, n);
    let c1 = c0, c2 = c0, c3 = c0;
    const a2 = ai << 1, a3 = ai * 3;
    for (let p = 0; p < k; p++) {
      const v = loadPart(b, n);
      c0 = madd(c0, v128.load32_splat(a), v);
      c1 = madd(c1, v128.load32_splat(a + ai), v);
      c2 = madd(c2, v128.load32_splat(a + a2), v);
      c3 = madd(c3, v128.load32_splat(a + a3), v);
      a += ap;
      b += bp;
    }
    storePart(c, c0, n);
    storePart(c + ldc, c1, n);
    storePart(c + (ldc << 1), c2, n);
    storePart(c + ldc * 3, c3, n);
  }
}

// One row of C (the rows left after the 4-row tiles): 8 columns per step, then a 1-4 column tail.
function row1(a: usize, ap: usize, b: usize, bp: usize, k: i32, n: i32, c: usize, init: usize): void {
  if (ASC_FEATURE_SIMD) {
    let j = 0;
    for (; j + 8 <= n; j += 8) {
      const jb = <usize>j << 2;
      let c0 = f32x4.splat(0), c1 = c0;
      if (init) {
        c0 = v128.load(init + jb);
        c1 = v128.load(init + jb, 16);
      }
      let pa = a, pb = b + jb;
      for (let p = 0; p < k; p++) {
        const s = v128.load32_splat(pa);
        c0 = madd(c0, s, v128.load(pb));
        c1 = madd(c1, s, v128.load(pb, 16));
        pa += ap;
        pb += bp;
      }
      v128.store(c + jb, c0);
      v128.store(c + jb, c1, 16);
    }
    for (; j < n; j += 4) {
      const jb = <usize>j << 2;
      const w = n - j;
      let c0 = f32x4.splat(0);
      if (init) c0 = loadPart(init + jb, w);
      let pa = a, pb = b + jb;
      for (let p = 0; p < k; p++) {
        c0 = madd(c0, v128.load32_splat(pa), loadPart(pb, w));
        pa += ap;
        pb += bp;
      }
      storePart(c + jb, c0, w);
    }
  }
}

function gemmF32(a: usize, ai: usize, ap: usize, b: usize, bp: usize, m: i32, n: i32, k: i32, c: usize, ldc: usize, init: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= m; i += 4) {
      const ar = a + <usize>i * ai, cr = c + <usize>i * ldc;
      let j = 0;
      for (; j + 8 <= n; j += 8) {
        const jb = <usize>j << 2;
        tile4x8(ar, ai, ap, b + jb, bp, k, cr + jb, ldc, init ? init + jb : 0);
      }
      for (; j < n; j += 4) {
        const jb = <usize>j << 2;
        tile4xn(ar, ai, ap, b + jb, bp, k, cr + jb, ldc, init ? init + jb : 0, n - j);
      }
    }
    for (; i < m; i++) row1(a + <usize>i * ai, ap, b, bp, k, n, c + <usize>i * ldc, init);
    return;
  }
  // Scalar build: a row of C at a time, axpy over B's contiguous rows (each element still sums its
  // terms from init in order of p).
  for (; i < m; i++) {
    const cr = c + <usize>i * ldc, ar = a + <usize>i * ai;
    for (let j = 0; j < n; j++) store<f32>(cr + (<usize>j << 2), init ? load<f32>(init + (<usize>j << 2)) : 0);
    for (let p = 0; p < k; p++) {
      const s = load<f32>(ar + <usize>p * ap);
      const br = b + <usize>p * bp;
      for (let j = 0; j < n; j++) {
        const at = cr + (<usize>j << 2);
        store<f32>(at, load<f32>(at) + s * load<f32>(br + (<usize>j << 2)));
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// dx = dy W^T. W^T is written first into dw's memory (the same size, overwritten by dW right
// after), so dx runs through the same blocked product as the forward pass, with no scratch.

// t (cols x rows) = s^T (s rows x cols): 4 x 4 blocks by two rounds of shuffles, scalar edges.
function transposeF32(s: usize, rows: i32, cols: i32, t: usize): void {
  const ls = <usize>cols << 2, lt = <usize>rows << 2;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= rows; i += 4) {
      let j = 0;
      for (; j + 4 <= cols; j += 4) {
        const p = s + <usize>i * ls + (<usize>j << 2);
        const r0 = v128.load(p), r1 = v128.load(p + ls), r2 = v128.load(p + (ls << 1)), r3 = v128.load(p + ls * 3);
        const a = i32x4.shuffle(r0, r1, 0, 4, 1, 5), b = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
        const c = i32x4.shuffle(r2, r3, 0, 4, 1, 5), d = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
        const q = t + <usize>j * lt + (<usize>i << 2);
        v128.store(q, i32x4.shuffle(a, c, 0, 1, 4, 5));
        v128.store(q + lt, i32x4.shuffle(a, c, 2, 3, 6, 7));
        v128.store(q + (lt << 1), i32x4.shuffle(b, d, 0, 1, 4, 5));
        v128.store(q + lt * 3, i32x4.shuffle(b, d, 2, 3, 6, 7));
      }
      for (; j < cols; j++) {
        for (let k = i; k < i + 4; k++) {
          store<f32>(t + <usize>j * lt + (<usize>k << 2), load<f32>(s + <usize>k * ls + (<usize>j << 2)));
        }
      }
    }
  }
  for (; i < rows; i++) {
    for (let j = 0; j < cols; j++) store<f32>(t + <usize>j * lt + (<usize>i << 2), load<f32>(s + <usize>i * ls + (<usize>j << 2)));
  }
}

// db[o] = sum over rows of dy[r][o], in order of r.
function colSumsF32(dy: usize, rows: i32, n: i32, db: usize): void {
  const ld = <usize>n << 2;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    for (; j + 8 <= n; j += 8) {
      let s0 = f32x4.splat(0), s1 = s0;
      let p = dy + (<usize>j << 2);
      for (let r = 0; r < rows; r++) {
        s0 = f32x4.add(s0, v128.load(p));
        s1 = f32x4.add(s1, v128.load(p, 16));
        p += ld;
      }
      v128.store(db + (<usize>j << 2), s0);
      v128.store(db + (<usize>j << 2), s1, 16);
    }
    for (; j < n; j += 4) {
      const t = n - j;
      let s = f32x4.splat(0);
      let p = dy + (<usize>j << 2);
      for (let r = 0; r < rows; r++) {
        s = f32x4.add(s, loadPart(p, t));
        p += ld;
      }
      storePart(db + (<usize>j << 2), s, t);
    }
    return;
  }
  for (; j < n; j++) store<f32>(db + (<usize>j << 2), 0);
  for (let r = 0; r < rows; r++) {
    const row = dy + <usize>r * ld;
    for (j = 0; j < n; j++) {
      const at = db + (<usize>j << 2);
      store<f32>(at, load<f32>(at) + load<f32>(row + (<usize>j << 2)));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The layer. x: rows x inputs, w: inputs x outputs, b: outputs (0: no bias), y: rows x outputs.

export function dense_forward_f32(x: usize, w: usize, b: usize, y: usize, rows: i32, inputs: i32, outputs: i32): void {
  const ldx = <usize>inputs << 2, ldy = <usize>outputs << 2;
  gemmF32(x, ldx, 4, w, ldy, rows, outputs, inputs, y, ldy, b);
}

// dw = x^T dy (inputs x outputs), db = column sums of dy (0: skipped), dx = dy W^T (0: skipped).
export function dense_backward_f32(
  x: usize, w: usize, dy: usize, dx: usize, dw: usize, db: usize, rows: i32, inputs: i32, outputs: i32,
): void {
  const ldx = <usize>inputs << 2, ldy = <usize>outputs << 2;
  if (dx) {
    // dw holds W^T (outputs x inputs) until dW overwrites it.
    transposeF32(w, inputs, outputs, dw);
    gemmF32(dy, ldy, 4, dw, ldx, rows, inputs, outputs, dx, ldx, 0);
  }
  // A(i, p) = x[p][i]: x transposed by swapping the strides.
  gemmF32(x, 4, ldx, dy, ldy, inputs, outputs, rows, dw, ldy, 0);
  if (db) colSumsF32(dy, rows, outputs, db);
}

// The two halves of dense_backward_f32 apart, for fit in workers (src/shardrunner.ts): dx of some
// of a batch's rows (t: inputs x outputs floats of scratch for W^T), and rows [lo, hi) of dW (with
// db when db is not 0) over all its rows. Every element of dW is the same sum in the same order as
// in dense_backward_f32, wherever the slice starts, so threads that split dW by rows give its bits.
export function dense_backward_dx_f32(w: usize, dy: usize, dx: usize, t: usize, rows: i32, inputs: i32, outputs: i32): void {
  const ldx = <usize>inputs << 2, ldy = <usize>outputs << 2;
  transposeF32(w, inputs, outputs, t);
  gemmF32(dy, ldy, 4, t, ldx, rows, inputs, outputs, dx, ldx, 0);
}

export function dense_backward_dw_f32(
  x: usize, dy: usize, dw: usize, db: usize, rows: i32, inputs: i32, outputs: i32, lo: i32, hi: i32,
): void {
  const ldx = <usize>inputs << 2, ldy = <usize>outputs << 2;
  if (hi > lo) gemmF32(x + (<usize>lo << 2), 4, ldx, dy, ldy, hi - lo, outputs, rows, dw + <usize>lo * ldy, ldy, 0);
  if (db) colSumsF32(dy, rows, outputs, db);
}

// ---------------------------------------------------------------------------------------------
// Activations, elementwise over n floats; y may be x (and dx may be dy).

// y = max(x, 0); NaN stays NaN (pmax(x, 0) is x < 0 ? 0 : x, one maxps).
export function relu_f32(x: usize, y: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const zero = f32x4.splat(0);
    for (; i + 8 <= n; i += 8) {
      const at = <usize>i << 2;
      v128.store(y + at, f32x4.pmax(v128.load(x + at), zero));
      v128.store(y + at, f32x4.pmax(v128.load(x + at, 16), zero), 16);
    }
    for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), f32x4.pmax(v128.load(x + (<usize>i << 2)), zero));
  }
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    store<f32>(y + (<usize>i << 2), v < 0 ? 0 : v);
  }
}

// dx = dy where y > 0, else 0 (y: the forward output).
export function relu_backward_f32(y: usize, dy: usize, dx: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const zero = f32x4.splat(0);
    for (; i + 8 <= n; i += 8) {
      const at = <usize>i << 2;
      v128.store(dx + at, v128.and(v128.load(dy + at), f32x4.gt(v128.load(y + at), zero)));
      v128.store(dx + at, v128.and(v128.load(dy + at, 16), f32x4.gt(v128.load(y + at, 16), zero)), 16);
    }
    for (; i + 4 <= n; i += 4) {
      const at = <usize>i << 2;
      v128.store(dx + at, v128.and(v128.load(dy + at), f32x4.gt(v128.load(y + at), zero)));
    }
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    store<f32>(dx + at, load<f32>(y + at) > 0 ? load<f32>(dy + at) : 0);
  }
}

// tanh of four lanes: odd, so computed on |x| with x's sign put back. +-inf give +-1 (the exp
// overflows to inf), NaN stays NaN (it fails |x| >= 0.625 and goes through the polynomial).
// max error: 1.33 ulp (at x = 0.62830955, just past the switch; every float32 with 0 <= x < 10,
// against Math.tanh; beyond 10 the result is exactly 1, as is tanh rounded to float32)
// @ts-ignore: decorator
@inline function tanhf4(x: v128): v128 {
  const ax = v128.and(x, v128.load32_splat(ABS));
  const one = v128.load32_splat(ONE);
  const e = expf4(f32x4.add(ax, ax));
  const big = f32x4.sub(one, f32x4.div(v128.load32_splat(TWO), f32x4.add(e, one)));
  const z = f32x4.mul(ax, ax);
  let p = madd(v128.load32_splat(t1), v128.load32_splat(t0), z);
  p = madd(v128.load32_splat(t2), p, z);
  p = madd(v128.load32_splat(t3), p, z);
  p = madd(v128.load32_splat(t4), p, z);
  const small = madd(ax, f32x4.mul(p, z), ax);
  const t = v128.bitselect(big, small, f32x4.ge(ax, v128.load32_splat(SMALL)));
  return v128.or(t, v128.xor(x, ax));
}

export function tanh_f32(x: usize, y: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 8 <= n; i += 8) {
      const at = <usize>i << 2;
      const u = tanhf4(v128.load(x + at)), v = tanhf4(v128.load(x + at, 16));
      v128.store(y + at, u);
      v128.store(y + at, v, 16);
    }
    for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), tanhf4(v128.load(x + (<usize>i << 2))));
    // The last 1-3 as one zero-padded vector: every element through the same formula.
    if (i < n) {
      storePart(y + (<usize>i << 2), tanhf4(loadPart(x + (<usize>i << 2), n - i)), n - i);
      i = n;
    }
  }
  for (; i < n; i++) store<f32>(y + (<usize>i << 2), <f32>Math.tanh(<f64>load<f32>(x + (<usize>i << 2))));
}

// dx = dy (1 - y^2) (y: the forward output).
export function tanh_backward_f32(y: usize, dy: usize, dx: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const one = v128.load32_splat(ONE);
    for (; i + 8 <= n; i += 8) {
      const at = <usize>i << 2;
      const u = v128.load(y + at), v = v128.load(y + at, 16);
      v128.store(dx + at, f32x4.mul(v128.load(dy + at), f32x4.sub(one, f32x4.mul(u, u))));
      v128.store(dx + at, f32x4.mul(v128.load(dy + at, 16), f32x4.sub(one, f32x4.mul(v, v))), 16);
    }
    for (; i + 4 <= n; i += 4) {
      const at = <usize>i << 2;
      const u = v128.load(y + at);
      v128.store(dx + at, f32x4.mul(v128.load(dy + at), f32x4.sub(one, f32x4.mul(u, u))));
    }
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    const u = load<f32>(y + at);
    store<f32>(dx + at, load<f32>(dy + at) * (1 - u * u));
  }
}
