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
// softplus(t) = max(t, 0) + ln(1 + exp(-|t|)) and sigmoid from exp(-|t|): neither overflows.
function logistic(data: usize, tn: i32, d: i32, z: usize, gz: usize, lp: usize, n: i32): void {
  const stride = <usize>d << 3;
  const y = data + <usize>tn * stride;
  const ip = y + (<usize>tn << 3);
  let c: f64 = 0;
  for (let j = 0; j < d; j++) c += 0.5 * Math.log(load<f64>(ip + (<usize>j << 3))) - 0.5 * LN_2PI;
  for (let k = 0; k < n; k++) {
    const zk = z + <usize>k * stride, gk = gz + <usize>k * stride;
    let acc: f64 = 0;
    for (let j = 0; j < d; j++) {
      const o = <usize>j << 3;
      const zj = load<f64>(zk + o), pj = load<f64>(ip + o);
      acc -= 0.5 * pj * zj * zj;
      store<f64>(gk + o, -pj * zj);
    }
    for (let i = 0; i < tn; i++) {
      const xi = data + <usize>i * stride;
      const eta = dot(xi, zk, d);
      const yi = load<f64>(y + (<usize>i << 3));
      const e = Math.exp(-Math.abs(eta));
      const softplus = Math.max(eta, 0) + Math.log1p(e);
      const sig = eta >= 0 ? 1 / (1 + e) : e / (1 + e);
      acc += yi * eta - softplus;
      axpy(gk, xi, yi - sig, d);
    }
    store<f64>(lp + (<usize>k << 3), c + acc);
  }
}

// The non-centred hierarchical normal model (eight schools), tn groups, d = tn + 2,
// z = (mu, s = ln tau, theta~_1..theta~_tn); data = [y (tn), sigma (tn), mu's scale M, tau's scale A]:
//   mu ~ N(0, M^2), tau ~ HalfCauchy(0, A), theta~_j ~ N(0, 1), y_j ~ N(mu + tau theta~_j, sigma_j^2)
//   ln p = ln N(mu | 0, M^2) + ln(2 / (pi A)) - ln(1 + (tau / A)^2) + s
//          + sum_j [ln N(theta~_j | 0, 1) + ln N(y_j | mu + tau theta~_j, sigma_j^2)]
//   with r_j = (y_j - mu - tau theta~_j) / sigma_j^2:
//   d/dmu = -mu / M^2 + sum_j r_j;  d/ds = 1 - 2 tau^2 / (A^2 + tau^2) + tau sum_j r_j theta~_j;
//   d/dtheta~_j = -theta~_j + tau r_j
function hierarchical(data: usize, tn: i32, d: i32, z: usize, gz: usize, lp: usize, n: i32): void {
  const ys = data, sigmas = data + (<usize>tn << 3);
  const m = load<f64>(sigmas + (<usize>tn << 3)), a = load<f64>(sigmas + (<usize>tn << 3), 8);
  const stride = <usize>d << 3;
  // ln(2 / (pi A)) = ln 2 - ln pi - ln A
  const halfCauchy = Math.log(2 / (Math.PI * a));
  for (let k = 0; k < n; k++) {
    const zk = z + <usize>k * stride, gk = gz + <usize>k * stride;
    const mu = load<f64>(zk), s = load<f64>(zk, 8);
    const tau = Math.exp(s);
    const u = tau / a;
    let acc = -0.5 * LN_2PI - Math.log(m) - 0.5 * (mu / m) * (mu / m) + halfCauchy - Math.log1p(u * u) + s;
    let gmu = -mu / (m * m);
    let gs = 1 - (2 * u * u) / (1 + u * u);
    for (let j = 0; j < tn; j++) {
      const o = <usize>j << 3;
      const t = load<f64>(zk + o, 16);
      const sj = load<f64>(sigmas + o);
      const r = load<f64>(ys + o) - mu - tau * t;
      acc += -LN_2PI - 0.5 * t * t - Math.log(sj) - 0.5 * (r / sj) * (r / sj);
      const rs = r / (sj * sj);
      gmu += rs;
      gs += tau * rs * t;
      store<f64>(gk + o, -t + tau * rs, 16);
    }
    store<f64>(gk, gmu);
    store<f64>(gk, gs, 8);
    store<f64>(lp + (<usize>k << 3), acc);
  }
}

// n draws of target `kind` (T_*) with data `data` of size tn; work: d values.
export function vit_eval(
  kind: i32, data: usize, tn: i32, d: i32, z: usize, gz: usize, lp: usize, n: i32, work: usize,
): void {
  if (kind == T_GAUSSIAN) gaussian(data, d, z, gz, lp, n, work);
  else if (kind == T_LOGISTIC) logistic(data, tn, d, z, gz, lp, n);
  else hierarchical(data, tn, d, z, gz, lp, n);
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
