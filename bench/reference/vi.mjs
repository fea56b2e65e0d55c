// Variational inference in plain JavaScript, the baseline of the VI benchmark: a Gaussian q over
// R^dim fitted to an unnormalised log density by maximising the ELBO with reparameterised gradients
// and Adam, S draws per step. Written as a careful JavaScript programmer would: Float64Array
// storage, every buffer allocated once, the S draws of a step evaluated in one pass over the data.
//
// The loop (docs/variational-inference-reference.md, "The VI step"):
//   q = N(mu, L L^T). Mean-field: L = diag(exp(omega)). Full-rank: L lower triangular, its
//   diagonal exp(omega), its strictly lower entries free.
//   Per step, for s = 1..S: eps_s ~ N(0, I), z_s = mu + L eps_s, g_s = grad log p(z_s).
//   ELBO estimate: mean_s log p(z_s) + H(q), H(q) = dim/2 (1 + log 2 pi) + sum_j omega_j.
//   Gradient: d/dmu = mean_s g_s; d/dL_ij = mean_s g_s,i eps_s,j (j <= i, the lower triangle;
//   only the diagonal for mean-field); d/domega_j = exp(omega_j) d/dL_jj + 1 (the closed-form
//   entropy's gradient). With stl ("sticking the landing", Roeder, Wu and Duvenaud 2017) g_s
//   becomes grad log p(z_s) - grad_z log q(z_s) = g_s + L^-T eps_s and the entropy's 1 is dropped.
//   Adam (PyTorch's update) then ascends the ELBO over (mu, omega, strictly lower L).

import { mulberry32 } from "../harness.mjs";

const LOG_2PI = Math.log(2 * Math.PI);

/**
 * Standard normal draws from mulberry32(seed) by the Box-Muller transform (two per pair of
 * uniforms). fill(out) writes out.length draws.
 */
export function gaussianStream(seed) {
  const random = mulberry32(seed);
  let spare = 0;
  let hasSpare = false;
  return {
    fill(out) {
      for (let i = 0; i < out.length; i++) {
        if (hasSpare) {
          out[i] = spare;
          hasSpare = false;
          continue;
        }
        // 1 - random() is in (0, 1]: the log is finite.
        const r = Math.sqrt(-2 * Math.log(1 - random()));
        const t = 2 * Math.PI * random();
        out[i] = r * Math.cos(t);
        spare = r * Math.sin(t);
        hasSpare = true;
      }
      return out;
    },
  };
}

/**
 * The benchmark's synthetic logistic regression data: x (rows x features, row-major) standard
 * normal, a true coefficient vector standard normal, y_i ~ Bernoulli(sigmoid(x_i . beta_true)), all
 * from one mulberry32(seed) stream (normals by Box-Muller). Returns { x, y, rows, features, beta }.
 */
export function logisticData({ rows, features, seed }) {
  const gauss = gaussianStream(seed);
  const x = gauss.fill(new Float64Array(rows * features));
  const beta = gauss.fill(new Float64Array(features));
  const uniform = mulberry32(seed ^ 0x5bd1e995);
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let eta = 0;
    for (let j = 0; j < features; j++) eta += x[i * features + j] * beta[j];
    y[i] = uniform() < 1 / (1 + Math.exp(-eta)) ? 1 : 0;
  }
  return { x, y, rows, features, beta };
}

/**
 * Bayesian logistic regression, y_i ~ Bernoulli(sigmoid(x_i . z)), z_j ~ N(0, priorScale^2): the
 * normalised prior, so log p is log p(y, z). logDensityBatch(z, grad, out, draws) evaluates `draws`
 * points at once (z and grad draws x dim, row-major; out one value per draw) in one pass over the
 * rows, each row's features read once for every draw.
 */
export function logisticRegressionTarget({ x, y, priorScale = 1 }) {
  const rows = y.length;
  const dim = x.length / rows;
  const inv = 1 / (priorScale * priorScale);
  const priorConst = -dim * (Math.log(priorScale) + 0.5 * LOG_2PI);
  return {
    dim,
    logDensityBatch(z, grad, out, draws) {
      // Locals, not the closure's variables: once a second target exists V8 stops treating the
      // captured values as constants, and loads from the context in the inner loops cost ~30%.
      const xs = x,
        ys = y,
        n = rows,
        d = dim;
      for (let s = 0; s < draws; s++) {
        const o = s * d;
        let sq = 0;
        for (let j = 0; j < d; j++) {
          const zj = z[o + j];
          sq += zj * zj;
          grad[o + j] = -inv * zj;
        }
        out[s] = priorConst - 0.5 * inv * sq;
      }
      for (let i = 0; i < n; i++) {
        const xo = i * d;
        const yi = ys[i];
        for (let s = 0; s < draws; s++) {
          const o = s * d;
          let eta = 0;
          for (let j = 0; j < d; j++) eta += xs[xo + j] * z[o + j];
          // One exp for both softplus(eta) and sigmoid(eta), from e^-|eta| (no overflow).
          const e = Math.exp(-Math.abs(eta));
          const inv1e = 1 / (1 + e);
          out[s] += yi * eta - (eta > 0 ? eta : 0) - Math.log1p(e);
          const r = yi - (eta >= 0 ? inv1e : e * inv1e);
          for (let j = 0; j < d; j++) grad[o + j] += r * xs[xo + j];
        }
      }
    },
  };
}

/**
 * A Gaussian target N(mean, covariance) given by its precision (dim x dim, row-major): log p(z) =
 * -1/2 (z - m)^T P (z - m) + logNormaliser, logNormaliser defaulting to the normalised density's.
 */
export function gaussianTarget({ mean, precision, logNormaliser }) {
  const dim = mean.length;
  const d = new Float64Array(dim);
  let c = logNormaliser;
  if (c === undefined) c = 0.5 * logDetSpd(precision, dim) - 0.5 * dim * LOG_2PI;
  return {
    dim,
    logDensityBatch(z, grad, out, draws) {
      for (let s = 0; s < draws; s++) {
        const o = s * dim;
        for (let j = 0; j < dim; j++) d[j] = z[o + j] - mean[j];
        let quad = 0;
        for (let i = 0; i < dim; i++) {
          let g = 0;
          for (let j = 0; j < dim; j++) g += precision[i * dim + j] * d[j];
          grad[o + i] = -g;
          quad += d[i] * g;
        }
        out[s] = c - 0.5 * quad;
      }
    },
  };
}

/** log det of a symmetric positive definite matrix by Cholesky. */
export function logDetSpd(a, n) {
  const l = cholesky(a, n);
  let s = 0;
  for (let i = 0; i < n; i++) s += 2 * Math.log(l[i * n + i]);
  return s;
}

/** The lower Cholesky factor of a symmetric positive definite n x n matrix (row-major). */
export function cholesky(a, n) {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      if (i === j) {
        if (!(s > 0)) throw new RangeError(`cholesky: not positive definite at ${i}`);
        l[i * n + i] = Math.sqrt(s);
      } else {
        l[i * n + j] = s / l[j * n + j];
      }
    }
  }
  return l;
}

/**
 * The variational parameters of a Gaussian q: mu (dim), omega (dim, log of L's diagonal) and, for
 * full-rank, the strictly lower triangle of L row by row (dim (dim - 1) / 2 entries: L_10, L_20,
 * L_21, L_30, ...). Everything lives in one Float64Array `theta` in that order, so the optimiser
 * sees one vector. Starts at mu = initMean (0), omega = log(initScale) (0), the rest 0.
 */
export function gaussianParams({ dim, family, initMean, initScale = 1 }) {
  if (family !== "meanfield" && family !== "fullrank") throw new TypeError(`unknown family ${family}`);
  const lower = family === "fullrank" ? (dim * (dim - 1)) / 2 : 0;
  const theta = new Float64Array(2 * dim + lower);
  if (initMean) theta.set(initMean, 0);
  theta.fill(Math.log(initScale), dim, 2 * dim);
  return { dim, family, theta, size: theta.length };
}

/** L of the parameters as a dense dim x dim row-major lower-triangular matrix. */
export function choleskyOf(params) {
  const { dim, family, theta } = params;
  const l = new Float64Array(dim * dim);
  for (let j = 0; j < dim; j++) l[j * dim + j] = Math.exp(theta[dim + j]);
  if (family === "fullrank") {
    let k = 2 * dim;
    for (let i = 1; i < dim; i++) for (let j = 0; j < i; j++) l[i * dim + j] = theta[k++];
  }
  return l;
}

/** The mean, sd and covariance (row-major) of q. */
export function moments(params) {
  const { dim, theta } = params;
  const l = choleskyOf(params);
  const covariance = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k <= j; k++) s += l[i * dim + k] * l[j * dim + k];
      covariance[i * dim + j] = covariance[j * dim + i] = s;
    }
  }
  const sd = new Float64Array(dim);
  for (let i = 0; i < dim; i++) sd[i] = Math.sqrt(covariance[i * dim + i]);
  return { mean: theta.slice(0, dim), sd, covariance };
}

/**
 * The ELBO estimator and its gradient with respect to theta at given draws: eps is draws x dim
 * (row-major). Writes the gradient of the ELBO estimate (ascent direction) into gradOut (theta's
 * length) and returns the estimate. `work` (from elboWorkspace) holds the buffers. This is the
 * function the benchmark's step, the tests and the PyTorch comparison share.
 */
export function elboGradient(target, params, eps, draws, gradOut, work, { stl = false } = {}) {
  const { dim, family, theta } = params;
  const { z, g, lp, l, w } = work;
  const full = family === "fullrank";
  // L from theta (the diagonal through exp), and z = mu + L eps.
  for (let j = 0; j < dim; j++) l[j * dim + j] = Math.exp(theta[dim + j]);
  if (full) {
    let k = 2 * dim;
    for (let i = 1; i < dim; i++) for (let j = 0; j < i; j++) l[i * dim + j] = theta[k++];
  }
  for (let s = 0; s < draws; s++) {
    const o = s * dim;
    for (let i = 0; i < dim; i++) {
      let v = theta[i] + l[i * dim + i] * eps[o + i];
      if (full) for (let j = 0; j < i; j++) v += l[i * dim + j] * eps[o + j];
      z[o + i] = v;
    }
  }
  target.logDensityBatch(z, g, lp, draws);
  if (stl) addInverseTransposeTimes(l, eps, g, w, dim, draws, full);

  gradOut.fill(0);
  let mean = 0;
  const inv = 1 / draws;
  for (let s = 0; s < draws; s++) {
    const o = s * dim;
    mean += lp[s];
    for (let i = 0; i < dim; i++) {
      const gi = g[o + i];
      gradOut[i] += gi;
      // dL_ii, later through exp(omega_i).
      gradOut[dim + i] += gi * eps[o + i];
    }
    if (full) {
      let k = 2 * dim;
      for (let i = 1; i < dim; i++) {
        const gi = g[o + i];
        for (let j = 0; j < i; j++) gradOut[k++] += gi * eps[o + j];
      }
    }
  }
  let logDiag = 0;
  for (let i = 0; i < dim; i++) {
    gradOut[i] *= inv;
    gradOut[dim + i] = gradOut[dim + i] * inv * l[i * dim + i] + (stl ? 0 : 1);
    logDiag += theta[dim + i];
  }
  for (let k = 2 * dim; k < gradOut.length; k++) gradOut[k] *= inv;
  return mean * inv + 0.5 * dim * (1 + LOG_2PI) + logDiag;
}

/** g_s += L^-T eps_s for every draw: -grad_z log q(z_s), by back substitution. */
function addInverseTransposeTimes(l, eps, g, w, dim, draws, full) {
  for (let s = 0; s < draws; s++) {
    const o = s * dim;
    if (!full) {
      for (let i = 0; i < dim; i++) g[o + i] += eps[o + i] / l[i * dim + i];
      continue;
    }
    // Solve L^T w = eps from the last row up.
    for (let i = dim - 1; i >= 0; i--) {
      let v = eps[o + i];
      for (let k = i + 1; k < dim; k++) v -= l[k * dim + i] * w[k];
      w[i] = v / l[i * dim + i];
    }
    for (let i = 0; i < dim; i++) g[o + i] += w[i];
  }
}

/** The buffers elboGradient needs for `draws` draws of dimension `dim`. */
export function elboWorkspace(dim, draws) {
  return {
    z: new Float64Array(draws * dim),
    g: new Float64Array(draws * dim),
    lp: new Float64Array(draws),
    l: new Float64Array(dim * dim),
    w: new Float64Array(dim),
  };
}

/** Adam as torch.optim.Adam computes it (no weight decay), float64, descending `loss = -ELBO`. */
export class Adam64 {
  constructor(size, { learningRate = 1e-3, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8 } = {}) {
    Object.assign(this, { learningRate, beta1, beta2, epsilon });
    this.t = 0;
    this.m = new Float64Array(size);
    this.v = new Float64Array(size);
  }

  /** One step on p with the gradient of the loss (the negated ELBO gradient). */
  step(p, g) {
    const { beta1: b1, beta2: b2, epsilon: eps, m, v } = this;
    this.t++;
    const size = this.learningRate / (1 - b1 ** this.t);
    const bc2 = Math.sqrt(1 - b2 ** this.t);
    for (let i = 0; i < p.length; i++) {
      const gi = g[i];
      const mi = (m[i] = b1 * m[i] + (1 - b1) * gi);
      const vi = (v[i] = b2 * v[i] + (1 - b2) * gi * gi);
      p[i] -= (size * mi) / (Math.sqrt(vi) / bc2 + eps);
    }
  }
}

/**
 * A VI fit in plain JavaScript: target (dim, logDensityBatch), family, draws per step, Adam's
 * learning rate, the seed of the draws, stl. step() performs one step (draws, gradient, Adam) and
 * returns the step's ELBO estimate; run(n) performs n steps and returns the last estimate.
 */
export function jsVi(
  target,
  { family, draws = 8, learningRate = 0.01, seed = 1, stl = false, initMean, initScale },
) {
  const params = gaussianParams({ dim: target.dim, family, initMean, initScale });
  const dim = target.dim;
  const eps = new Float64Array(draws * dim);
  const grad = new Float64Array(params.size);
  const work = elboWorkspace(dim, draws);
  const gauss = gaussianStream(seed);
  const adam = new Adam64(params.size, { learningRate });
  const options = { stl };
  function step() {
    gauss.fill(eps);
    const elbo = elboGradient(target, params, eps, draws, grad, work, options);
    for (let i = 0; i < grad.length; i++) grad[i] = -grad[i];
    adam.step(params.theta, grad);
    return elbo;
  }
  return {
    params,
    adam,
    step,
    run(n) {
      let elbo = NaN;
      for (let i = 0; i < n; i++) elbo = step();
      return elbo;
    },
  };
}

/**
 * The VI benchmark's workload: Bayesian logistic regression on logisticData({ rows: 1000, features:
 * 20, seed: DATA_SEED }), prior scale 1, 8 draws per step, Adam at 0.01, both families.
 */
export const VI_WORKLOAD = {
  rows: 1000,
  features: 20,
  dataSeed: 0x51ab,
  priorScale: 1,
  draws: 8,
  learningRate: 0.01,
  drawSeed: 1,
  families: ["meanfield", "fullrank"],
};
