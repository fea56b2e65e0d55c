// Reductions: the 'sum' and 'mean' of a loss over its rows, and the finiteness and range checks
// of data and logits.
//   sum_f64      the reductions of crossEntropyWithLogits, klWithLogits, probabilityLossWithLogits
//   finite_f32   the models' check of their feature rows (predict, evaluate, fit)
//   bounded_f32  fit's divergence guard on the logits
//   add_f32      the sum of the shard gradients when fit trains in workers (src/pool.ts)

// Sum of n f64 values, four accumulators (several partial sums reduce rounding error and the
// dependency chain; Higham 1993, "The accuracy of floating point summation").
export function sum_f64(p: usize, n: i32): f64 {
  let a: f64 = 0, b: f64 = 0, c: f64 = 0, d: f64 = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const at = p + (<usize>i << 3);
    a += load<f64>(at);
    b += load<f64>(at, 8);
    c += load<f64>(at, 16);
    d += load<f64>(at, 24);
  }
  for (; i < n; i++) a += load<f64>(p + (<usize>i << 3));
  return (a + b) + (c + d);
}

// Whether all n float32 values at p are finite: x - x is +0 for finite x and NaN for an infinity
// or NaN, so the OR of the differences' bits is 0 exactly when every value is finite. OR has no
// rounding and a one-cycle dependency, so one accumulator keeps up with the loads.
export function finite_f32(p: usize, n: i32): bool {
  let i = 0;
  let bits: u32 = 0;
  if (ASC_FEATURE_SIMD) {
    let acc = i32x4.splat(0);
    for (; i + 16 <= n; i += 16) {
      const at = p + (<usize>i << 2);
      const a = v128.load(at), b = v128.load(at, 16), c = v128.load(at, 32), d = v128.load(at, 48);
      acc = v128.or(acc, v128.or(v128.or(f32x4.sub(a, a), f32x4.sub(b, b)), v128.or(f32x4.sub(c, c), f32x4.sub(d, d))));
    }
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(p + (<usize>i << 2));
      acc = v128.or(acc, f32x4.sub(v, v));
    }
    if (v128.any_true(acc)) return false;
  }
  for (; i < n; i++) {
    const x = load<f32>(p + (<usize>i << 2));
    bits |= reinterpret<u32>(x - x);
  }
  return bits == 0;
}

// Whether every one of the n float32 values at p has |x| < limit (NaN fails the compare). The
// divergence guard's test of logits: the lanes' verdicts AND-accumulate, one branch per call.
export function bounded_f32(p: usize, n: i32, limit: f32): bool {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const lim = f32x4.splat(limit);
    let ok = i32x4.splat(-1);
    for (; i + 16 <= n; i += 16) {
      const at = p + (<usize>i << 2);
      const a = f32x4.lt(f32x4.abs(v128.load(at)), lim), b = f32x4.lt(f32x4.abs(v128.load(at, 16)), lim);
      const c = f32x4.lt(f32x4.abs(v128.load(at, 32)), lim), d = f32x4.lt(f32x4.abs(v128.load(at, 48)), lim);
      ok = v128.and(ok, v128.and(v128.and(a, b), v128.and(c, d)));
    }
    for (; i + 4 <= n; i += 4) ok = v128.and(ok, f32x4.lt(f32x4.abs(v128.load(p + (<usize>i << 2))), lim));
    if (!i32x4.all_true(ok)) return false;
  }
  let good = true;
  for (; i < n; i++) good = good && abs(load<f32>(p + (<usize>i << 2))) < limit;
  return good;
}

// The index of the first maximum of the cols float32 values at p; NaN never wins (v > max is false
// for it), so a row of NaN gives 0, as src/data.ts's argmaxRow does. Selects, not branches: which
// class leads is data, and mispredicted branches cost more than the compares.
@inline function argmax_f32(p: usize, cols: i32): i32 {
  let best = 0;
  let max: f32 = -Infinity;
  for (let c = 0; c < cols; c++) {
    const v = load<f32>(p + (<usize>c << 2));
    const more = v > max;
    max = select<f32>(v, max, more);
    best = select<i32>(c, best, more);
  }
  return best;
}

// Accuracy counts of fit and evaluate: the rows of logits z (rows x cols) whose argmax is the
// class index y[r] (i32), or the argmax of the target row of probabilities p (rows x cols).
// A row's argmax is its label y when no class before y scores >= z[y] and none after it scores
// more: compares of every class against z[y], without argmax's chain of selects. A row whose z[y]
// is -Infinity or NaN takes argmax_f32 (NaN never wins there, and a row of -Infinity gives 0).
export function correct_index_f32(z: usize, y: usize, rows: i32, cols: i32): i32 {
  let n = 0;
  for (let r = 0; r < rows; r++) {
    const row = z + ((<usize>r * <usize>cols) << 2);
    const label = load<i32>(y + (<usize>r << 2));
    const zy = load<f32>(row + (<usize>label << 2));
    if (!(zy > -Infinity)) {
      if (argmax_f32(row, cols) == label) n++;
      continue;
    }
    let c = 0;
    let beaten = false;
    if (ASC_FEATURE_SIMD) {
      const t = f32x4.splat(zy);
      const lab = i32x4.splat(label);
      let idx = i32x4(0, 1, 2, 3);
      let acc = i32x4.splat(0);
      for (; c + 4 <= cols; c += 4) {
        const v = v128.load(row + (<usize>c << 2));
        acc = v128.or(acc, v128.bitselect(f32x4.ge(v, t), f32x4.gt(v, t), i32x4.lt_s(idx, lab)));
        idx = i32x4.add(idx, i32x4.splat(4));
      }
      beaten = v128.any_true(acc);
    }
    for (; c < cols; c++) {
      const v = load<f32>(row + (<usize>c << 2));
      beaten = beaten || (c < label ? v >= zy : v > zy);
    }
    if (!beaten) n++;
  }
  return n;
}

export function correct_probs_f32(z: usize, p: usize, rows: i32, cols: i32): i32 {
  let n = 0;
  for (let r = 0; r < rows; r++) {
    const at = (<usize>r * <usize>cols) << 2;
    if (argmax_f32(z + at, cols) == argmax_f32(p + at, cols)) n++;
  }
  return n;
}

// Copies the n float32 values at src to dst and returns whether all are finite (finite_f32's test
// on the values as they pass): fit's divergence guard keeps the parameters after each step and
// checks them in one pass.
export function copy_finite_f32(dst: usize, src: usize, n: i32): bool {
  let i = 0;
  let bits: u32 = 0;
  if (ASC_FEATURE_SIMD) {
    let acc = i32x4.splat(0);
    for (; i + 8 <= n; i += 8) {
      const at = <usize>i << 2;
      const a = v128.load(src + at), b = v128.load(src + at, 16);
      v128.store(dst + at, a);
      v128.store(dst + at, b, 16);
      acc = v128.or(acc, v128.or(f32x4.sub(a, a), f32x4.sub(b, b)));
    }
    for (; i + 4 <= n; i += 4) {
      const at = <usize>i << 2;
      const v = v128.load(src + at);
      v128.store(dst + at, v);
      acc = v128.or(acc, f32x4.sub(v, v));
    }
    if (v128.any_true(acc)) bits = 1;
  }
  for (; i < n; i++) {
    const x = load<f32>(src + (<usize>i << 2));
    store<f32>(dst + (<usize>i << 2), x);
    bits |= reinterpret<u32>(x - x);
  }
  return bits == 0;
}

// dst += src over n float32 values: one rounding per element, so SIMD and scalar give the same bits
// and a sum of arrays added in a fixed order is the same whatever computed them.
export function add_f32(dst: usize, src: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 8 <= n; i += 8) {
      const at = <usize>i << 2;
      v128.store(dst + at, f32x4.add(v128.load(dst + at), v128.load(src + at)));
      v128.store(dst + at, f32x4.add(v128.load(dst + at, 16), v128.load(src + at, 16)), 16);
    }
    for (; i + 4 <= n; i += 4) {
      const at = <usize>i << 2;
      v128.store(dst + at, f32x4.add(v128.load(dst + at), v128.load(src + at)));
    }
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    store<f32>(dst + at, load<f32>(dst + at) + load<f32>(src + at));
  }
}
