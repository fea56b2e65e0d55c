// Optimiser update rules on float32 parameters, in place: SGD (momentum, Nesterov), Adam and AdamW,
// RMSprop (centered, momentum), Adagrad; and the sum of squares and scale of gradient clipping.
//   sgd(), adam(), rmsprop(), adagrad()  sgd_f32, adam_f32, rmsprop_f32, adagrad_f32; on float64
//                                        parameters (fitVI) optim_f64 (by OPT_*), which runs
//                                        sgd_f64, adam_f64, rmsprop_f64, adagrad_f64
//   clipGradNorm                         sumsq_f32, scale_f32
//
// Each rule is PyTorch's, as torch.optim's documentation writes it in pseudo-code, computed in
// float32 as PyTorch computes float32 parameters. Per element, with g the gradient:
//   sgd      g += wd p; b = g (first step) or mu b + (1 - dampening) g;
//            g = g + mu b (Nesterov) or b; p -= lr g
//   adam     g += wd p (Adam) or p *= 1 - lr wd (AdamW); m = b1 m + (1 - b1) g;
//            v = b2 v + (1 - b2) g g; p -= (lr / bc1) m / (sqrt(v) / sqrt(bc2) + eps)
//   rmsprop  g += wd p; v = a v + (1 - a) g g; c = a c + (1 - a) g (centered);
//            d = sqrt(v - c c) + eps (centered) or sqrt(v) + eps;
//            b = mu b + g / d, p -= lr b (momentum) or p -= lr g / d
//   adagrad  g += wd p; s += g g; p -= clr g / (sqrt(s) + eps)
// Step-dependent scalars (the bias corrections bc1 = 1 - b1^t and bc2 = 1 - b2^t, Adagrad's
// clr = lr / (1 + (t - 1) lr_decay), AdamW's 1 - lr wd) are computed once per step in float64 by
// src/optim.ts, as PyTorch computes them in Python floats, and arrive here as arguments.
// see: https://pytorch.org/docs/stable/optim.html (each algorithm's page), torch/optim/*.py
//
// Gradients are read, never written. Kernels trust their arguments: src/optim.ts validates them.
// The SIMD loops and the scalar tail do the same float32 operations in the same order (wasm has no
// fused multiply-add), so the SIMD and scalar builds give bit-identical parameters and state.
// The branches on options inside the loops test loop-invariant values; the loops are bound by the
// loads and stores of three to five arrays, not by those branches.

// ---------------------------------------------------------------------------------------------
// SGD

// Flags of sgd_f32.
export const SGD_NESTEROV: i32 = 1;
export const SGD_FIRST: i32 = 2; // the first step since the momentum buffer was created: b = g

// @ts-ignore: decorator
@inline function sgdVec(
  p: usize, g: usize, b: usize, o: usize, lr: v128, wd: v128, mu: v128, damp: v128, hasWd: bool,
  flags: i32,
): void {
  const vp = v128.load(p + o);
  let vg = v128.load(g + o);
  if (hasWd) vg = f32x4.add(vg, f32x4.mul(wd, vp));
  if (b) {
    let vb = vg;
    if (!(flags & SGD_FIRST)) vb = f32x4.add(f32x4.mul(mu, v128.load(b + o)), f32x4.mul(damp, vg));
    v128.store(b + o, vb);
    vg = flags & SGD_NESTEROV ? f32x4.add(vg, f32x4.mul(mu, vb)) : vb;
  }
  v128.store(p + o, f32x4.sub(vp, f32x4.mul(lr, vg)));
}

// n parameters p, gradients g, momentum buffer b (0: no momentum); lr the learning rate, wd the
// weight decay (0: none), mu the momentum, damp = 1 - dampening; flags SGD_*.
export function sgd_f32(
  p: usize, g: usize, b: usize, n: i32, lr64: f64, wd64: f64, mu64: f64, damp64: f64, flags: i32,
): void {
  const lr = <f32>lr64, wd = <f32>wd64, mu = <f32>mu64, damp = <f32>damp64;
  const hasWd = wd != 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vlr = f32x4.splat(lr), vwd = f32x4.splat(wd), vmu = f32x4.splat(mu), vdamp = f32x4.splat(damp);
    // Two vectors per iteration, then one.
    for (; i + 8 <= n; i += 8) {
      const o = <usize>i << 2;
      sgdVec(p, g, b, o, vlr, vwd, vmu, vdamp, hasWd, flags);
      sgdVec(p, g, b, o + 16, vlr, vwd, vmu, vdamp, hasWd, flags);
    }
    for (; i + 4 <= n; i += 4) sgdVec(p, g, b, <usize>i << 2, vlr, vwd, vmu, vdamp, hasWd, flags);
  }
  // Scalar tail (the whole array in the scalar build): the same operations on one lane.
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const vp = load<f32>(p + o);
    let vg = load<f32>(g + o);
    if (hasWd) vg = vg + wd * vp;
    if (b) {
      let vb = vg;
      if (!(flags & SGD_FIRST)) vb = mu * load<f32>(b + o) + damp * vg;
      store<f32>(b + o, vb);
      vg = flags & SGD_NESTEROV ? vg + mu * vb : vb;
    }
    store<f32>(p + o, vp - lr * vg);
  }
}

// ---------------------------------------------------------------------------------------------
// Adam and AdamW

// @ts-ignore: decorator
@inline function adamVec(
  p: usize, g: usize, m: usize, v: usize, o: usize, b1: v128, c1: v128, b2: v128, c2: v128,
  eps: v128, size: v128, bc2: v128, wd: v128, decay: v128, hasWd: bool, hasDecay: bool,
): void {
  let vp = v128.load(p + o);
  let vg = v128.load(g + o);
  if (hasDecay) vp = f32x4.mul(vp, decay);
  if (hasWd) vg = f32x4.add(vg, f32x4.mul(wd, vp));
  const vm = f32x4.add(f32x4.mul(b1, v128.load(m + o)), f32x4.mul(c1, vg));
  const vv = f32x4.add(f32x4.mul(b2, v128.load(v + o)), f32x4.mul(c2, f32x4.mul(vg, vg)));
  v128.store(m + o, vm);
  v128.store(v + o, vv);
  const d = f32x4.add(f32x4.div(f32x4.sqrt(vv), bc2), eps);
  v128.store(p + o, f32x4.sub(vp, f32x4.mul(size, f32x4.div(vm, d))));
}

// n parameters p, gradients g, first and second moments m and v; b1, b2 the betas; lr the rate and
// t the step (from 1), for the bias corrections; wd the coupled weight decay (Adam; 0: none) and
// decay = 1 - lr wd the decoupled one (AdamW; 1: none). The corrections' powers are computed here,
// not in JS: wasm's pow is the same code in every engine, Math.pow is each engine's own.
export function adam_f32(
  p: usize, g: usize, m: usize, v: usize, n: i32, b164: f64, b264: f64, eps64: f64, lr64: f64,
  t64: f64, wd64: f64, decay64: f64,
): void {
  const b1 = <f32>b164, c1 = <f32>(1 - b164), b2 = <f32>b264, c2 = <f32>(1 - b264);
  const size = <f32>(lr64 / (1 - Math.pow(b164, t64)));
  const bc2 = <f32>Math.sqrt(1 - Math.pow(b264, t64));
  const eps = <f32>eps64, wd = <f32>wd64, decay = <f32>decay64;
  const hasWd = wd != 0, hasDecay = decay != 1;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vb1 = f32x4.splat(b1), vc1 = f32x4.splat(c1), vb2 = f32x4.splat(b2), vc2 = f32x4.splat(c2);
    const veps = f32x4.splat(eps), vsize = f32x4.splat(size), vbc2 = f32x4.splat(bc2);
    const vwd = f32x4.splat(wd), vdecay = f32x4.splat(decay);
    for (; i + 8 <= n; i += 8) {
      const o = <usize>i << 2;
      adamVec(p, g, m, v, o, vb1, vc1, vb2, vc2, veps, vsize, vbc2, vwd, vdecay, hasWd, hasDecay);
      adamVec(p, g, m, v, o + 16, vb1, vc1, vb2, vc2, veps, vsize, vbc2, vwd, vdecay, hasWd, hasDecay);
    }
    for (; i + 4 <= n; i += 4) {
      adamVec(p, g, m, v, <usize>i << 2, vb1, vc1, vb2, vc2, veps, vsize, vbc2, vwd, vdecay, hasWd, hasDecay);
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    let vp = load<f32>(p + o);
    let vg = load<f32>(g + o);
    if (hasDecay) vp = vp * decay;
    if (hasWd) vg = vg + wd * vp;
    const vm = b1 * load<f32>(m + o) + c1 * vg;
    const vv = b2 * load<f32>(v + o) + c2 * (vg * vg);
    store<f32>(m + o, vm);
    store<f32>(v + o, vv);
    const d = sqrt<f32>(vv) / bc2 + eps;
    store<f32>(p + o, vp - size * (vm / d));
  }
}

// ---------------------------------------------------------------------------------------------
// RMSprop

// @ts-ignore: decorator
@inline function rmspropVec(
  p: usize, g: usize, v: usize, c: usize, b: usize, o: usize, lr: v128, a: v128, ca: v128, eps: v128,
  wd: v128, mu: v128, hasWd: bool,
): void {
  const vp = v128.load(p + o);
  let vg = v128.load(g + o);
  if (hasWd) vg = f32x4.add(vg, f32x4.mul(wd, vp));
  const vv = f32x4.add(f32x4.mul(a, v128.load(v + o)), f32x4.mul(ca, f32x4.mul(vg, vg)));
  v128.store(v + o, vv);
  let d: v128;
  if (c) {
    const vc = f32x4.add(f32x4.mul(a, v128.load(c + o)), f32x4.mul(ca, vg));
    v128.store(c + o, vc);
    d = f32x4.add(f32x4.sqrt(f32x4.sub(vv, f32x4.mul(vc, vc))), eps);
  } else {
    d = f32x4.add(f32x4.sqrt(vv), eps);
  }
  if (b) {
    const vb = f32x4.add(f32x4.mul(mu, v128.load(b + o)), f32x4.div(vg, d));
    v128.store(b + o, vb);
    v128.store(p + o, f32x4.sub(vp, f32x4.mul(lr, vb)));
  } else {
    v128.store(p + o, f32x4.sub(vp, f32x4.mul(lr, f32x4.div(vg, d))));
  }
}

// n parameters p, gradients g, square average v, gradient average c (0: not centered), momentum
// buffer b (0: no momentum); lr the learning rate, a the smoothing constant alpha, wd the weight
// decay (0: none), mu the momentum.
export function rmsprop_f32(
  p: usize, g: usize, v: usize, c: usize, b: usize, n: i32, lr64: f64, a64: f64, eps64: f64,
  wd64: f64, mu64: f64,
): void {
  const lr = <f32>lr64, a = <f32>a64, ca = <f32>(1 - a64), eps = <f32>eps64, wd = <f32>wd64;
  const mu = <f32>mu64;
  const hasWd = wd != 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vlr = f32x4.splat(lr), va = f32x4.splat(a), vca = f32x4.splat(ca), veps = f32x4.splat(eps);
    const vwd = f32x4.splat(wd), vmu = f32x4.splat(mu);
    for (; i + 8 <= n; i += 8) {
      const o = <usize>i << 2;
      rmspropVec(p, g, v, c, b, o, vlr, va, vca, veps, vwd, vmu, hasWd);
      rmspropVec(p, g, v, c, b, o + 16, vlr, va, vca, veps, vwd, vmu, hasWd);
    }
    for (; i + 4 <= n; i += 4) rmspropVec(p, g, v, c, b, <usize>i << 2, vlr, va, vca, veps, vwd, vmu, hasWd);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const vp = load<f32>(p + o);
    let vg = load<f32>(g + o);
    if (hasWd) vg = vg + wd * vp;
    const vv = a * load<f32>(v + o) + ca * (vg * vg);
    store<f32>(v + o, vv);
    let d: f32;
    if (c) {
      const vc = a * load<f32>(c + o) + ca * vg;
      store<f32>(c + o, vc);
      d = sqrt<f32>(vv - vc * vc) + eps;
    } else {
      d = sqrt<f32>(vv) + eps;
    }
    if (b) {
      const vb = mu * load<f32>(b + o) + vg / d;
      store<f32>(b + o, vb);
      store<f32>(p + o, vp - lr * vb);
    } else {
      store<f32>(p + o, vp - lr * (vg / d));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Adagrad

// @ts-ignore: decorator
@inline function adagradVec(
  p: usize, g: usize, s: usize, o: usize, clr: v128, eps: v128, wd: v128, hasWd: bool,
): void {
  const vp = v128.load(p + o);
  let vg = v128.load(g + o);
  if (hasWd) vg = f32x4.add(vg, f32x4.mul(wd, vp));
  const vs = f32x4.add(v128.load(s + o), f32x4.mul(vg, vg));
  v128.store(s + o, vs);
  v128.store(p + o, f32x4.sub(vp, f32x4.mul(clr, f32x4.div(vg, f32x4.add(f32x4.sqrt(vs), eps)))));
}

// n parameters p, gradients g, sum of squares s; clr = lr / (1 + (t - 1) lr_decay) at step t, wd
// the weight decay (0: none).
export function adagrad_f32(p: usize, g: usize, s: usize, n: i32, clr64: f64, eps64: f64, wd64: f64): void {
  const clr = <f32>clr64, eps = <f32>eps64, wd = <f32>wd64;
  const hasWd = wd != 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vclr = f32x4.splat(clr), veps = f32x4.splat(eps), vwd = f32x4.splat(wd);
    for (; i + 8 <= n; i += 8) {
      const o = <usize>i << 2;
      adagradVec(p, g, s, o, vclr, veps, vwd, hasWd);
      adagradVec(p, g, s, o + 16, vclr, veps, vwd, hasWd);
    }
    for (; i + 4 <= n; i += 4) adagradVec(p, g, s, <usize>i << 2, vclr, veps, vwd, hasWd);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const vp = load<f32>(p + o);
    let vg = load<f32>(g + o);
    if (hasWd) vg = vg + wd * vp;
    const vs = load<f32>(s + o) + vg * vg;
    store<f32>(s + o, vs);
    store<f32>(p + o, vp - clr * (vg / (sqrt<f32>(vs) + eps)));
  }
}

// ---------------------------------------------------------------------------------------------
// Gradient clipping by global norm

// Sum of x[i]^2 over n float32 values, in f64: the square of a float32 is exact in f64, and four
// accumulators (one per lane position) shorten the dependency chain and the rounding error
// (Higham 1993, "The accuracy of floating point summation"). The scalar build keeps the same four
// accumulators in the same order, so both builds return the same bits.
export function sumsq_f32(x: usize, n: i32): f64 {
  let a: f64 = 0, b: f64 = 0, c: f64 = 0, d: f64 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    let lo = f64x2.splat(0), hi = f64x2.splat(0);
    for (; i + 8 <= n; i += 8) {
      const v = v128.load(x + (<usize>i << 2));
      const w = v128.load(x + (<usize>i << 2), 16);
      const vl = f64x2.promote_low_f32x4(v), vh = f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1));
      const wl = f64x2.promote_low_f32x4(w), wh = f64x2.promote_low_f32x4(i32x4.shuffle(w, w, 2, 3, 0, 1));
      lo = f64x2.add(f64x2.add(lo, f64x2.mul(vl, vl)), f64x2.mul(wl, wl));
      hi = f64x2.add(f64x2.add(hi, f64x2.mul(vh, vh)), f64x2.mul(wh, wh));
    }
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(x + (<usize>i << 2));
      const vl = f64x2.promote_low_f32x4(v), vh = f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1));
      lo = f64x2.add(lo, f64x2.mul(vl, vl));
      hi = f64x2.add(hi, f64x2.mul(vh, vh));
    }
    a = f64x2.extract_lane(lo, 0);
    b = f64x2.extract_lane(lo, 1);
    c = f64x2.extract_lane(hi, 0);
    d = f64x2.extract_lane(hi, 1);
  } else {
    for (; i + 4 <= n; i += 4) {
      const at = x + (<usize>i << 2);
      const x0 = <f64>load<f32>(at), x1 = <f64>load<f32>(at, 4);
      const x2 = <f64>load<f32>(at, 8), x3 = <f64>load<f32>(at, 12);
      a += x0 * x0;
      b += x1 * x1;
      c += x2 * x2;
      d += x3 * x3;
    }
  }
  for (; i < n; i++) {
    const xi = <f64>load<f32>(x + (<usize>i << 2));
    a += xi * xi;
  }
  return (a + b) + (c + d);
}

// x[i] *= s for n float32 values.
export function scale_f32(x: usize, n: i32, s64: f64): void {
  const s = <f32>s64;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vs = f32x4.splat(s);
    for (; i + 8 <= n; i += 8) {
      const at = x + (<usize>i << 2);
      v128.store(at, f32x4.mul(v128.load(at), vs));
      v128.store(at, f32x4.mul(v128.load(at, 16), vs), 16);
    }
    for (; i + 4 <= n; i += 4) {
      const at = x + (<usize>i << 2);
      v128.store(at, f32x4.mul(v128.load(at), vs));
    }
  }
  for (; i < n; i++) {
    const at = x + (<usize>i << 2);
    store<f32>(at, load<f32>(at) * s);
  }
}

// ---------------------------------------------------------------------------------------------
// Float64 rules, for variational inference (assembly/vi.ts): the same PyTorch rules as above, on
// float64 parameters and state. Elementwise, so the f64x2 loop and the scalar tail do the same
// operations per element and both builds give the same bits. The step-dependent scalars are
// computed here from the step t, as adam_f32's are.

// Kinds of optim_f64, and the layout of its hyperparameters h (float64):
//   OPT_SGD      h = [wd, momentum, 1 - dampening, nesterov (0 or 1)]; state: momentum buffer if momentum > 0
//   OPT_ADAM     h = [beta1, beta2, eps, wd, decoupled (0 or 1)]; state: m, v
//   OPT_RMSPROP  h = [alpha, eps, wd, momentum, centered (0 or 1)]; state: v, then c (centered), then b (momentum)
//   OPT_ADAGRAD  h = [lr_decay, eps, wd]; state: the sum of squares
export const OPT_SGD: i32 = 1;
export const OPT_ADAM: i32 = 2;
export const OPT_RMSPROP: i32 = 3;
export const OPT_ADAGRAD: i32 = 4;

// n float64 parameters p, gradients g, momentum buffer b (0: none); as sgd_f32.
export function sgd_f64(
  p: usize, g: usize, b: usize, n: i32, lr: f64, wd: f64, mu: f64, damp: f64, flags: i32,
): void {
  const hasWd = wd != 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vlr = f64x2.splat(lr), vwd = f64x2.splat(wd), vmu = f64x2.splat(mu), vdamp = f64x2.splat(damp);
    for (; i + 2 <= n; i += 2) {
      const o = <usize>i << 3;
      const vp = v128.load(p + o);
      let vg = v128.load(g + o);
      if (hasWd) vg = f64x2.add(vg, f64x2.mul(vwd, vp));
      if (b) {
        let vb = vg;
        if (!(flags & SGD_FIRST)) vb = f64x2.add(f64x2.mul(vmu, v128.load(b + o)), f64x2.mul(vdamp, vg));
        v128.store(b + o, vb);
        vg = flags & SGD_NESTEROV ? f64x2.add(vg, f64x2.mul(vmu, vb)) : vb;
      }
      v128.store(p + o, f64x2.sub(vp, f64x2.mul(vlr, vg)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 3;
    const vp = load<f64>(p + o);
    let vg = load<f64>(g + o);
    if (hasWd) vg = vg + wd * vp;
    if (b) {
      let vb = vg;
      if (!(flags & SGD_FIRST)) vb = mu * load<f64>(b + o) + damp * vg;
      store<f64>(b + o, vb);
      vg = flags & SGD_NESTEROV ? vg + mu * vb : vb;
    }
    store<f64>(p + o, vp - lr * vg);
  }
}

// n float64 parameters, as adam_f32 (t the step from 1; decay = 1 - lr wd for AdamW, else 1).
export function adam_f64(
  p: usize, g: usize, m: usize, v: usize, n: i32, b1: f64, b2: f64, eps: f64, lr: f64, t: f64,
  wd: f64, decay: f64,
): void {
  const c1 = 1 - b1, c2 = 1 - b2;
  const size = lr / (1 - Math.pow(b1, t));
  const bc2 = Math.sqrt(1 - Math.pow(b2, t));
  const hasWd = wd != 0, hasDecay = decay != 1;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vb1 = f64x2.splat(b1), vc1 = f64x2.splat(c1), vb2 = f64x2.splat(b2), vc2 = f64x2.splat(c2);
    const veps = f64x2.splat(eps), vsize = f64x2.splat(size), vbc2 = f64x2.splat(bc2);
    const vwd = f64x2.splat(wd), vdecay = f64x2.splat(decay);
    for (; i + 2 <= n; i += 2) {
      const o = <usize>i << 3;
      let vp = v128.load(p + o);
      let vg = v128.load(g + o);
      if (hasDecay) vp = f64x2.mul(vp, vdecay);
      if (hasWd) vg = f64x2.add(vg, f64x2.mul(vwd, vp));
      const vm = f64x2.add(f64x2.mul(vb1, v128.load(m + o)), f64x2.mul(vc1, vg));
      const vv = f64x2.add(f64x2.mul(vb2, v128.load(v + o)), f64x2.mul(vc2, f64x2.mul(vg, vg)));
      v128.store(m + o, vm);
      v128.store(v + o, vv);
      const d = f64x2.add(f64x2.div(f64x2.sqrt(vv), vbc2), veps);
      v128.store(p + o, f64x2.sub(vp, f64x2.mul(vsize, f64x2.div(vm, d))));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 3;
    let vp = load<f64>(p + o);
    let vg = load<f64>(g + o);
    if (hasDecay) vp = vp * decay;
    if (hasWd) vg = vg + wd * vp;
    const vm = b1 * load<f64>(m + o) + c1 * vg;
    const vv = b2 * load<f64>(v + o) + c2 * (vg * vg);
    store<f64>(m + o, vm);
    store<f64>(v + o, vv);
    const d = Math.sqrt(vv) / bc2 + eps;
    store<f64>(p + o, vp - size * (vm / d));
  }
}

// n float64 parameters, as rmsprop_f32.
export function rmsprop_f64(
  p: usize, g: usize, v: usize, c: usize, b: usize, n: i32, lr: f64, a: f64, eps: f64, wd: f64,
  mu: f64,
): void {
  const ca = 1 - a;
  const hasWd = wd != 0;
  // One loop: the branches per element are loop-invariant, and RMSprop's float64 use here is a
  // few hundred parameters at most.
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 3;
    const vp = load<f64>(p + o);
    let vg = load<f64>(g + o);
    if (hasWd) vg = vg + wd * vp;
    const vv = a * load<f64>(v + o) + ca * (vg * vg);
    store<f64>(v + o, vv);
    let d: f64;
    if (c) {
      const vc = a * load<f64>(c + o) + ca * vg;
      store<f64>(c + o, vc);
      d = Math.sqrt(vv - vc * vc) + eps;
    } else {
      d = Math.sqrt(vv) + eps;
    }
    if (b) {
      const vb = mu * load<f64>(b + o) + vg / d;
      store<f64>(b + o, vb);
      store<f64>(p + o, vp - lr * vb);
    } else {
      store<f64>(p + o, vp - lr * (vg / d));
    }
  }
}

// n float64 parameters, as adagrad_f32.
export function adagrad_f64(p: usize, g: usize, s: usize, n: i32, clr: f64, eps: f64, wd: f64): void {
  const hasWd = wd != 0;
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 3;
    const vp = load<f64>(p + o);
    let vg = load<f64>(g + o);
    if (hasWd) vg = vg + wd * vp;
    const vs = load<f64>(s + o) + vg * vg;
    store<f64>(s + o, vs);
    store<f64>(p + o, vp - clr * (vg / (Math.sqrt(vs) + eps)));
  }
}

// One step of rule `kind` (OPT_*) with hyperparameters h on n float64 parameters p from gradients
// g; the state arrays follow one another from s, n values each; lr the rate, t the step from 1.
export function optim_f64(kind: i32, h: usize, p: usize, g: usize, s: usize, n: i32, lr: f64, t: f64): void {
  const bytes = <usize>n << 3;
  if (kind == OPT_SGD) {
    const mu = load<f64>(h, 8);
    const flags = (load<f64>(h, 24) != 0 ? SGD_NESTEROV : 0) | (t == 1 ? SGD_FIRST : 0);
    sgd_f64(p, g, mu > 0 ? s : 0, n, lr, load<f64>(h), mu, load<f64>(h, 16), flags);
  } else if (kind == OPT_ADAM) {
    const wd = load<f64>(h, 24);
    if (load<f64>(h, 32) != 0) {
      adam_f64(p, g, s, s + bytes, n, load<f64>(h), load<f64>(h, 8), load<f64>(h, 16), lr, t, 0, 1 - lr * wd);
    } else {
      adam_f64(p, g, s, s + bytes, n, load<f64>(h), load<f64>(h, 8), load<f64>(h, 16), lr, t, wd, 1);
    }
  } else if (kind == OPT_RMSPROP) {
    const mu = load<f64>(h, 24);
    const centered = load<f64>(h, 32) != 0;
    const c = centered ? s + bytes : 0;
    const b = mu > 0 ? s + (centered ? 2 : 1) * bytes : 0;
    rmsprop_f64(p, g, s, c, b, n, lr, load<f64>(h), load<f64>(h, 8), load<f64>(h, 16), mu);
  } else {
    adagrad_f64(p, g, s, n, lr / (1 + (t - 1) * load<f64>(h)), load<f64>(h, 8), load<f64>(h, 16));
  }
}
