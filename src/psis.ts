// Pareto-smoothed importance sampling (Vehtari, Simpson, Gelman, Yao and Gabry, "Pareto smoothed
// importance sampling", arXiv:1507.02646): the generalized Pareto fit to the largest importance
// weights, whose shape k says whether the weights' variance is finite. As the `loo` R package and
// ArviZ's psislw compute it: the tail is the largest ceil(min(n / 5, 3 sqrt(n))) weights; the
// shape and scale come from Zhang and Stephens' (2009) empirical-Bayes estimator, then k is pulled
// toward 0.5 by the weakly informative prior (n k + 10 * 0.5) / (n + 10); the tail is replaced by
// the fitted quantiles, capped at the largest raw weight. docs/variational-inference.md has the
// steps and the reading of k. One-off diagnostics in float64 over a few thousand values: no
// kernel. test/psis.test.ts checks it against test/fixtures/generate_psis.py.

import { badOption, tooFewWeights } from "./errors.js";

export interface PsisResult {
  /** The generalized Pareto shape of the weights' tail (Infinity when the tail is too short to fit). */
  k: number;
  /** The smoothed log-weights, normalised so that their exponentials sum to 1. */
  logWeights: Float64Array;
}

// ln(smallest positive normal float64): a tail starting lower would underflow exp().
const LN_TINY = Math.log(2.2250738585072014e-308);
const EPS = 2.220446049250313e-16;

/** ln sum exp(x). */
function logSumExp(x: Float64Array): number {
  let max = -Infinity;
  for (const v of x) if (v > max) max = v;
  if (max === -Infinity) return -Infinity;
  let s = 0;
  for (const v of x) s += Math.exp(v - max);
  return max + Math.log(s);
}

/** Zhang and Stephens' estimate of (k, sigma) from sorted exceedances x (ascending, all > 0). */
export function gpdFit(x: Float64Array): { k: number; sigma: number } {
  const n = x.length;
  const m = 30 + Math.floor(Math.sqrt(n));
  const quartile = x[Math.floor(n / 4 + 0.5) - 1]!;
  const last = x[n - 1]!;
  const b = new Float64Array(m);
  const lik = new Float64Array(m);
  for (let j = 0; j < m; j++) {
    // The prior's grid of theta = b, as the published estimator places it (prior_bs = 3).
    b[j] = (1 - Math.sqrt(m / (j + 1 - 0.5))) / (3 * quartile) + 1 / last;
    let kj = 0;
    for (let i = 0; i < n; i++) kj += Math.log1p(-b[j]! * x[i]!);
    kj /= n;
    lik[j] = n * (Math.log(-(b[j]! / kj)) - kj - 1);
  }
  // Each grid point's posterior weight 1 / sum_l exp(lik_l - lik_j); negligible ones dropped.
  const w = new Float64Array(m);
  let total = 0;
  for (let j = 0; j < m; j++) {
    let s = 0;
    for (let l = 0; l < m; l++) s += Math.exp(lik[l]! - lik[j]!);
    w[j] = 1 / s;
  }
  for (let j = 0; j < m; j++) if (w[j]! >= 10 * EPS) total += w[j]!;
  let bPost = 0;
  for (let j = 0; j < m; j++) if (w[j]! >= 10 * EPS) bPost += b[j]! * (w[j]! / total);
  let k = 0;
  for (let i = 0; i < n; i++) k += Math.log1p(-bPost * x[i]!);
  k /= n;
  const sigma = -k / bPost;
  // The weakly informative prior on k: 10 pseudo-observations at 0.5.
  return { k: (n * k + 10 * 0.5) / (n + 10), sigma };
}

/** The generalized Pareto quantile at p in (0, 1). */
function gpInverse(p: number, k: number, sigma: number): number {
  if (Math.abs(k) < EPS) return -Math.log1p(-p) * sigma;
  return (Math.expm1(-k * Math.log1p(-p)) / k) * sigma;
}

/**
 * Pareto-smoothed importance sampling of the log-weights (ln p(x, z) - ln q(z) over draws of q):
 * the smoothed, normalised log-weights and the Pareto shape k. k < 0.5: the importance weights have
 * finite variance, and q is close to the posterior; 0.5 to 0.7: usable; above 0.7: do not trust
 * q (nor importance sampling with it).
 */
export function psis(logWeights: ArrayLike<number>): PsisResult {
  if (
    typeof logWeights !== "object" ||
    logWeights === null ||
    typeof (logWeights as { length?: unknown }).length !== "number"
  ) {
    throw badOption("logWeights", "an array of numbers", logWeights);
  }
  const n = logWeights.length;
  const x = new Float64Array(n);
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = logWeights[i];
    if (typeof v !== "number" || Number.isNaN(v) || v === Infinity) {
      throw badOption(`logWeights[${i}]`, "a number < Infinity", v);
    }
    x[i] = v;
    if (v > max) max = v;
  }
  if (n < 5 || max === -Infinity) throw tooFewWeights(n);
  for (let i = 0; i < n; i++) x[i] = x[i]! - max;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a]! - x[b]! || a - b);
  const tailLength = Math.ceil(Math.min(0.2 * n, 3 * Math.sqrt(n)));
  const cutoff = Math.max(x[order[n - tailLength - 1]!]!, LN_TINY);
  const expCutoff = Math.exp(cutoff);
  // The tail: every value above the cutoff, in ascending order.
  const tail: number[] = [];
  for (let r = 0; r < n; r++) if (x[order[r]!]! > cutoff) tail.push(order[r]!);
  let k = Infinity;
  if (tail.length > 4) {
    const ex = new Float64Array(tail.length);
    for (let r = 0; r < tail.length; r++) ex[r] = Math.exp(x[tail[r]!]!) - expCutoff;
    const fit = gpdFit(ex);
    k = fit.k;
    // A non-positive scale has no quantiles (ArviZ's would be NaN): the weights stay raw.
    if (Number.isFinite(k) && fit.sigma > 0) {
      for (let r = 0; r < tail.length; r++) {
        const smoothed = Math.log(gpInverse((r + 0.5) / tail.length, k, fit.sigma) + expCutoff);
        // Capped at the largest raw weight (0 after the shift).
        x[tail[r]!] = smoothed > 0 ? 0 : smoothed;
      }
    }
  }
  const norm = logSumExp(x);
  for (let i = 0; i < n; i++) x[i] = x[i]! - norm;
  return { k, logWeights: x };
}
