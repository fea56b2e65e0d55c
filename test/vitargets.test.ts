// The built-in targets (assembly/vitargets.ts), in both builds: each log density against the same
// model written here in float64 JS, its analytic gradient against central finite differences at
// points swept across the domain (large |x . z| for the logistic model, tau from e^-8 to e^5 for
// the hierarchical one), fitVI on each equal to fitVI on the JS version, and their bad input.
import { describe, expect, it } from "vitest";
import {
  adam,
  cosineSchedule,
  createInstanceSync,
  targets,
  type BuiltinTarget,
  type Klcore,
  type VITarget,
} from "../dist/index.js";
import { rng } from "./helpers/fixtures.js";

const builds: [string, Klcore][] = [
  ["simd", createInstanceSync({ simd: true })],
  ["scalar", createInstanceSync({ simd: false })],
];
const LN_2PI = Math.log(2 * Math.PI);

// ---- the same models in JS ----

function gaussianJs(mean: number[], cov: number[][]): (z: ArrayLike<number>) => number {
  const d = mean.length;
  // Cholesky, then ln N via the whitened residual.
  const c = cov.map((r) => r.map(() => 0));
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = cov[i]![j]!;
      for (let k = 0; k < j; k++) s -= c[i]![k]! * c[j]![k]!;
      c[i]![j] = i === j ? Math.sqrt(s) : s / c[j]![j]!;
    }
  }
  let logDet = 0;
  for (let i = 0; i < d; i++) logDet += 2 * Math.log(c[i]![i]!);
  return (z) => {
    const u: number[] = [];
    for (let i = 0; i < d; i++) {
      let r = z[i]! - mean[i]!;
      for (let k = 0; k < i; k++) r -= c[i]![k]! * u[k]!;
      u.push(r / c[i]![i]!);
    }
    return -0.5 * d * LN_2PI - 0.5 * logDet - 0.5 * u.reduce((a, b) => a + b * b, 0);
  };
}

function logisticJs(x: number[][], y: number[], scale: number[]): (z: ArrayLike<number>) => number {
  return (z) => {
    let lp = 0;
    for (let j = 0; j < z.length; j++)
      lp += -0.5 * (z[j]! / scale[j]!) ** 2 - Math.log(scale[j]!) - 0.5 * LN_2PI;
    for (let i = 0; i < x.length; i++) {
      let eta = 0;
      for (let j = 0; j < z.length; j++) eta += x[i]![j]! * z[j]!;
      lp += y[i]! * eta - (Math.max(eta, 0) + Math.log1p(Math.exp(-Math.abs(eta))));
    }
    return lp;
  };
}

function schoolsJs(
  y: number[],
  sigma: number[],
  muScale = 5,
  tauScale = 5,
): (z: ArrayLike<number>) => number {
  const lnN = (v: number, m: number, s: number) => -0.5 * LN_2PI - Math.log(s) - 0.5 * ((v - m) / s) ** 2;
  return (z) => {
    const mu = z[0]!;
    const tau = Math.exp(z[1]!);
    let lp =
      lnN(mu, 0, muScale) + Math.log(2 / (Math.PI * tauScale)) - Math.log1p((tau / tauScale) ** 2) + z[1]!;
    for (let j = 0; j < y.length; j++)
      lp += lnN(z[2 + j]!, 0, 1) + lnN(y[j]!, mu + tau * z[2 + j]!, sigma[j]!);
    return lp;
  };
}

/** Central differences of f at z, h = 1e-5 max(1, |z_j|). */
function numericGradient(f: (z: ArrayLike<number>) => number, z: Float64Array): Float64Array {
  const g = new Float64Array(z.length);
  for (let j = 0; j < z.length; j++) {
    const h = 1e-5 * Math.max(1, Math.abs(z[j]!));
    const up = Float64Array.from(z);
    const down = Float64Array.from(z);
    up[j] = z[j]! + h;
    down[j] = z[j]! - h;
    g[j] = (f(up) - f(down)) / (up[j]! - down[j]!);
  }
  return g;
}

/** Checks the target's ln p against the JS model and its gradient against differences of it. */
function checkAt(t: BuiltinTarget, f: (z: ArrayLike<number>) => number, z: Float64Array): void {
  const grad = new Float64Array(t.dim);
  const lp = t.logDensity(z, grad);
  const want = f(z);
  expect(Math.abs(lp - want)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(want)));
  const num = numericGradient(f, z);
  let scale = 1;
  for (const v of num) scale = Math.max(scale, Math.abs(v));
  for (let j = 0; j < t.dim; j++) {
    // Central differences: O(h^2) truncation and eps |f| / h rounding, relative to the largest entry.
    expect(Math.abs(grad[j]! - num[j]!)).toBeLessThanOrEqual(2e-6 * scale + 1e-9 * Math.abs(want));
  }
}

/** A JS VITarget for the same model, with the analytic gradient from the built-in one. */
function jsTwin(f: (z: ArrayLike<number>) => number, dim: number): VITarget {
  return {
    dim,
    logDensity: (z, grad) => {
      const g = numericGradient(f, Float64Array.from(z));
      grad.set(g);
      return f(z);
    },
  };
}

const SCHOOLS_Y = [28, 8, -3, 7, -1, 1, 18, 12];
const SCHOOLS_SIGMA = [15, 10, 16, 11, 9, 11, 10, 18];

describe.each(builds)("built-in targets (%s)", (_, k) => {
  it("gaussian: ln p and gradient at points near and far (5-D, random SPD covariance)", () => {
    const r = rng(1);
    const d = 5;
    const a = Array.from({ length: d }, () => Array.from({ length: d }, () => r() - 0.5));
    const cov = a.map((_, i) =>
      a.map((_, j) => a[i]!.reduce((s, v, m) => s + v * a[j]![m]!, 0) + (i === j ? 0.1 : 0)),
    );
    const mean = Array.from({ length: d }, () => 10 * (r() - 0.5));
    const t = k.targets.gaussian({ mean, covariance: cov });
    const f = gaussianJs(mean, cov);
    for (const spread of [1e-3, 1, 100]) {
      for (let n = 0; n < 10; n++)
        checkAt(
          t,
          f,
          Float64Array.from(mean, (m) => m + spread * (r() - 0.5)),
        );
    }
  });

  it("logistic regression: ln p and gradient, from small to saturated |x . z| (up to 600)", () => {
    const r = rng(2);
    const rows = 60;
    const d = 4;
    const x = Array.from({ length: rows }, () => [
      1,
      ...Array.from({ length: d - 1 }, () => 4 * (r() - 0.5)),
    ]);
    const y = x.map(() => (r() < 0.5 ? 0 : 1));
    const scale = [10, 2, 2, 2];
    const t = k.targets.logisticRegression({ x, y, priorScale: scale });
    const f = logisticJs(x, y, scale);
    for (const spread of [1e-3, 1, 10, 300]) {
      for (let n = 0; n < 8; n++)
        checkAt(
          t,
          f,
          Float64Array.from({ length: d }, () => spread * (r() - 0.5)),
        );
    }
    // A flat x with dim, a single prior scale: the same target.
    const flat = k.targets.logisticRegression({ x: x.flat(), y, priorScale: 3, dim: d });
    const g3 = logisticJs(x, y, [3, 3, 3, 3]);
    checkAt(flat, g3, new Float64Array([0.3, -1, 2, 0.5]));
  });

  it("hierarchical normal (eight schools): ln p and gradient, tau from e^-8 to e^5", () => {
    const r = rng(3);
    const t = k.targets.hierarchicalNormal({ y: SCHOOLS_Y, sigma: SCHOOLS_SIGMA });
    expect(t.dim).toBe(10);
    const f = schoolsJs(SCHOOLS_Y, SCHOOLS_SIGMA);
    for (const s of [-8, -3, 0, 1.2, 3, 5]) {
      for (let n = 0; n < 5; n++) {
        const z = Float64Array.from({ length: 10 }, () => 3 * (r() - 0.5));
        z[0] = 20 * (r() - 0.5);
        z[1] = s;
        checkAt(t, f, z);
      }
    }
    const other = k.targets.hierarchicalNormal({ y: [1, 2, 3], sigma: [1, 2, 3], muScale: 2, tauScale: 0.5 });
    checkAt(other, schoolsJs([1, 2, 3], [1, 2, 3], 2, 0.5), new Float64Array([0.5, -0.3, 1, -1, 0.2]));
  });
});

describe("logistic regression: the same bits in both builds", () => {
  // Rows go two at a time and draws two at a time in the SIMD build (one row pair and one draw at
  // a time in the scalar build): odd and even row and feature counts, and 1 to 3 draws per step,
  // take every path, and must give the same bits as the scalar build.
  const [[, simd], [, scalar]] = builds as [[string, Klcore], [string, Klcore]];
  for (const [rows, d] of [
    [1, 1],
    [7, 3],
    [8, 4],
    [1025, 5],
    [9, 20],
  ] as const) {
    it(`${rows} rows x ${d} features`, async () => {
      const r = rng(rows * 31 + d);
      const x = Array.from({ length: rows }, () => Array.from({ length: d }, () => 6 * (r() - 0.5)));
      const y = x.map(() => (r() < 0.5 ? 0 : 1));
      const make = (k: Klcore) => k.targets.logisticRegression({ x, y, priorScale: 2 });
      const [ts, tc] = [make(simd), make(scalar)];
      const f = logisticJs(
        x,
        y,
        Array.from({ length: d }, () => 2),
      );
      for (let n = 0; n < 5; n++) {
        const z = Float64Array.from({ length: d }, () => 3 * (r() - 0.5));
        const [gs, gc] = [new Float64Array(d), new Float64Array(d)];
        const lp = ts.logDensity(z, gs);
        expect(tc.logDensity(z, gc)).toBe(lp);
        expect(gc).toEqual(gs);
        expect(Math.abs(lp - f(z))).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(lp)));
      }
      for (const samples of [1, 2, 3]) {
        const options = { steps: 40, samples, seed: 5, optimizer: adam({ learningRate: 0.05 }) };
        for (const family of ["meanfield", "fullrank"] as const) {
          const a = await simd.fitVI(ts, { ...options, family });
          const b = await scalar.fitVI(tc, { ...options, family });
          expect(b.history).toEqual(a.history);
          expect(b.mean).toEqual(a.mean);
          expect(b.covariance).toEqual(a.covariance);
        }
      }
    });
  }
});

describe("fitVI on a built-in target equals fitVI on the same model in JS", () => {
  const [, k] = builds[0]!;
  const options = () => ({
    steps: 1500,
    samples: 8,
    seed: 21,
    optimizer: adam({ learningRate: cosineSchedule({ initial: 0.03, steps: 1500 }) }),
  });

  /** The JS twin differs from the wasm target by rounding (and its gradient by differences). */
  async function compare(t: BuiltinTarget, f: (z: ArrayLike<number>) => number, tol: number): Promise<void> {
    const a = await k.fitVI(t, options());
    const b = await k.fitVI(jsTwin(f, t.dim), options());
    for (let i = 0; i < t.dim; i++) {
      expect(Math.abs(a.mean[i]! - b.mean[i]!)).toBeLessThan(tol * Math.max(1, a.sd[i]!));
      expect(Math.abs(a.sd[i]! / b.sd[i]! - 1)).toBeLessThan(tol);
    }
    expect(Math.abs(a.elbo - b.elbo)).toBeLessThan(tol * Math.max(1, Math.abs(a.elbo)));
  }

  it("gaussian", async () => {
    const cov = [
      [2, 0.5],
      [0.5, 1],
    ];
    await compare(k.targets.gaussian({ mean: [1, -1], covariance: cov }), gaussianJs([1, -1], cov), 1e-5);
  });

  it("logistic regression", async () => {
    const r = rng(4);
    const x = Array.from({ length: 40 }, () => [1, 2 * (r() - 0.5), 2 * (r() - 0.5)]);
    const y = x.map((row) => (r() < 1 / (1 + Math.exp(-(0.5 + 2 * row[1]! - row[2]!))) ? 1 : 0));
    await compare(k.targets.logisticRegression({ x, y, priorScale: 5 }), logisticJs(x, y, [5, 5, 5]), 1e-5);
  });

  it("hierarchical normal", async () => {
    const t = k.targets.hierarchicalNormal({ y: SCHOOLS_Y, sigma: SCHOOLS_SIGMA });
    await compare(t, schoolsJs(SCHOOLS_Y, SCHOOLS_SIGMA), 1e-5);
  });
});

describe("eight schools against the reference posterior (docs/variational-inference.md, section 10)", () => {
  // Quadrature moments from scripts/data/eight-schools-reference.py.
  const REF = { mu: [4.3968, 3.3177], logTau: [0.8021, 1.1712], logEvidence: -31.31135 };
  const [, k] = builds[0]!;
  const t = k.targets.hierarchicalNormal({ y: SCHOOLS_Y, sigma: SCHOOLS_SIGMA });

  for (const family of ["meanfield", "fullrank"] as const) {
    it(`${family}: mu's mean and sd near the reference, ln tau's sd short of it, ELBO below ln p(y)`, async () => {
      const q = await k.fitVI(t, {
        family,
        steps: 8000,
        samples: 16,
        seed: 1,
        optimizer: adam({ learningRate: cosineSchedule({ initial: 0.02, steps: 8000 }) }),
      });
      expect(Math.abs(q.mean[0]! - REF.mu[0]!)).toBeLessThan(0.3);
      expect(Math.abs(q.sd[0]! / REF.mu[1]! - 1)).toBeLessThan(0.1);
      expect(Math.abs(q.mean[1]! - REF.logTau[0]!)).toBeLessThan(0.15);
      // A Gaussian cannot follow the funnel toward tau = 0: ln tau's sd is about 0.72, not 1.17.
      expect(q.sd[1]!).toBeLessThan(0.75 * REF.logTau[1]!);
      expect(q.elbo + 5 * q.elboStdErr).toBeLessThan(REF.logEvidence);
      // Importance weighting recovers part of the gap.
      expect(q.logEvidence).toBeGreaterThan(q.elbo);
      expect(Math.abs(q.logEvidence - REF.logEvidence)).toBeLessThan(Math.abs(q.elbo - REF.logEvidence));
    });
  }
});

describe("built-in targets' bad input", () => {
  it("gaussian", () => {
    expect(() =>
      targets.gaussian({
        mean: [0, 0],
        covariance: [
          [1, 2],
          [2, 1],
        ],
      }),
    ).toThrow(/positive definite.*row 1/);
    expect(() =>
      targets.gaussian({
        mean: [0, 0],
        covariance: [
          [1, 0.5],
          [0.4, 1],
        ],
      }),
    ).toThrow(/symmetric/);
    expect(() => targets.gaussian({ mean: [0, 0], covariance: [1, 0, 0] })).toThrow(RangeError);
    expect(() => targets.gaussian({ mean: [0, NaN], covariance: [1, 0, 0, 1] })).toThrow(/mean\[1\]/);
    expect(() => targets.gaussian({ mean: [] as number[], covariance: [] as number[] })).toThrow(RangeError);
    expect(() => targets.gaussian({ mean: [0] } as never)).toThrow(/covariance/);
    expect(() => targets.gaussian({ mean: [0], covariance: [1], scale: 1 } as never)).toThrow(
      /unknown option 'scale'/,
    );
  });

  it("logistic regression", () => {
    const x = [
      [1, 0],
      [1, 1],
    ];
    expect(() => targets.logisticRegression({ x, y: [0, 2] })).toThrow(/y\[1\] must be 0 or 1; got 2/);
    expect(() => targets.logisticRegression({ x, y: [0] })).toThrow(/one label per row/);
    expect(() => targets.logisticRegression({ x, y: [0, 1], priorScale: -1 })).toThrow(/priorScale/);
    expect(() => targets.logisticRegression({ x, y: [0, 1], priorScale: [1, 0] })).toThrow(/priorScale\[1\]/);
    expect(() => targets.logisticRegression({ x: [1, 0, 1], y: [0, 1], dim: 2 })).toThrow(RangeError);
    expect(() => targets.logisticRegression({ x: [[1, 0], [1]], y: [0, 1] })).toThrow(/x\[1\]/);
    expect(() => targets.logisticRegression({ x: [[1, Infinity]], y: [0] })).toThrow(/x\[0\]\[1\]/);
  });

  it("hierarchical normal, and a point of the wrong length", () => {
    expect(() => targets.hierarchicalNormal({ y: [1, 2], sigma: [1] })).toThrow(/sigma/);
    expect(() => targets.hierarchicalNormal({ y: [1, 2], sigma: [1, 0] })).toThrow(/sigma\[1\]/);
    expect(() => targets.hierarchicalNormal({ y: [1], sigma: [1], tauScale: 0 })).toThrow(/tauScale/);
    const t = targets.hierarchicalNormal({ y: [1], sigma: [1] });
    expect(() => t.logDensity([0, 0])).toThrow(/z has 2 values; the target's dim is 3/);
  });
});
