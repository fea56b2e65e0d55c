// Built-in targets of variational inference (assembly/vitargets.ts): their data checked once and
// laid out as the kernels read it. fitVI copies a target's data into its own instance, so its whole
// loop stays in wasm; logDensity(z, grad) evaluates one point (gradient checks, a JS comparison).
// Each model's formula is in docs/variational-inference.md.

import type { Core } from "./wasm/loader.js";
import { allocate } from "./wasm/memory.js";
import { tagOf } from "./input.js";
import { optionsOf } from "./options.js";
import {
  badBinaryLabel,
  badPositive,
  badScaleValue,
  emptyInput,
  notANumberAt,
  notNumericArray,
  notPositiveDefinite,
  notSymmetric,
  optionRequired,
  pointLength,
  valueNotFinite,
  wrongLength,
} from "./errors.js";
import { T_GAUSSIAN, T_HIERARCHICAL, T_LOGISTIC } from "./wasm/abi.js";

export type BuiltinTargetName = "gaussian" | "logisticRegression" | "hierarchicalNormal";

/** A target whose log density and gradient are computed in wasm. */
export class BuiltinTarget {
  /** The number of unconstrained parameters z. */
  readonly dim: number;
  readonly name: BuiltinTargetName;
  /** @internal assembly/vitargets.ts's kind and size, and the data as it lays it out. */
  readonly kind: number;
  /** @internal */ readonly size: number;
  /** @internal */ readonly data: Float64Array;
  /** @internal */ readonly core: Core;

  /** @internal Made by targets.gaussian(), targets.logisticRegression(), targets.hierarchicalNormal(). */
  constructor(
    core: Core,
    name: BuiltinTargetName,
    kind: number,
    dim: number,
    size: number,
    data: Float64Array,
  ) {
    this.core = core;
    this.name = name;
    this.kind = kind;
    this.dim = dim;
    this.size = size;
    this.data = data;
  }

  /** ln p(x, z) at one point z (dim values), with its gradient written into grad when given. */
  logDensity(z: ArrayLike<number>, grad?: Float64Array): number {
    const d = this.dim;
    const point = vectorOf("z", z);
    if (point.length !== d) throw pointLength(point.length, d, "the target's");
    if (grad !== undefined && (tagOf(grad) !== "Float64Array" || grad.length !== d)) {
      throw wrongLength("grad", grad.length, d, "a Float64Array of the target's dim");
    }
    const core = this.core;
    const n = this.data.length;
    // data, z, grad, lp, work (d + 2 values: assembly/vitargets.ts): one block, freed before returning.
    const bytes = (n + 4 * d + 3) * 8;
    const ptr = allocate(core, bytes);
    try {
      const f = core.f64();
      const at = ptr >> 3;
      f.set(this.data, at);
      f.set(point, at + n);
      core.k.vit_eval(
        this.kind,
        ptr,
        this.size,
        d,
        ptr + n * 8,
        ptr + (n + d) * 8,
        ptr + (n + 2 * d) * 8,
        1,
        ptr + (n + 2 * d + 1) * 8,
      );
      if (grad) grad.set(f.subarray(at + n + d, at + n + 2 * d));
      return f[at + n + 2 * d]!;
    } finally {
      core.k.dealloc(ptr);
    }
  }
}

/** Float64 values of a numeric array (typed or number[]), every one finite. */
function vectorOf(name: string, x: unknown): Float64Array {
  const tag = tagOf(x);
  let out: Float64Array;
  if (tag !== undefined && tag !== "DataView" && tag !== "BigInt64Array" && tag !== "BigUint64Array") {
    out = Float64Array.from(x as ArrayLike<number>);
  } else if (Array.isArray(x)) {
    out = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const v: unknown = x[i];
      if (typeof v !== "number") throw notANumberAt(name, i, v);
      out[i] = v;
    }
  } else {
    throw notNumericArray(name, x);
  }
  for (let i = 0; i < out.length; i++) if (!Number.isFinite(out[i])) throw valueNotFinite(name, i, out[i]);
  return out;
}

/** A matrix given flat (rows * cols values) or as rows (number[][]), row-major. */
function matrixOf(
  name: string,
  x: unknown,
  cols: number | null,
): { rows: number; cols: number; values: Float64Array } {
  if (Array.isArray(x) && x.length > 0 && Array.isArray(x[0])) {
    const rows = x.length;
    const c = cols ?? (x[0] as unknown[]).length;
    const values = new Float64Array(rows * c);
    for (let r = 0; r < rows; r++) {
      const row = vectorOf(`${name}[${r}]`, x[r]);
      if (row.length !== c) throw wrongLength(`${name}[${r}]`, row.length, c, "every row");
      values.set(row, r * c);
    }
    return { rows, cols: c, values };
  }
  const values = vectorOf(name, x);
  if (cols === null) throw notNumericArray(name, x);
  if (values.length % cols !== 0 || values.length === 0) {
    throw wrongLength(
      name,
      values.length,
      cols * Math.max(1, Math.round(values.length / cols)),
      `whole rows of ${cols}`,
    );
  }
  return { rows: values.length / cols, cols, values };
}

function positiveOr(name: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !(v > 0 && v < Infinity)) throw badPositive(name, v);
  return v;
}

export interface GaussianTargetOptions {
  /** The mean (dim values). */
  mean: ArrayLike<number>;
  /** The covariance, dim x dim, row-major flat or as rows; symmetric positive definite. */
  covariance: ArrayLike<number> | readonly (readonly number[])[];
}

export interface LogisticRegressionOptions {
  /** Features, rows x dim (flat row-major with `dim`, or as rows); add a column of 1 for an intercept. */
  x: ArrayLike<number> | readonly (readonly number[])[];
  /** Labels, 0 or 1, one per row. */
  y: ArrayLike<number>;
  /** The prior's standard deviation: one for every coefficient, or one per coefficient; default 1. */
  priorScale?: number | ArrayLike<number>;
  /** The number of coefficients, needed when x is flat. */
  dim?: number;
}

export interface HierarchicalNormalOptions {
  /** The groups' estimates y_j. */
  y: ArrayLike<number>;
  /** Their standard errors sigma_j > 0. */
  sigma: ArrayLike<number>;
  /** The standard deviation of mu's normal prior; default 5. */
  muScale?: number;
  /** The scale of tau's half-Cauchy prior; default 5. */
  tauScale?: number;
}

/** N(mean, covariance): ln p(z) = -(d/2) ln 2 pi - (1/2) ln det S - (1/2)(z - m)^T S^-1 (z - m). */
export function gaussianTarget(core: Core, options: GaussianTargetOptions): BuiltinTarget {
  const o = optionsOf("targets.gaussian", options, ["mean", "covariance"]);
  if (o.mean === undefined) throw optionRequired("targets.gaussian", "mean");
  if (o.covariance === undefined) throw optionRequired("targets.gaussian", "covariance");
  const mean = vectorOf("mean", o.mean);
  const d = mean.length;
  if (d === 0) throw emptyInput("mean");
  const cov = matrixOf("covariance", o.covariance, d);
  if (cov.cols !== d || cov.rows !== d)
    throw wrongLength("covariance", cov.values.length, d * d, "dim x dim");
  const s = cov.values;
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < i; j++) {
      if (s[i * d + j] !== s[j * d + i]) throw notSymmetric("covariance", i, j, s[i * d + j]!, s[j * d + i]!);
    }
  }
  // data = mean, precision, constant; the covariance and the factor as scratch.
  const n = d + d * d + 1;
  const ptr = allocate(core, (n + 2 * d * d) * 8);
  try {
    const f = core.f64();
    const at = ptr >> 3;
    f.set(mean, at);
    f.set(s, at + n);
    const pivot = core.k.vit_gaussian_setup(ptr + n * 8, d, ptr, ptr + (n + d * d) * 8);
    if (pivot >= 0) throw notPositiveDefinite("covariance", pivot);
    return new BuiltinTarget(core, "gaussian", T_GAUSSIAN, d, 0, f.slice(at, at + n));
  } finally {
    core.k.dealloc(ptr);
  }
}

/**
 * Bayesian logistic regression: y_i ~ Bernoulli(sigmoid(x_i . z)), z_j ~ N(0, priorScale_j^2);
 * ln p(y, z | x) = sum_i [y_i eta_i - ln(1 + e^eta_i)] - sum_j z_j^2 / (2 s_j^2) - sum_j ln(s_j sqrt(2 pi)).
 */
export function logisticRegressionTarget(core: Core, options: LogisticRegressionOptions): BuiltinTarget {
  const o = optionsOf("targets.logisticRegression", options, ["x", "y", "priorScale", "dim"]);
  if (o.x === undefined) throw optionRequired("targets.logisticRegression", "x");
  if (o.y === undefined) throw optionRequired("targets.logisticRegression", "y");
  let dim: number | null = null;
  if (o.dim !== undefined) {
    if (typeof o.dim !== "number" || !Number.isSafeInteger(o.dim) || o.dim < 1)
      throw badPositive("dim", o.dim);
    dim = o.dim;
  }
  const x = matrixOf("x", o.x, dim);
  const y = vectorOf("y", o.y);
  if (y.length !== x.rows) throw wrongLength("y", y.length, x.rows, "one label per row of x");
  for (let i = 0; i < y.length; i++) if (y[i] !== 0 && y[i] !== 1) throw badBinaryLabel(i, y[i]);
  const d = x.cols;
  const scales = new Float64Array(d);
  if (o.priorScale === undefined || typeof o.priorScale === "number") {
    scales.fill(positiveOr("priorScale", o.priorScale, 1));
  } else {
    const given = vectorOf("priorScale", o.priorScale);
    if (given.length !== d) throw wrongLength("priorScale", given.length, d, "one per coefficient (dim)");
    for (let j = 0; j < d; j++) if (!(given[j]! > 0)) throw badScaleValue("priorScale", j, given[j]);
    scales.set(given);
  }
  const rows = x.rows;
  const data = new Float64Array(rows * d + rows + d);
  data.set(x.values, 0);
  data.set(y, rows * d);
  for (let j = 0; j < d; j++) data[rows * d + rows + j] = 1 / (scales[j]! * scales[j]!);
  return new BuiltinTarget(core, "logisticRegression", T_LOGISTIC, d, rows, data);
}

/**
 * The non-centred hierarchical normal model (eight schools): z = (mu, ln tau, theta~_1..theta~_J),
 * theta_j = mu + tau theta~_j, y_j ~ N(theta_j, sigma_j^2), mu ~ N(0, muScale^2),
 * tau ~ HalfCauchy(0, tauScale), theta~_j ~ N(0, 1), with the log-Jacobian ln tau of tau = e^z_2.
 */
export function hierarchicalNormalTarget(core: Core, options: HierarchicalNormalOptions): BuiltinTarget {
  const o = optionsOf("targets.hierarchicalNormal", options, ["y", "sigma", "muScale", "tauScale"]);
  if (o.y === undefined) throw optionRequired("targets.hierarchicalNormal", "y");
  if (o.sigma === undefined) throw optionRequired("targets.hierarchicalNormal", "sigma");
  const y = vectorOf("y", o.y);
  const sigma = vectorOf("sigma", o.sigma);
  if (y.length === 0) throw emptyInput("y");
  if (sigma.length !== y.length) throw wrongLength("sigma", sigma.length, y.length, "one per group of y");
  for (let j = 0; j < sigma.length; j++) if (!(sigma[j]! > 0)) throw badScaleValue("sigma", j, sigma[j]);
  const groups = y.length;
  const data = new Float64Array(2 * groups + 2);
  data.set(y, 0);
  data.set(sigma, groups);
  data[2 * groups] = positiveOr("muScale", o.muScale, 5);
  data[2 * groups + 1] = positiveOr("tauScale", o.tauScale, 5);
  return new BuiltinTarget(core, "hierarchicalNormal", T_HIERARCHICAL, groups + 2, groups, data);
}

/** The built-in targets, bound to an instance. */
export interface Targets {
  gaussian(options: GaussianTargetOptions): BuiltinTarget;
  logisticRegression(options: LogisticRegressionOptions): BuiltinTarget;
  hierarchicalNormal(options: HierarchicalNormalOptions): BuiltinTarget;
}

export function targetsFor(core: () => Core): Targets {
  return {
    gaussian: (options) => gaussianTarget(core(), options),
    logisticRegression: (options) => logisticRegressionTarget(core(), options),
    hierarchicalNormal: (options) => hierarchicalNormalTarget(core(), options),
  };
}
