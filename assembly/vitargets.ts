// Built-in targets of variational inference: log densities with their analytic gradients, in
// float64, for n draws at once, so a run on them never leaves wasm. src/vitargets.ts checks and
// lays out their data; the formulas are in docs/variational-inference.md.
//
// Each evaluates n draws z (draw-major, d values each) into lp (n) and gz (n d). The sums over a
// data row use two accumulators (even and odd terms), in f64x2 lanes in the SIMD build and as two
// scalars in the scalar build, added in the same order: both builds give the same bits.

export const T_GAUSSIAN = 1;
export const T_LOGISTIC = 2;
export const T_HIERARCHICAL = 3;

// ln(2 pi) = 1.8378770664093453 (correctly rounded; see: mpmath log(2*pi))
const LN_2PI: f64 = 1.8378770664093453;

import { exp1d, exp2d } from "./math/exp";
import { log1d } from "./math/log";

// Sum of a[j] b[j] over j < n: even and odd terms apart, then added.
// @ts-ignore: decorator
@inline function dot(a: usize, b: usize, n: i32): f64 {
  let even: f64 = 0, odd: f64 = 0;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    let acc = f64x2.splat(0);
    for (; j + 2 <= n; j += 2) {
      const o = <usize>j << 3;
      acc = f64x2.add(acc, f64x2.mul(v128.load(a + o), v128.load(b + o)));
    }
    even = f64x2.extract_lane(acc, 0);
    odd = f64x2.extract_lane(acc, 1);
  } else {
    for (; j + 2 <= n; j += 2) {
      const o = <usize>j << 3;
      even += load<f64>(a + o) * load<f64>(b + o);
      odd += load<f64>(a + o, 8) * load<f64>(b + o, 8);
    }
  }
  if (j < n) even += load<f64>(a + (<usize>j << 3)) * load<f64>(b + (<usize>j << 3));
  return even + odd;
}

// y[j] += c x[j] for j < n (elementwise: the same bits in both builds).
// @ts-ignore: decorator
@inline function axpy(y: usize, x: usize, c: f64, n: i32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const vc = f64x2.splat(c);
    for (; j + 2 <= n; j += 2) {
      const o = <usize>j << 3;
      v128.store(y + o, f64x2.add(v128.load(y + o), f64x2.mul(vc, v128.load(x + o))));
    }
  }
  for (; j < n; j++) {
    const o = <usize>j << 3;
    store<f64>(y + o, load<f64>(y + o) + c * load<f64>(x + o));
  }
}

// Gaussian N(m, S), data = [m (d), the precision P = S^-1 (d x d), c = -(d/2) ln 2 pi - (1/2) ln det S]:
//   ln p(z) = c - (1/2) r^T P r,  grad = -P r,  r = z - m.  work: d values.
function gaussian(data: usize, d: i32, z: usize, gz: usize, lp: usize, n: i32, work: usize): void {
  const prec = data + (<usize>d << 3);
  const c = load<f64>(prec + (<usize>d * <usize>d << 3));
  const stride = <usize>d << 3;
  for (let k = 0; k < n; k++) {
    const zk = z + <usize>k * stride, gk = gz + <usize>k * stride;
    for (let i = 0; i < d; i++) {
      const o = <usize>i << 3;
      store<f64>(work + o, load<f64>(zk + o) - load<f64>(data + o));
    }
    let q: f64 = 0;
    for (let i = 0; i < d; i++) {
      const pr = dot(prec + <usize>i * stride, work, d);
      store<f64>(gk + (<usize>i << 3), -pr);
      q += load<f64>(work + (<usize>i << 3)) * pr;
    }
    store<f64>(lp + (<usize>k << 3), c - 0.5 * q);
  }
}

// Bayesian logistic regression, tn rows of d features x (row-major), labels y in {0, 1}, the prior
// z_j ~ N(0, s_j^2); data = [x (tn d), y (tn), 1 / s_j^2 (d)], and c = -sum_j ln(s_j sqrt(2 pi)):
//   ln p(y, z | x) = c - sum_j z_j^2 / (2 s_j^2) + sum_i (y_i eta_i - softplus(eta_i)),  eta = x z
//   grad_j = -z_j / s_j^2 + sum_i x_ij (y_i - sigmoid(eta_i))
// softplus(t) = max(t, 0) + ln(1 + e) and sigmoid(t) = (t >= 0 ? 1 : e) / (1 + e), e = exp(-|t|):
// neither overflows. Rows go two at a time (in f64x2 lanes in the SIMD build, as two scalars in
// the scalar build, with exp1d mirroring exp2d): the sum of ln(1 + e) over a block of rows is the
// log of the product of the (1 + e), each in [1, 2], one log per block of LOGISTIC_BLOCK row
// pairs (the product stays below 2^LOGISTIC_BLOCK), so a row costs one exp and one division.
const LOGISTIC_BLOCK = 512;

function logistic(data: usize, tn: i32, d: i32, z: usize, gz: usize, lp: usize, n: i32, work: usize): void {
  const stride = <usize>d << 3;
  const y = data + <usize>tn * stride;
  const ip = y + (<usize>tn << 3);
  let c: f64 = 0;
  for (let j = 0; j < d; j++) c += 0.5 * Math.log(load<f64>(ip + (<usize>j << 3))) - 0.5 * LN_2PI;
  for (let k = 0; k < n; k++) {
    const zk = z + <usize>k * stride, gk = gz + <usize>k * stride;
    let prior: f64 = 0;
    for (let j = 0; j < d; j++) {
      const o = <usize>j << 3;
      const zj = load<f64>(zk + o), pj = load<f64>(ip + o);
      prior -= 0.5 * pj * zj * zj;
      store<f64>(gk + o, -pj * zj);
    }
    store<f64>(lp + (<usize>k << 3), prior);
  }
  const terms = work; // two values
  if (ASC_FEATURE_SIMD) {
    // Two draws at a time share each row's loads; the last of an odd n is paired with itself, the
    // copy's gradient going to scratch (work + 2 values). Each draw's operations are the same either way.
    for (let k = 0; k < n; k += 2) {
      const zA = z + <usize>k * stride, gA = gz + <usize>k * stride;
      const two = k + 1 < n;
      const zB = two ? zA + stride : zA;
      const gB = two ? gA + stride : work + 16;
      if (!two) memory.copy(gB, gA, stride);
      logisticRows2(data, tn, d, y, zA, gA, zB, gB, terms);
      store<f64>(lp + (<usize>k << 3), c + (load<f64>(lp + (<usize>k << 3)) + load<f64>(terms)));
      if (two) store<f64>(lp + (<usize>(k + 1) << 3), c + (load<f64>(lp + (<usize>(k + 1) << 3)) + load<f64>(terms, 8)));
    }
  } else {
    for (let k = 0; k < n; k++) {
      const o = <usize>k << 3;
      const rows = logisticRows1(data, tn, d, y, z + <usize>k * stride, gz + <usize>k * stride);
      store<f64>(lp + o, c + (load<f64>(lp + o) + rows));
    }
  }
}

// The data terms of two draws A and B: sum_i (y_i eta_i - softplus(eta_i)) of each into out[0],
// out[1], and sum_i x_i (y_i - sigmoid(eta_i)) added to gA and gB.
function logisticRows2(
  data: usize, tn: i32, d: i32, y: usize, zA: usize, gA: usize, zB: usize, gB: usize, out: usize,
): void {
  const stride = <usize>d << 3;
  const pairs = tn >> 1;
  const zero = f64x2.splat(0), one = f64x2.splat(1);
  let linA0: f64 = 0, linA1: f64 = 0, logA0: f64 = 0, logA1: f64 = 0;
  let linB0: f64 = 0, linB1: f64 = 0, logB0: f64 = 0, logB1: f64 = 0;
  for (let b = 0; b < pairs; b += LOGISTIC_BLOCK) {
    const bend = min(pairs, b + LOGISTIC_BLOCK);
    let linA = zero, prodA = one, linB = zero, prodB = one;
    for (let p = b; p < bend; p++) {
      const x0 = data + <usize>(p << 1) * stride, x1 = x0 + stride;
      let a0 = zero, a1 = zero, b0 = zero, b1 = zero;
      let j = 0;
      for (; j + 2 <= d; j += 2) {
        const o = <usize>j << 3;
        const u0 = v128.load(x0 + o), u1 = v128.load(x1 + o);
        const za = v128.load(zA + o), zb = v128.load(zB + o);
        a0 = f64x2.add(a0, f64x2.mul(u0, za));
        a1 = f64x2.add(a1, f64x2.mul(u1, za));
        b0 = f64x2.add(b0, f64x2.mul(u0, zb));
        b1 = f64x2.add(b1, f64x2.mul(u1, zb));
      }
      let evenA = v128.shuffle<f64>(a0, a1, 0, 2), evenB = v128.shuffle<f64>(b0, b1, 0, 2);
      if (j < d) {
        const o = <usize>j << 3;
        const u = f64x2.replace_lane(f64x2.splat(load<f64>(x0 + o)), 1, load<f64>(x1 + o));
        evenA = f64x2.add(evenA, f64x2.mul(u, f64x2.splat(load<f64>(zA + o))));
        evenB = f64x2.add(evenB, f64x2.mul(u, f64x2.splat(load<f64>(zB + o))));
      }
      const etaA = f64x2.add(evenA, v128.shuffle<f64>(a0, a1, 1, 3));
      const etaB = f64x2.add(evenB, v128.shuffle<f64>(b0, b1, 1, 3));
      const yv = v128.load(y + (<usize>(p << 1) << 3));
      const eA = exp2d(f64x2.neg(f64x2.abs(etaA))), eB = exp2d(f64x2.neg(f64x2.abs(etaB)));
      const opA = f64x2.add(one, eA), opB = f64x2.add(one, eB);
      const rA = f64x2.sub(yv, f64x2.div(v128.bitselect(one, eA, f64x2.ge(etaA, zero)), opA));
      const rB = f64x2.sub(yv, f64x2.div(v128.bitselect(one, eB, f64x2.ge(etaB, zero)), opB));
      linA = f64x2.add(linA, f64x2.sub(f64x2.mul(yv, etaA), f64x2.max(etaA, zero)));
      linB = f64x2.add(linB, f64x2.sub(f64x2.mul(yv, etaB), f64x2.max(etaB, zero)));
      prodA = f64x2.mul(prodA, opA);
      prodB = f64x2.mul(prodB, opB);
      const rA0 = f64x2.splat(f64x2.extract_lane(rA, 0)), rA1 = f64x2.splat(f64x2.extract_lane(rA, 1));
      const rB0 = f64x2.splat(f64x2.extract_lane(rB, 0)), rB1 = f64x2.splat(f64x2.extract_lane(rB, 1));
      for (j = 0; j + 2 <= d; j += 2) {
        const o = <usize>j << 3;
        const u0 = v128.load(x0 + o), u1 = v128.load(x1 + o);
        v128.store(gA + o, f64x2.add(v128.load(gA + o), f64x2.add(f64x2.mul(rA0, u0), f64x2.mul(rA1, u1))));
        v128.store(gB + o, f64x2.add(v128.load(gB + o), f64x2.add(f64x2.mul(rB0, u0), f64x2.mul(rB1, u1))));
      }
      if (j < d) {
        const o = <usize>j << 3;
        const u0 = load<f64>(x0 + o), u1 = load<f64>(x1 + o);
        store<f64>(gA + o, load<f64>(gA + o) + (f64x2.extract_lane(rA, 0) * u0 + f64x2.extract_lane(rA, 1) * u1));
        store<f64>(gB + o, load<f64>(gB + o) + (f64x2.extract_lane(rB, 0) * u0 + f64x2.extract_lane(rB, 1) * u1));
      }
    }
    linA0 += f64x2.extract_lane(linA, 0);
    linA1 += f64x2.extract_lane(linA, 1);
    linB0 += f64x2.extract_lane(linB, 0);
    linB1 += f64x2.extract_lane(linB, 1);
    logA0 += log1d(f64x2.extract_lane(prodA, 0));
    logA1 += log1d(f64x2.extract_lane(prodA, 1));
    logB0 += log1d(f64x2.extract_lane(prodB, 0));
    logB1 += log1d(f64x2.extract_lane(prodB, 1));
  }
  if (tn & 1) {
    const xi = data + <usize>(tn - 1) * stride;
    const yi = load<f64>(y + (<usize>(tn - 1) << 3));
    let eta = dot(xi, zA, d);
    let e = exp1d(-Math.abs(eta));
    linA0 += yi * eta - Math.max(eta, 0);
    logA0 += log1d(1 + e);
    axpy(gA, xi, yi - (eta >= 0 ? 1 : e) / (1 + e), d);
    eta = dot(xi, zB, d);
    e = exp1d(-Math.abs(eta));
    linB0 += yi * eta - Math.max(eta, 0);
    logB0 += log1d(1 + e);
    axpy(gB, xi, yi - (eta >= 0 ? 1 : e) / (1 + e), d);
  }
  store<f64>(out, (linA0 + linA1) - (logA0 + logA1));
  store<f64>(out, (linB0 + linB1) - (logB0 + logB1), 8);
}

// logisticRows2's operations for one draw, one value at a time (the scalar build); returns the sum.
function logisticRows1(data: usize, tn: i32, d: i32, y: usize, zk: usize, gk: usize): f64 {
  const stride = <usize>d << 3;
  const pairs = tn >> 1;
  let lin0: f64 = 0, lin1: f64 = 0, log0: f64 = 0, log1: f64 = 0;
  for (let b = 0; b < pairs; b += LOGISTIC_BLOCK) {
    const bend = min(pairs, b + LOGISTIC_BLOCK);
    let l0: f64 = 0, l1: f64 = 0, prod0: f64 = 1, prod1: f64 = 1;
    for (let p = b; p < bend; p++) {
      const x0 = data + <usize>(p << 1) * stride, x1 = x0 + stride;
      let e0: f64 = 0, o0: f64 = 0, e1: f64 = 0, o1: f64 = 0;
      let j = 0;
      for (; j + 2 <= d; j += 2) {
        const o = <usize>j << 3;
        const za = load<f64>(zk + o), zb = load<f64>(zk + o, 8);
        e0 += load<f64>(x0 + o) * za;
        o0 += load<f64>(x0 + o, 8) * zb;
        e1 += load<f64>(x1 + o) * za;
        o1 += load<f64>(x1 + o, 8) * zb;
      }
      if (j < d) {
        const o = <usize>j << 3;
        const zj = load<f64>(zk + o);
        e0 += load<f64>(x0 + o) * zj;
        e1 += load<f64>(x1 + o) * zj;
      }
      const eta0 = e0 + o0, eta1 = e1 + o1;
      const y0 = load<f64>(y + (<usize>(p << 1) << 3)), y1 = load<f64>(y + (<usize>(p << 1) << 3), 8);
      const ex0 = exp1d(-Math.abs(eta0)), ex1 = exp1d(-Math.abs(eta1));
      const op0 = 1 + ex0, op1 = 1 + ex1;
      const r0 = y0 - (eta0 >= 0 ? 1 : ex0) / op0, r1 = y1 - (eta1 >= 0 ? 1 : ex1) / op1;
      l0 += y0 * eta0 - Math.max(eta0, 0);
      l1 += y1 * eta1 - Math.max(eta1, 0);
      prod0 *= op0;
      prod1 *= op1;
      for (j = 0; j < d; j++) {
        const o = <usize>j << 3;
        store<f64>(gk + o, load<f64>(gk + o) + (r0 * load<f64>(x0 + o) + r1 * load<f64>(x1 + o)));
      }
    }
    lin0 += l0;
    lin1 += l1;
    log0 += log1d(prod0);
    log1 += log1d(prod1);
  }
  if (tn & 1) {
    const xi = data + <usize>(tn - 1) * stride;
    const yi = load<f64>(y + (<usize>(tn - 1) << 3));
    const eta = dot(xi, zk, d);
    const e = exp1d(-Math.abs(eta));
    lin0 += yi * eta - Math.max(eta, 0);
    log0 += log1d(1 + e);
    axpy(gk, xi, yi - (eta >= 0 ? 1 : e) / (1 + e), d);
  }
  return (lin0 + lin1) - (log0 + log1);
}

// The non-centred hierarchical normal model (eight schools), tn groups, d = tn + 2,
// z = (mu, s = ln tau, theta~_1..theta~_tn); data = [y (tn), sigma (tn), mu's scale M, tau's scale A]:
//   mu ~ N(0, M^2), tau ~ HalfCauchy(0, A), theta~_j ~ N(0, 1), y_j ~ N(mu + tau theta~_j, sigma_j^2)
//   ln p = ln N(mu | 0, M^2) + ln(2 / (pi A)) - ln(1 + (tau / A)^2) + s
//          + sum_j [ln N(theta~_j | 0, 1) + ln N(y_j | mu + tau theta~_j, sigma_j^2)]
//   with r_j = (y_j - mu - tau theta~_j) / sigma_j^2:
//   d/dmu = -mu / M^2 + sum_j r_j;  d/ds = 1 - 2 tau^2 / (A^2 + tau^2) + tau sum_j r_j theta~_j;
//   d/dtheta~_j = -theta~_j + tau r_j
function hierarchical(data: usize, tn: i32, d: i32, z: usize, gz: usize, lp: usize, n: i32, work: usize): void {
  const ys = data, sigmas = data + (<usize>tn << 3);
  const m = load<f64>(sigmas + (<usize>tn << 3)), a = load<f64>(sigmas + (<usize>tn << 3), 8);
  const stride = <usize>d << 3;
  // What does not depend on z, once per call: ln(2 / (pi A)) - (1/2) ln 2 pi - ln M and
  // sum_j (-ln 2 pi - ln sigma_j), and 1 / sigma_j^2 into work (tn <= d values).
  const base = Math.log(2 / (Math.PI * a)) - 0.5 * LN_2PI - Math.log(m);
  let groups: f64 = 0;
  for (let j = 0; j < tn; j++) {
    const sj = load<f64>(sigmas + (<usize>j << 3));
    groups += -LN_2PI - Math.log(sj);
    store<f64>(work + (<usize>j << 3), 1 / (sj * sj));
  }
  const invM2 = 1 / (m * m);
  for (let k = 0; k < n; k++) {
    const zk = z + <usize>k * stride, gk = gz + <usize>k * stride;
    const mu = load<f64>(zk), s = load<f64>(zk, 8);
    const tau = Math.exp(s);
    const u = tau / a;
    let acc = base + groups - 0.5 * (mu * mu) * invM2 - Math.log1p(u * u) + s;
    let gmu = -mu * invM2;
    let gs = 1 - (2 * u * u) / (1 + u * u);
    for (let j = 0; j < tn; j++) {
      const o = <usize>j << 3;
      const t = load<f64>(zk + o, 16);
      const w = load<f64>(work + o);
      const r = load<f64>(ys + o) - mu - tau * t;
      const rs = r * w;
      acc -= 0.5 * (t * t + r * rs);
      gmu += rs;
      gs += tau * rs * t;
      store<f64>(gk + o, -t + tau * rs, 16);
    }
    store<f64>(gk, gmu);
    store<f64>(gk, gs, 8);
    store<f64>(lp + (<usize>k << 3), acc);
  }
}

// n draws of target `kind` (T_*) with data `data` of size tn; work: d + 2 values.
export function vit_eval(
  kind: i32, data: usize, tn: i32, d: i32, z: usize, gz: usize, lp: usize, n: i32, work: usize,
): void {
  if (kind == T_GAUSSIAN) gaussian(data, d, z, gz, lp, n, work);
  else if (kind == T_LOGISTIC) logistic(data, tn, d, z, gz, lp, n, work);
  else hierarchical(data, tn, d, z, gz, lp, n, work);
}

// Sets up a Gaussian target's data from its mean (already at data) and covariance S (d x d):
// the Cholesky factor C of S (into work, d x d), P = C^-T C^-1 and c. Returns -1, or the first
// pivot at which S is not positive definite.
export function vit_gaussian_setup(cov: usize, d: i32, data: usize, work: usize): i32 {
  const stride = <usize>d << 3;
  // Cholesky-Banachiewicz, row by row: C_ij = (S_ij - sum_{k<j} C_ik C_jk) / C_jj.
  memory.fill(work, 0, <usize>d * stride);
  let logDet: f64 = 0;
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = load<f64>(cov + <usize>i * stride + (<usize>j << 3));
      for (let k = 0; k < j; k++) {
        s -= load<f64>(work + <usize>i * stride + (<usize>k << 3)) * load<f64>(work + <usize>j * stride + (<usize>k << 3));
      }
      if (i == j) {
        if (!(s > 0) || !isFinite(s)) return i;
        const cii = Math.sqrt(s);
        store<f64>(work + <usize>i * stride + (<usize>i << 3), cii);
        logDet += 2 * Math.log(cii);
      } else {
        store<f64>(work + <usize>i * stride + (<usize>j << 3), s / load<f64>(work + <usize>j * stride + (<usize>j << 3)));
      }
    }
  }
  // P = C^-T C^-1, so P_ij = sum_k Cinv_ki Cinv_kj: the columns of Cinv (lower triangular, by
  // forward substitution) go to P's rows first, then their dot products to work, then back.
  const prec = data + stride;
  for (let j = 0; j < d; j++) {
    const col = prec + <usize>j * stride; // Cinv[:, j], entries i >= j
    for (let i = 0; i < d; i++) {
      if (i < j) {
        store<f64>(col + (<usize>i << 3), 0);
        continue;
      }
      let s: f64 = i == j ? 1 : 0;
      for (let k = j; k < i; k++) s -= load<f64>(work + <usize>i * stride + (<usize>k << 3)) * load<f64>(col + (<usize>k << 3));
      store<f64>(col + (<usize>i << 3), s / load<f64>(work + <usize>i * stride + (<usize>i << 3)));
    }
  }
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      const v = dot(prec + <usize>i * stride, prec + <usize>j * stride, d);
      store<f64>(work + <usize>i * stride + (<usize>j << 3), v);
      store<f64>(work + <usize>j * stride + (<usize>i << 3), v);
    }
  }
  memory.copy(prec, work, <usize>d * stride);
  store<f64>(prec + <usize>d * stride, -0.5 * <f64>d * LN_2PI - 0.5 * logDet);
  return -1;
}
