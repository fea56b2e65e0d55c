// Pareto-smoothed importance sampling of n log-weights (Vehtari, Simpson, Gelman, Yao and Gabry,
// arXiv:1507.02646), in float64 with AssemblyScript's own log, exp, log1p, expm1 and sqrt, so k
// has the same bits in every engine. src/psis.ts validates the weights and sorts them (an exact
// comparison sort); docs/variational-inference.md has the algorithm, as the `loo` R package and
// ArviZ's psislw compute it. One-off diagnostics over a few thousand values: scalar loops.

// ln(smallest positive normal float64) = ln(2.2250738585072014e-308) = -708.3964185322641
// (see: mpmath log(2**-1022)): a tail starting lower would underflow exp().
const LN_TINY: f64 = -708.3964185322641;
// 2^-52 (see: IEEE 754 binary64 epsilon)
const EPS: f64 = 2.220446049250313e-16;

// Zhang and Stephens' (2009) empirical-Bayes estimate of the generalized Pareto (k, sigma) from
// n sorted exceedances x (ascending, > 0), then the weakly informative prior on k: 10
// pseudo-observations at 0.5. work: 3 m values, m = 30 + floor(sqrt(n)). Returns k; sigma to out.
function gpdFit(x: usize, n: i32, work: usize, sigmaOut: usize): f64 {
  const m = 30 + <i32>Math.floor(Math.sqrt(<f64>n));
  const quartile = load<f64>(x + (<usize>(<i32>Math.floor(<f64>n / 4 + 0.5) - 1) << 3));
  const last = load<f64>(x + (<usize>(n - 1) << 3));
  const b = work, lik = work + (<usize>m << 3), w = work + (<usize>(2 * m) << 3);
  for (let j = 0; j < m; j++) {
    const bj = (1 - Math.sqrt(<f64>m / (<f64>(j + 1) - 0.5))) / (3 * quartile) + 1 / last;
    store<f64>(b + (<usize>j << 3), bj);
    let kj: f64 = 0;
    for (let i = 0; i < n; i++) kj += Math.log1p(-bj * load<f64>(x + (<usize>i << 3)));
    kj /= <f64>n;
    store<f64>(lik + (<usize>j << 3), <f64>n * (Math.log(-(bj / kj)) - kj - 1));
  }
  // Each grid point's normalised likelihood 1 / sum_l exp(lik_l - lik_j); negligible ones dropped.
  let total: f64 = 0;
  for (let j = 0; j < m; j++) {
    const lj = load<f64>(lik + (<usize>j << 3));
    let s: f64 = 0;
    for (let l = 0; l < m; l++) s += Math.exp(load<f64>(lik + (<usize>l << 3)) - lj);
    const wj = 1 / s;
    store<f64>(w + (<usize>j << 3), wj);
    if (wj >= 10 * EPS) total += wj;
  }
  let bPost: f64 = 0;
  for (let j = 0; j < m; j++) {
    const wj = load<f64>(w + (<usize>j << 3));
    if (wj >= 10 * EPS) bPost += load<f64>(b + (<usize>j << 3)) * (wj / total);
  }
  let k: f64 = 0;
  for (let i = 0; i < n; i++) k += Math.log1p(-bPost * load<f64>(x + (<usize>i << 3)));
  k /= <f64>n;
  store<f64>(sigmaOut, -k / bPost);
  return (<f64>n * k + 10 * 0.5) / (<f64>(n + 10));
}

// The generalized Pareto quantile at p in (0, 1).
// @ts-ignore: decorator
@inline function gpInverse(p: f64, k: f64, sigma: f64): f64 {
  if (Math.abs(k) < EPS) return -Math.log1p(-p) * sigma;
  return (Math.expm1(-k * Math.log1p(-p)) / k) * sigma;
}

// The address of the value of rank r.
// @ts-ignore: decorator
@inline function rankAt(x: usize, order: usize, r: i32): usize {
  return x + (<usize>load<i32>(order + (<usize>r << 2)) << 3);
}

// PSIS of n log-weights x, in place: x becomes the smoothed log-weights, normalised (their
// exponentials sum to 1). order: the indices of x in ascending order of x (i32). work: n + 3 (30
// + sqrt(n)) + 1 values. Returns k (Infinity when the tail has 4 values or fewer). x's maximum
// must be finite.
export function psis_smooth(x: usize, n: i32, order: usize, work: usize): f64 {
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, load<f64>(x + (<usize>i << 3)));
  for (let i = 0; i < n; i++) store<f64>(x + (<usize>i << 3), load<f64>(x + (<usize>i << 3)) - max);
  const tailLength = <i32>Math.ceil(Math.min(0.2 * <f64>n, 3 * Math.sqrt(<f64>n)));
  const cutoff = Math.max(load<f64>(rankAt(x, order, n - tailLength - 1)), LN_TINY);
  const expCutoff = Math.exp(cutoff);
  // The tail: every value above the cutoff, the ranks from `first` up.
  let first = n;
  while (first > 0 && load<f64>(rankAt(x, order, first - 1)) > cutoff) first--;
  const len = n - first;
  let k = Infinity;
  if (len > 4) {
    const ex = work;
    for (let r = 0; r < len; r++) store<f64>(ex + (<usize>r << 3), Math.exp(load<f64>(rankAt(x, order, first + r))) - expCutoff);
    const sigmaAt = work + (<usize>len << 3);
    k = gpdFit(ex, len, sigmaAt + 8, sigmaAt);
    const sigma = load<f64>(sigmaAt);
    // A non-positive scale has no quantiles (ArviZ's would be NaN): the weights stay raw.
    if (isFinite(k) && sigma > 0) {
      for (let r = 0; r < len; r++) {
        const smoothed = Math.log(gpInverse((<f64>r + 0.5) / <f64>len, k, sigma) + expCutoff);
        // Capped at the largest raw weight (0 after the shift).
        store<f64>(rankAt(x, order, first + r), smoothed > 0 ? 0 : smoothed);
      }
    }
  }
  // Normalise: x -= ln sum exp(x).
  let top = -Infinity;
  for (let i = 0; i < n; i++) top = Math.max(top, load<f64>(x + (<usize>i << 3)));
  let s: f64 = 0;
  for (let i = 0; i < n; i++) s += Math.exp(load<f64>(x + (<usize>i << 3)) - top);
  const norm = top + Math.log(s);
  for (let i = 0; i < n; i++) store<f64>(x + (<usize>i << 3), load<f64>(x + (<usize>i << 3)) - norm);
  return k;
}
