// The plain-JavaScript VI loop of bench/reference/vi.mjs, the baseline of the VI benchmark: its ELBO
// gradient at fixed draws against central finite differences of its own ELBO estimate (both
// families, both targets, and the "sticking the landing" variant against the differences of its
// surrogate), and its fits against closed forms on Gaussian targets (docs/variational-inference-
// reference.md, "Closed forms for a Gaussian target"). Fixed seeds: every run is the same run.
import { describe, expect, it } from "vitest";
import {
  Adam64,
  choleskyOf,
  elboGradient,
  elboWorkspace,
  gaussianParams,
  gaussianStream,
  gaussianTarget,
  jsVi,
  logDetSpd,
  logisticData,
  logisticRegressionTarget,
  moments,
  type BatchTarget,
  type Family,
  type GaussianParams,
} from "../bench/reference/vi.mjs";

const FAMILIES: Family[] = ["meanfield", "fullrank"];
const LOG_2PI = Math.log(2 * Math.PI);

/** A 4-D Gaussian with correlations up to 0.8 and sds from 0.5 to 3: mean, covariance, precision. */
function correlatedGaussian() {
  const sd = [0.5, 1, 2, 3];
  const corr = [
    [1, 0.8, 0.3, -0.2],
    [0.8, 1, 0.5, 0.1],
    [0.3, 0.5, 1, -0.4],
    [-0.2, 0.1, -0.4, 1],
  ];
  const d = sd.length;
  const cov = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) cov[i * d + j] = sd[i]! * sd[j]! * corr[i]![j]!;
  return { mean: Float64Array.from([1, -2, 0.5, 3]), cov, precision: invertSpd(cov, d), dim: d };
}

/** The inverse of a small symmetric positive definite matrix by Gauss-Jordan elimination. */
function invertSpd(a: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(a);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    const p = m[c * n + c]!;
    for (let j = 0; j < n; j++) {
      m[c * n + j]! /= p;
      inv[c * n + j]! /= p;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r * n + c]!;
      for (let j = 0; j < n; j++) {
        m[r * n + j]! -= f * m[c * n + j]!;
        inv[r * n + j]! -= f * inv[c * n + j]!;
      }
    }
  }
  return inv;
}

/** Parameters with every entry set from seeded normals scaled by `scale` (a generic point). */
function randomParams(dim: number, family: Family, seed: number, scale = 0.3): GaussianParams {
  const params = gaussianParams({ dim, family });
  gaussianStream(seed).fill(params.theta);
  for (let i = 0; i < params.theta.length; i++) params.theta[i]! *= scale;
  return params;
}

/** The ELBO estimate at fixed draws as a function of theta alone (no gradient wanted). */
function elboAt(target: BatchTarget, params: GaussianParams, eps: Float64Array, draws: number): number {
  const scratch = new Float64Array(params.size);
  return elboGradient(target, params, eps, draws, scratch, elboWorkspace(params.dim, draws));
}

/**
 * The STL surrogate at fixed draws: mean_s [log p(z_s) - log q0(z_s)], z_s = mu + L eps_s from
 * theta, q0 the Gaussian of theta0 held fixed. Its gradient at theta = theta0 is the STL estimate.
 */
function stlSurrogate(
  target: BatchTarget,
  params: GaussianParams,
  theta0: Float64Array,
  eps: Float64Array,
  draws: number,
): number {
  const { dim } = params;
  const l = choleskyOf(params);
  const l0 = choleskyOf({ ...params, theta: theta0 });
  const z = new Float64Array(draws * dim);
  for (let s = 0; s < draws; s++)
    for (let i = 0; i < dim; i++) {
      let v = params.theta[i]!;
      for (let j = 0; j <= i; j++) v += l[i * dim + j]! * eps[s * dim + j]!;
      z[s * dim + i] = v;
    }
  const lp = new Float64Array(draws);
  target.logDensityBatch(z, new Float64Array(draws * dim), lp, draws);
  let logDet0 = 0;
  for (let i = 0; i < dim; i++) logDet0 += Math.log(l0[i * dim + i]!);
  let total = 0;
  const w = new Float64Array(dim);
  for (let s = 0; s < draws; s++) {
    // w = L0^-1 (z - mu0) by forward substitution.
    let sq = 0;
    for (let i = 0; i < dim; i++) {
      let v = z[s * dim + i]! - theta0[i]!;
      for (let j = 0; j < i; j++) v -= l0[i * dim + j]! * w[j]!;
      w[i] = v / l0[i * dim + i]!;
      sq += w[i]! * w[i]!;
    }
    total += lp[s]! - (-0.5 * sq - logDet0 - 0.5 * dim * LOG_2PI);
  }
  return total / draws;
}

/** max_k |analytic_k - central difference_k| / (1 + |analytic_k|) over theta's entries. */
function finiteDifferenceError(
  params: GaussianParams,
  analytic: Float64Array,
  f: (p: GaussianParams) => number,
  h = 1e-5,
): number {
  let worst = 0;
  for (let k = 0; k < params.size; k++) {
    const plus = gaussianParams({ dim: params.dim, family: params.family });
    const minus = gaussianParams({ dim: params.dim, family: params.family });
    plus.theta.set(params.theta);
    minus.theta.set(params.theta);
    plus.theta[k]! += h;
    minus.theta[k]! -= h;
    const fd = (f(plus) - f(minus)) / (2 * h);
    worst = Math.max(worst, Math.abs(analytic[k]! - fd) / (1 + Math.abs(analytic[k]!)));
  }
  return worst;
}

const logistic = logisticData({ rows: 60, features: 5, seed: 17 });
const TARGETS: { name: string; target: BatchTarget }[] = [
  { name: "logistic regression 60x5", target: logisticRegressionTarget({ x: logistic.x, y: logistic.y }) },
  {
    name: "correlated Gaussian 4-D",
    target: gaussianTarget({ mean: correlatedGaussian().mean, precision: correlatedGaussian().precision }),
  },
];

describe("the JavaScript VI reference: gradient", () => {
  for (const { name, target } of TARGETS) {
    for (const family of FAMILIES) {
      it(`${name}, ${family}: the ELBO gradient equals central differences of the estimate`, () => {
        const draws = 5;
        for (const seed of [1, 2, 3]) {
          const params = randomParams(target.dim, family, seed);
          const eps = gaussianStream(100 + seed).fill(new Float64Array(draws * target.dim));
          const g = new Float64Array(params.size);
          elboGradient(target, params, eps, draws, g, elboWorkspace(target.dim, draws));
          // h = 1e-5: truncation h^2 f''' and rounding eps |f| / h both near 1e-9 here.
          const err = finiteDifferenceError(params, g, (p) => elboAt(target, p, eps, draws));
          expect(err, `seed ${seed}`).toBeLessThan(1e-6);
        }
      });

      it(`${name}, ${family}: the STL gradient equals central differences of its surrogate`, () => {
        const draws = 5;
        const params = randomParams(target.dim, family, 9);
        const eps = gaussianStream(42).fill(new Float64Array(draws * target.dim));
        const g = new Float64Array(params.size);
        elboGradient(target, params, eps, draws, g, elboWorkspace(target.dim, draws), { stl: true });
        const theta0 = params.theta.slice();
        const err = finiteDifferenceError(params, g, (p) => stlSurrogate(target, p, theta0, eps, draws));
        expect(err).toBeLessThan(1e-6);
        // And it differs from the standard estimate (the test above would pass a copy of it).
        const standard = new Float64Array(params.size);
        elboGradient(target, params, eps, draws, standard, elboWorkspace(target.dim, draws));
        expect(Math.max(...standard.map((v, i) => Math.abs(v - g[i]!)))).toBeGreaterThan(1e-3);
      });
    }
  }

  it("the ELBO estimate is mean log p + the closed-form entropy, exactly", () => {
    const { target } = TARGETS[1]!;
    const params = randomParams(target.dim, "fullrank", 4);
    const draws = 3;
    const eps = gaussianStream(5).fill(new Float64Array(draws * target.dim));
    const elbo = elboAt(target, params, eps, draws);
    // log p at z = mu + L eps, by hand, and the entropy d/2 (1 + log 2 pi) + log det L.
    const l = choleskyOf(params);
    const d = target.dim;
    let sum = 0;
    for (let s = 0; s < draws; s++) {
      const z = new Float64Array(d);
      for (let i = 0; i < d; i++) {
        z[i] = params.theta[i]!;
        for (let j = 0; j <= i; j++) z[i]! += l[i * d + j]! * eps[s * d + j]!;
      }
      const out = new Float64Array(1);
      target.logDensityBatch(z, new Float64Array(d), out, 1);
      sum += out[0]!;
    }
    let logDet = 0;
    for (let i = 0; i < d; i++) logDet += Math.log(l[i * d + i]!);
    expect(elbo).toBeCloseTo(sum / draws + 0.5 * d * (1 + LOG_2PI) + logDet, 12);
  });

  it("the logistic target's log density is the Bernoulli log likelihood plus the N(0, s^2) prior", () => {
    const target = logisticRegressionTarget({ x: logistic.x, y: logistic.y, priorScale: 2.5 });
    const z = gaussianStream(8).fill(new Float64Array(target.dim));
    const out = new Float64Array(1);
    target.logDensityBatch(z, new Float64Array(target.dim), out, 1);
    let expected = 0;
    for (let i = 0; i < logistic.rows; i++) {
      let eta = 0;
      for (let j = 0; j < target.dim; j++) eta += logistic.x[i * target.dim + j]! * z[j]!;
      const p = 1 / (1 + Math.exp(-eta));
      expected += logistic.y[i] === 1 ? Math.log(p) : Math.log(1 - p);
    }
    for (const zj of z) expected += -0.5 * (zj / 2.5) ** 2 - Math.log(2.5) - 0.5 * LOG_2PI;
    expect(out[0]).toBeCloseTo(expected, 10);
  });
});

/** Runs `fit` with Adam's rate lowered tenfold at each stage, then averages `average` more steps. */
function fitWithSchedule(
  target: BatchTarget,
  family: Family,
  { stl, stages, average }: { stl: boolean; stages: [number, number][]; average: number },
) {
  const vi = jsVi(target, { family, draws: 8, seed: 2024, stl, learningRate: stages[0]![0] });
  for (const [rate, steps] of stages) {
    vi.adam.learningRate = rate;
    vi.run(steps);
  }
  const mean = new Float64Array(target.dim);
  const sd = new Float64Array(target.dim);
  const cov = new Float64Array(target.dim * target.dim);
  const elbos: number[] = [];
  for (let k = 0; k < average; k++) {
    elbos.push(vi.step());
    const m = moments(vi.params);
    for (let i = 0; i < target.dim; i++) {
      mean[i]! += m.mean[i]! / average;
      sd[i]! += m.sd[i]! / average;
    }
    for (let i = 0; i < cov.length; i++) cov[i]! += m.covariance[i]! / average;
  }
  const elboMean = elbos.reduce((a, b) => a + b, 0) / average;
  const elboSd = Math.sqrt(elbos.reduce((a, b) => a + (b - elboMean) ** 2, 0) / (average - 1));
  return { mean, sd, cov, elboMean, elboSe: elboSd / Math.sqrt(average), vi };
}

describe("the JavaScript VI reference: fits against closed forms", () => {
  const g = correlatedGaussian();
  const target = gaussianTarget({ mean: g.mean, precision: g.precision });
  const d = g.dim;
  const stages: [number, number][] = [
    [0.05, 3000],
    [0.005, 2000],
    [0.0005, 2000],
  ];

  it("full-rank with STL recovers the target's mean and covariance (q = p is a fixed point)", () => {
    const r = fitWithSchedule(target, "fullrank", { stl: true, stages, average: 500 });
    for (let i = 0; i < d; i++) expect(Math.abs(r.mean[i]! - g.mean[i]!), `mean ${i}`).toBeLessThan(1e-3);
    for (let i = 0; i < d * d; i++) {
      const row = Math.floor(i / d),
        col = i % d;
      const scale = Math.sqrt(g.cov[row * (d + 1)]! * g.cov[col * (d + 1)]!);
      expect(Math.abs(r.cov[i]! - g.cov[i]!) / scale, `covariance ${i}`).toBeLessThan(2e-3);
    }
    // The estimates (mean log p + H(q)) average to log Z = 0 within 4 of their standard errors.
    expect(Math.abs(r.elboMean)).toBeLessThan(4 * r.elboSe);
  });

  it("full-rank with the standard estimator: mean, covariance and ELBO = log Z within the noise", () => {
    const r = fitWithSchedule(target, "fullrank", { stl: false, stages, average: 2000 });
    for (let i = 0; i < d; i++) {
      const sd = Math.sqrt(g.cov[i * (d + 1)]!);
      expect(Math.abs(r.mean[i]! - g.mean[i]!) / sd, `mean ${i}`).toBeLessThan(0.02);
      expect(Math.abs(r.sd[i]! / sd - 1), `sd ${i}`).toBeLessThan(0.03);
    }
    // The ELBO estimates average to log Z = 0 within 4 standard errors (their spread is measured).
    expect(Math.abs(r.elboMean)).toBeLessThan(4 * r.elboSe);
  });

  it("mean-field finds the target's mean, sds 1 / sqrt(Lambda_jj), and ELBO -KL(q* || p)", () => {
    const r = fitWithSchedule(target, "meanfield", { stl: false, stages, average: 2000 });
    let sumLogLambda = 0;
    for (let i = 0; i < d; i++) {
      const lambda = g.precision[i * (d + 1)]!;
      sumLogLambda += Math.log(lambda);
      const sdOpt = 1 / Math.sqrt(lambda);
      expect(Math.abs(r.mean[i]! - g.mean[i]!) / sdOpt, `mean ${i}`).toBeLessThan(0.02);
      expect(Math.abs(r.sd[i]! / sdOpt - 1), `sd ${i}`).toBeLessThan(0.03);
    }
    // KL(q* || p) = 1/2 (sum_j log Lambda_jj - log det Lambda) for the mean-field optimum.
    const gap = 0.5 * (sumLogLambda - logDetSpd(g.precision, d));
    expect(gap).toBeGreaterThan(0.3);
    expect(Math.abs(r.elboMean + gap)).toBeLessThan(4 * r.elboSe);
  });

  it("Adam64 takes torch.optim.Adam's first steps: lr * sign(g) on step one", () => {
    const adam = new Adam64(3, { learningRate: 0.1 });
    const p = Float64Array.from([1, 2, 3]);
    adam.step(p, Float64Array.from([0.5, -2, 1e-3]));
    // m_hat = g, v_hat = g^2 on the first step: p -= lr g / (|g| + 1e-8).
    expect(p[0]).toBeCloseTo(1 - 0.1 * (0.5 / (0.5 + 1e-8)), 14);
    expect(p[1]).toBeCloseTo(2 + 0.1 * (2 / (2 + 1e-8)), 14);
    expect(p[2]).toBeCloseTo(3 - 0.1 * (1e-3 / (1e-3 + 1e-8)), 14);
  });
});
