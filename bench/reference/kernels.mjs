// The pure-JavaScript side of the benchmark: the inputs, the idiomatic loops a caller would write
// (the baselines), and the float64 references every contender's value is compared with.
//
// Baselines: one copy of each loop per element type, as a caller would have it (a single function fed
// both Float32Array and Float64Array becomes polymorphic and slower than either copy), no validation.
//
// References: the inputs widened to float64 (so a float32 workload is judged on the very values its
// contenders received), every term in float64, summed with Neumaier's compensated summation (Higham,
// "Accuracy and Stability of Numerical Algorithms", 2nd ed., section 4.3): the sum's own error is
// then about one rounding, whatever n, and what remains is Math.log's (under 1 ulp in V8).

import { mulberry32 } from "../harness.mjs";

export { mulberry32 };

/** A Dirichlet-like distribution: uniform randoms, a fraction of them zero, normalised to sum 1. */
export function distribution(rand, n, zeroFraction) {
  const x = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    // 1 - rand() is in (0, 1]: no accidental zeros beyond the chosen ones.
    x[i] = rand() < zeroFraction ? 0 : 1 - rand();
    sum += x[i];
  }
  for (let i = 0; i < n; i++) x[i] /= sum;
  return x;
}

/** Logits uniform in [-4, 4) and class indices, for the cross-entropy workloads. */
export function logitsAndLabels(rand, rows, classes, Arr) {
  const z = Arr.from({ length: rows * classes }, () => (rand() - 0.5) * 8);
  const y = Int32Array.from({ length: rows }, () => Math.floor(rand() * classes));
  return { z, y };
}

/** |value - reference| / |reference|; 0 when equal, NaN when value is NaN. */
export function relativeError(value, reference) {
  if (value === reference) return 0;
  return Math.abs(value - reference) / Math.abs(reference);
}

// ---- the baselines ---------------------------------------------------------------------------

function klF32(p, q) {
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i] > 0) s += p[i] * Math.log(p[i] / q[i]);
  }
  return s;
}

function klF64(p, q) {
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i] > 0) s += p[i] * Math.log(p[i] / q[i]);
  }
  return s;
}

function entropyF32(p) {
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i] > 0) s -= p[i] * Math.log(p[i]);
  }
  return s;
}

function entropyF64(p) {
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i] > 0) s -= p[i] * Math.log(p[i]);
  }
  return s;
}

function jsDivergenceF32(p, q) {
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const m = (p[i] + q[i]) / 2;
    if (p[i] > 0) s += p[i] * Math.log(p[i] / m);
    if (q[i] > 0) s += q[i] * Math.log(q[i] / m);
  }
  return s / 2;
}

function jsDivergenceF64(p, q) {
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const m = (p[i] + q[i]) / 2;
    if (p[i] > 0) s += p[i] * Math.log(p[i] / m);
    if (q[i] > 0) s += q[i] * Math.log(q[i] / m);
  }
  return s / 2;
}

// The fused softmax cross-entropy with its gradient: per row a max pass, an exp pass storing the
// exponentials in the gradient buffer, then the scale; mean over rows.
function xentF32(z, y, rows, c, grad) {
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * c;
    let m = -Infinity;
    for (let j = 0; j < c; j++) if (z[o + j] > m) m = z[o + j];
    let s = 0;
    for (let j = 0; j < c; j++) {
      const e = Math.exp(z[o + j] - m);
      grad[o + j] = e;
      s += e;
    }
    total += m + Math.log(s) - z[o + y[r]];
    const k = 1 / (s * rows);
    for (let j = 0; j < c; j++) grad[o + j] *= k;
    grad[o + y[r]] -= 1 / rows;
  }
  return total / rows;
}

function xentF64(z, y, rows, c, grad) {
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * c;
    let m = -Infinity;
    for (let j = 0; j < c; j++) if (z[o + j] > m) m = z[o + j];
    let s = 0;
    for (let j = 0; j < c; j++) {
      const e = Math.exp(z[o + j] - m);
      grad[o + j] = e;
      s += e;
    }
    total += m + Math.log(s) - z[o + y[r]];
    const k = 1 / (s * rows);
    for (let j = 0; j < c; j++) grad[o + j] *= k;
    grad[o + y[r]] -= 1 / rows;
  }
  return total / rows;
}

/** The JavaScript loops by kernel and element type: js.kl.float32(p, q), js.xent.float64(z, y, rows, c, grad). */
export const js = {
  kl: { float32: klF32, float64: klF64 },
  entropy: { float32: entropyF32, float64: entropyF64 },
  jsDivergence: { float32: jsDivergenceF32, float64: jsDivergenceF64 },
  xent: { float32: xentF32, float64: xentF64 },
};

// ---- the float64 references ------------------------------------------------------------------

/** Neumaier's compensated sum: add(x) for every term, then value(). */
class Sum {
  s = 0;
  c = 0;
  add(x) {
    const t = this.s + x;
    this.c += Math.abs(this.s) >= Math.abs(x) ? this.s - t + x : x - t + this.s;
    this.s = t;
  }
  value() {
    return this.s + this.c;
  }
}

const wide = (x) => (x instanceof Float64Array ? x : Float64Array.from(x));

/** KL(p || q), rel_entr semantics: a p = 0 term is 0, whatever q. */
function refKl(p, q) {
  const a = wide(p),
    b = wide(q);
  const s = new Sum();
  for (let i = 0; i < a.length; i++) if (a[i] > 0) s.add(a[i] * Math.log(a[i] / b[i]));
  return s.value();
}

function refEntropy(p) {
  const a = wide(p);
  const s = new Sum();
  for (let i = 0; i < a.length; i++) if (a[i] > 0) s.add(-a[i] * Math.log(a[i]));
  return s.value();
}

function refJsDivergence(p, q) {
  const a = wide(p),
    b = wide(q);
  const s = new Sum();
  for (let i = 0; i < a.length; i++) {
    const m = (a[i] + b[i]) / 2;
    if (a[i] > 0) s.add(a[i] * Math.log(a[i] / m));
    if (b[i] > 0) s.add(b[i] * Math.log(b[i] / m));
  }
  return s.value() / 2;
}

/**
 * Softmax cross-entropy of class indices, mean over rows, and its gradient (Float64Array), in
 * float64 with compensated sums (the exponentials of a row, and the rows' losses).
 */
function refXent(z, y, rows, c) {
  const x = wide(z);
  const grad = new Float64Array(rows * c);
  const total = new Sum();
  for (let r = 0; r < rows; r++) {
    const o = r * c;
    let m = -Infinity;
    for (let j = 0; j < c; j++) m = Math.max(m, x[o + j]);
    const s = new Sum();
    for (let j = 0; j < c; j++) s.add(Math.exp(x[o + j] - m));
    const sum = s.value();
    total.add(m + Math.log(sum) - x[o + y[r]]);
    for (let j = 0; j < c; j++) grad[o + j] = Math.exp(x[o + j] - m) / sum / rows;
    grad[o + y[r]] -= 1 / rows;
  }
  return { loss: total.value() / rows, grad };
}

export const reference = { kl: refKl, entropy: refEntropy, jsDivergence: refJsDivergence, xent: refXent };

/** max |a[i] - b[i]| / max |b[i]|: a gradient's error against the reference's. */
export function arrayError(a, b) {
  let scale = 0,
    diff = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
  }
  return diff === 0 ? 0 : diff / scale;
}

/** The largest arrayError over pairs of arrays (parameters, gradients) a[i] against b[i]. */
export function largestDifference(a, b) {
  return Math.max(0, ...b.map((y, i) => arrayError(a[i], y)));
}
