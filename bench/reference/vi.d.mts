// Types of bench/reference/vi.mjs, for the tests that check it.

export interface GaussianStream {
  fill<T extends Float64Array>(out: T): T;
}
export function gaussianStream(seed: number): GaussianStream;

export interface LogisticData {
  x: Float64Array;
  y: Float64Array;
  rows: number;
  features: number;
  beta: Float64Array;
}
export function logisticData(options: { rows: number; features: number; seed: number }): LogisticData;

/** A target evaluated for `draws` points at once (z, grad: draws x dim row-major; out: one per draw). */
export interface BatchTarget {
  readonly dim: number;
  logDensityBatch(z: Float64Array, grad: Float64Array, out: Float64Array, draws: number): void;
}

export function logisticRegressionTarget(options: {
  x: Float64Array;
  y: Float64Array;
  priorScale?: number;
}): BatchTarget;

export function gaussianTarget(options: {
  mean: Float64Array;
  precision: Float64Array;
  logNormaliser?: number;
}): BatchTarget;

export function logDetSpd(a: Float64Array, n: number): number;
export function cholesky(a: Float64Array, n: number): Float64Array;

export type Family = "meanfield" | "fullrank";

export interface GaussianParams {
  readonly dim: number;
  readonly family: Family;
  /** mu (dim), omega = log diag L (dim), then (full-rank) L's strictly lower triangle row by row. */
  readonly theta: Float64Array;
  readonly size: number;
}
export function gaussianParams(options: {
  dim: number;
  family: Family;
  initMean?: ArrayLike<number>;
  initScale?: number;
}): GaussianParams;

export function choleskyOf(params: GaussianParams): Float64Array;
export function moments(params: GaussianParams): {
  mean: Float64Array;
  sd: Float64Array;
  covariance: Float64Array;
};

export interface ElboWorkspace {
  z: Float64Array;
  g: Float64Array;
  lp: Float64Array;
  l: Float64Array;
  w: Float64Array;
}
export function elboWorkspace(dim: number, draws: number): ElboWorkspace;

export function elboGradient(
  target: BatchTarget,
  params: GaussianParams,
  eps: Float64Array,
  draws: number,
  gradOut: Float64Array,
  work: ElboWorkspace,
  options?: { stl?: boolean },
): number;

export class Adam64 {
  constructor(
    size: number,
    options?: { learningRate?: number; beta1?: number; beta2?: number; epsilon?: number },
  );
  learningRate: number;
  readonly t: number;
  step(p: Float64Array, g: Float64Array): void;
}

export interface JsVi {
  readonly params: GaussianParams;
  readonly adam: Adam64;
  step(): number;
  run(steps: number): number;
}
export function jsVi(
  target: BatchTarget,
  options: {
    family: Family;
    draws?: number;
    learningRate?: number;
    seed?: number;
    stl?: boolean;
    initMean?: ArrayLike<number>;
    initScale?: number;
  },
): JsVi;

export const VI_WORKLOAD: {
  rows: number;
  features: number;
  dataSeed: number;
  priorScale: number;
  draws: number;
  learningRate: number;
  drawSeed: number;
  families: Family[];
};
