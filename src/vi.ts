// fitVI(): variational inference with a Gaussian q (mean-field or full-rank) by stochastic
// maximisation of the ELBO, from the joint ln p(x, z) alone (assembly/vi.ts). Options and the
// target are checked before the first step. A step is: the draws z = mu + L eps (wasm), the
// target's ln p and gradient at each (the caller's function, or a built-in target in wasm), then
// the gradient with respect to (mu, L), the float64 optimiser step and the next draws (wasm).
// fitVI yields to the event loop between steps (at most every YIELD_MS), so callbacks and an
// AbortSignal act. The result carries q, its diagnostics (ELBO with its standard error, an
// importance-weighted ln p(x), the Pareto k) and how the run ended. docs/variational-inference.md
// has the formulas, the stopping rule and the reading of the diagnostics.

import type { Core } from "./wasm/loader.js";
import { allocate } from "./wasm/memory.js";
import {
  C_BACKUP,
  C_BAD_COORD,
  C_BAD_DRAW,
  C_BYTES,
  C_COUNTER,
  C_D,
  C_ELBO,
  C_EPS,
  C_FAMILY,
  C_GRAD,
  C_GZ,
  C_HYPER,
  C_LP,
  C_OPT,
  C_P,
  C_S,
  C_SEED,
  C_STATE,
  C_STATUS,
  C_STL,
  C_TARGET,
  C_TDATA,
  C_THETA,
  C_TN,
  C_WORK,
  C_Z,
  FULLRANK,
  MEANFIELD,
  ST_GRAD,
  ST_NAN,
  ST_NEG_INF,
  ST_OK,
  ST_POS_INF,
} from "./wasm/abi.js";
import { tagOf } from "./input.js";
import { flag, numberOption, optionsOf } from "./options.js";
import { adam, float64RuleOf, type Float64Rule, type Optimizer } from "./optim.js";
import { psis } from "./psis.js";
import { BuiltinTarget } from "./vitargets.js";
import { nextTurn, YIELD_MS } from "./turn.js";
import {
  badHyperparameter,
  badDim,
  badDrawText,
  badEvaluation,
  badFamily,
  badGradientOption,
  finiteDifferenceBuiltin,
  badInitScale,
  badOption,
  badSeed,
  badVIJson,
  savedNotJson,
  savedNotObject,
  viJsonDim,
  viJsonFamily,
  viJsonFormat,
  viJsonParam,
  viJsonParams,
  batchOutLength,
  batchOutNotArray,
  initMeanLength,
  initMeanNotFinite,
  logDensityNotNumber,
  notAbortSignal,
  notCallback,
  notLogDensity,
  notVIOptimizer,
  notVITarget,
  pointLength,
  viDiverged,
} from "./errors.js";

export type VIFamily = "meanfield" | "fullrank";

/** ln p(x, z) up to a constant, written by the caller. */
export interface VITarget {
  /** The number of unconstrained parameters z. */
  dim: number;
  /**
   * ln p(x, z) at one draw z (a Float64Array of dim values); writes d/dz ln p into grad (dim
   * values; ignored with gradient: 'finite-difference'). z and grad are views into wasm memory,
   * valid during the call: copy them to keep them. A function that allocates in the same klcore
   * instance (which may grow its memory and detach the views) must read z and write grad first;
   * the next call gets fresh views.
   */
  logDensity?(z: Float64Array, grad: Float64Array): number;
  /**
   * All of a step's n draws at once: z and grad hold n * dim values (draw-major), out n values.
   * Fill out (and return nothing), or return the n log densities.
   */
  logDensityBatch?(z: Float64Array, grad: Float64Array, out: Float64Array): ArrayLike<number> | undefined;
}

export interface VIConvergence {
  /** Steps between checks; default 100. */
  every?: number;
  /** Fixed draws the ELBO is evaluated on at every check; default 256. */
  draws?: number;
  /**
   * A check passes when the ELBO moved by at most tolerance times its standard error on those
   * draws since the last check; default 0.1.
   */
  tolerance?: number;
  /** Consecutive passing checks that stop the run; default 3. */
  patience?: number;
}

export interface VIStep {
  /** 1 for the first step. */
  step: number;
  /** The step's ELBO estimate: the mean ln p over its draws plus q's entropy. */
  elbo: number;
}

export interface VICheck {
  step: number;
  /** The ELBO on the fixed evaluation draws, and its standard error. */
  elbo: number;
  stdErr: number;
  /** The change since the last check (NaN at the first). */
  change: number;
}

export interface VIOptions {
  /** 'meanfield' (default: diagonal covariance) or 'fullrank'. */
  family?: VIFamily;
  /** Optimisation steps; default 1000. */
  steps?: number;
  /** Draws per step (Monte Carlo samples of the gradient); default 8. */
  samples?: number;
  /** Made by adam(), sgd(), rmsprop() or adagrad(); default adam({ learningRate: 0.01 }). */
  optimizer?: Optimizer;
  /** Seeds every draw; default 0. */
  seed?: number;
  /** q's start: the mean (default 0) and the standard deviation of every coordinate (default 1). */
  init?: { mean?: ArrayLike<number>; scale?: number };
  /** 'analytic' (default: the target writes grad) or 'finite-difference' (2 dim evaluations per draw). */
  gradient?: "analytic" | "finite-difference";
  /** The "sticking the landing" gradient (Roeder, Wu and Duvenaud 2017); default false. */
  stickingTheLanding?: boolean;
  /** A stopping rule; absent (default), the run takes all its steps. */
  convergence?: VIConvergence | boolean;
  /** Fresh draws for the final ELBO, ln p(x) and Pareto k; default 4096. */
  evaluationDraws?: number;
  /** After each step; returning false (or a promise of false) stops the run. */
  onStep?: (info: VIStep) => unknown;
  /** Aborting stops the run before the next step; the result has stopReason 'aborted'. */
  signal?: AbortSignal;
  /** 'stop' (default): resolve with diverged: true. 'throw': reject with the RangeError. */
  onDivergence?: "stop" | "throw";
}

export type VIStopReason =
  "completed" | "converged" | "callback" | "aborted" | "diverged" | "outside-support";

export interface VIDivergence {
  /** The step (1-based) whose draws or update went wrong, or 0 for the final evaluation. */
  step: number;
  /** The draw within the step (0-based). */
  draw: number;
  /** The coordinate of a bad gradient or parameter, else -1. */
  coordinate: number;
  /** The bad value. */
  value: number;
  message: string;
}

export interface VIPosteriorJSON {
  format: "klcore-vi";
  version: 1;
  family: VIFamily;
  dim: number;
  /** mu, then the scale's parameters: ln sd (mean-field) or L's lower triangle by rows with ln on the diagonal. */
  params: number[];
  elbo: number;
  elboStdErr: number;
  logEvidence: number;
  paretoK: number;
  steps: number;
  converged: boolean;
  convergedAt: number | null;
  diverged: boolean;
  stopReason: VIStopReason;
}

// Random streams of a seed (assembly/vi.ts's STREAM_TRAIN is 0).
const STREAM_CHECK = 1;
const STREAM_FINAL = 2;
const STREAM_SAMPLE = 3;

// Draws per evaluation chunk (the fixed check draws and the final ones are made in chunks).
const CHUNK = 256;
// Built-in targets run this many steps per wasm call at most between yields.
const RUN_STEPS = 256;

const VI_OPTIONS = [
  "family",
  "steps",
  "samples",
  "optimizer",
  "seed",
  "init",
  "gradient",
  "stickingTheLanding",
  "convergence",
  "evaluationDraws",
  "onStep",
  "signal",
  "onDivergence",
] as const;

const familyCode = (f: VIFamily): number => (f === "meanfield" ? MEANFIELD : FULLRANK);
const paramCount = (f: VIFamily, d: number): number => d + (f === "meanfield" ? d : (d * (d + 1)) / 2);

function count(name: string, v: unknown, fallback: number, least: number): number {
  const n = numberOption(name, v) ?? fallback;
  if (!Number.isSafeInteger(n) || n < least) {
    throw badHyperparameter(name, least === 0 ? "an integer >= 0" : "a positive integer", n);
  }
  return n;
}

interface Target {
  readonly dim: number;
  readonly builtin: BuiltinTarget | null;
  readonly one: ((z: Float64Array, g: Float64Array) => unknown) | null;
  readonly batch: ((z: Float64Array, g: Float64Array, out: Float64Array) => unknown) | null;
  readonly self: unknown;
}

function targetOf(target: unknown): Target {
  if (target instanceof BuiltinTarget) {
    return { dim: target.dim, builtin: target, one: null, batch: null, self: target };
  }
  if (typeof target !== "object" || target === null) throw notVITarget(target);
  const t = target as Partial<VITarget>;
  const dim: unknown = t.dim;
  if (typeof dim !== "number" || !Number.isSafeInteger(dim) || dim < 1) throw badDim(dim);
  const batch: unknown = t.logDensityBatch;
  const one: unknown = t.logDensity;
  if (batch !== undefined && typeof batch !== "function") throw notLogDensity(batch);
  if (batch === undefined && typeof one !== "function") throw notLogDensity(one);
  return {
    dim,
    builtin: null,
    one: typeof one === "function" ? (one as Target["one"]) : null,
    batch: typeof batch === "function" ? (batch as Target["batch"]) : null,
    self: target,
  };
}

interface Settings {
  family: VIFamily;
  steps: number;
  samples: number;
  rule: Float64Rule;
  seed: number;
  initMean: Float64Array;
  initScale: number;
  fd: boolean;
  stl: boolean;
  convergence: Required<VIConvergence> | null;
  evaluationDraws: number;
  onStep: ((info: VIStep) => unknown) | null;
  signal: AbortSignal | null;
  throwOnDivergence: boolean;
}

function settingsOf(options: unknown, dim: number, builtin: BuiltinTarget | null): Settings {
  const o = optionsOf("fitVI", options, VI_OPTIONS);
  const family = o.family ?? "meanfield";
  if (family !== "meanfield" && family !== "fullrank") throw badFamily(family);
  const steps = count("steps", o.steps, 1000, 0);
  const samples = count("samples", o.samples, 8, 1);
  const optimizer = o.optimizer ?? adam({ learningRate: 0.01 });
  const rule = float64RuleOf(optimizer);
  if (!rule) throw notVIOptimizer(optimizer);
  const seed = numberOption("seed", o.seed) ?? 0;
  if (!Number.isSafeInteger(seed)) throw badSeed(seed);
  const init = o.init === undefined ? {} : o.init;
  if (typeof init !== "object" || init === null) throw badOption("init", "an object { mean, scale }", init);
  const io = optionsOf("init", init, ["mean", "scale"]);
  const initMean = new Float64Array(dim);
  if (io.mean !== undefined) {
    const m = io.mean as ArrayLike<unknown>;
    if (tagOf(m) === undefined && !Array.isArray(m)) throw badOption("init.mean", "an array of numbers", m);
    if (m.length !== dim) throw initMeanLength(m.length, dim);
    for (let i = 0; i < dim; i++) {
      const v = m[i];
      if (typeof v !== "number" || !Number.isFinite(v)) throw initMeanNotFinite(i, v);
      initMean[i] = v;
    }
  }
  const initScale = numberOption("init.scale", io.scale) ?? 1;
  if (!(initScale > 0 && initScale < Infinity)) throw badInitScale(initScale);
  const gradient = o.gradient ?? "analytic";
  if (gradient !== "analytic" && gradient !== "finite-difference") throw badGradientOption(gradient);
  // A built-in target has its analytic gradient in wasm: finite differences would only add error.
  if (gradient === "finite-difference" && builtin) throw finiteDifferenceBuiltin(builtin.name);
  const fd = gradient === "finite-difference";
  const stl = flag("stickingTheLanding", o.stickingTheLanding);
  let convergence: Required<VIConvergence> | null = null;
  if (o.convergence !== undefined && o.convergence !== false) {
    const c = o.convergence === true ? {} : o.convergence;
    if (typeof c !== "object" || c === null) throw badOption("convergence", "an object or a boolean", c);
    const co = optionsOf("convergence", c, ["every", "draws", "tolerance", "patience"]);
    const tolerance = numberOption("convergence.tolerance", co.tolerance) ?? 0.1;
    if (!(tolerance >= 0 && tolerance < Infinity)) {
      throw badHyperparameter("convergence.tolerance", "a finite number >= 0", tolerance);
    }
    convergence = {
      every: count("convergence.every", co.every, 100, 1),
      draws: count("convergence.draws", co.draws, 256, 2),
      tolerance,
      patience: count("convergence.patience", co.patience, 3, 1),
    };
  }
  const evaluationDraws = count("evaluationDraws", o.evaluationDraws, 4096, 5);
  const onStep = o.onStep === undefined ? null : o.onStep;
  if (onStep !== null && typeof onStep !== "function") throw notCallback("onStep", onStep);
  const signal = o.signal === undefined ? null : o.signal;
  if (
    signal !== null &&
    (typeof signal !== "object" || typeof (signal as AbortSignal).aborted !== "boolean")
  ) {
    throw notAbortSignal(signal);
  }
  const onDivergence = o.onDivergence ?? "stop";
  if (onDivergence !== "stop" && onDivergence !== "throw") {
    throw badOption("onDivergence", "'stop' or 'throw'", onDivergence);
  }
  return {
    family,
    steps,
    samples,
    rule,
    seed,
    initMean,
    initScale,
    fd,
    stl,
    convergence,
    evaluationDraws,
    onStep: onStep as Settings["onStep"],
    signal: signal as AbortSignal | null,
    throwOnDivergence: onDivergence === "throw",
  };
}

/** A bad value at a draw, as fitVI reports it. */
class BadDraw {
  constructor(
    readonly kind: "nan" | "+inf" | "-inf" | "gradient" | "parameters",
    readonly step: number,
    readonly draw: number,
    readonly coordinate: number,
    readonly value: number,
  ) {}

  where(): string {
    return this.step === 0 ? `evaluation draw ${this.draw}` : `step ${this.step}, draw ${this.draw}`;
  }

  message(): string {
    return badDrawText(this.where(), this.kind, this.coordinate, this.value);
  }
}

/**
 * The memory of one run: the context, parameters, optimiser state, a step's draws, the evaluation
 * chunk and a built-in target's data, in one block. Typed views of it are re-derived whenever
 * memory has grown (the caller's function may itself use this instance).
 */
class Run {
  readonly ptr: number;
  readonly d: number;
  readonly s: number;
  readonly np: number;
  readonly at: Record<string, number> = {};
  private buffer: ArrayBuffer | null = null;
  // Views of each step draw's z and grad, of each evaluation draw's, and a gradient the caller may
  // write and fitVI ignores (finite differences): made once, renewed by refresh() after growth.
  zs: Float64Array[] = [];
  gs: Float64Array[] = [];
  evalZs: Float64Array[] = [];
  evalGs: Float64Array[] = [];
  junk = new Float64Array(0);

  constructor(
    readonly core: Core,
    readonly target: Target,
    readonly st: Settings,
  ) {
    const d = target.dim;
    this.d = d;
    this.s = st.samples;
    this.np = paramCount(st.family, d);
    const np = this.np;
    const sizes: [string, number][] = [
      ["ctx", C_BYTES / 8],
      ["theta", np],
      ["grad", np],
      ["backup", np],
      ["state", np * st.rule.states],
      ["hyper", 8],
      ["eps", this.s * d],
      ["z", this.s * d],
      ["gz", this.s * d],
      ["lp", this.s],
      // 2 d for the kernels, d + 2 for a built-in target; and one more draw for finite differences.
      ["work", 4 * d + 2],
      ["eeps", CHUNK * d],
      ["ez", CHUNK * d],
      ["egz", CHUNK * d],
      ["elp", CHUNK],
      ["ew", CHUNK],
      ["hist", RUN_STEPS],
      ["tdata", target.builtin ? target.builtin.data.length : 0],
    ];
    let total = 0;
    const offsets: Record<string, number> = {};
    for (const [name, n] of sizes) {
      offsets[name] = total;
      // Each region 16-byte aligned.
      total += (n + 1) & ~1;
    }
    this.ptr = allocate(core, total * 8);
    for (const [name] of sizes) this.at[name] = this.ptr + offsets[name]! * 8;
  }

  free(): void {
    this.core.k.dealloc(this.ptr);
  }

  // JS scratch for finite differences of a batch target, made once per run.
  private fd: Float64Array[] = [];
  fdScratch(i: number, n: number): Float64Array {
    const a = this.fd[i];
    if (a && a.length === n) return a;
    return (this.fd[i] = new Float64Array(n));
  }

  f64(): Float64Array {
    return this.core.f64();
  }

  /** Renews the views when memory has grown (the caller's function may allocate in this instance). */
  refresh(): void {
    const buffer = this.core.memoryBuffer;
    if (buffer !== this.buffer) {
      this.buffer = buffer;
      const d = this.d;
      const make = (base: number, n: number): Float64Array[] =>
        Array.from({ length: n }, (_, k) => new Float64Array(buffer, base + k * d * 8, d));
      this.zs = make(this.at.z!, this.s);
      this.gs = make(this.at.gz!, this.s);
      this.evalZs = make(this.at.ez!, CHUNK);
      this.evalGs = make(this.at.egz!, CHUNK);
      // The work block's last d values (the kernels and a built-in target use its first 3 d + 2).
      this.junk = new Float64Array(buffer, this.at.work! + (3 * d + 2) * 8, d);
    }
  }

  i32(field: number): number {
    return this.core.i32()[(this.at.ctx! + field) >> 2]!;
  }

  setI32(field: number, v: number): void {
    this.core.i32()[(this.at.ctx! + field) >> 2] = v;
  }

  f64At(field: number): number {
    return this.core.f64()[(this.at.ctx! + field) >> 3]!;
  }

  setF64(field: number, v: number): void {
    this.core.f64()[(this.at.ctx! + field) >> 3] = v;
  }
}

/**
 * Evaluates the caller's target at n draws of the step (or of an evaluation chunk, step 0): ln p
 * and the gradient into the run's arrays. Types are checked here; the values are checked in wasm
 * (a step) or by logWeights (an evaluation).
 */
function evaluateJs(run: Run, which: "step" | "eval", n: number, step: number): void {
  const { target, st, d } = run;
  const zAt = which === "step" ? run.at.z! : run.at.ez!;
  const gAt = which === "step" ? run.at.gz! : run.at.egz!;
  const lpAt = which === "step" ? run.at.lp! : run.at.elp!;
  if (target.batch) {
    const buffer = run.core.memoryBuffer;
    const z = new Float64Array(buffer, zAt, n * d);
    const g = new Float64Array(buffer, gAt, n * d);
    const out = new Float64Array(buffer, lpAt, n);
    callBatch(run, z, g, out, step);
    if (st.fd && which === "step") finiteDifferenceBatch(run, z, g, step);
    return;
  }
  const fn = target.one!;
  const self = target.self;
  const lpIndex = lpAt >> 3;
  for (let k = 0; k < n; k++) {
    run.refresh();
    const zk = which === "step" ? run.zs[k]! : run.evalZs[k]!;
    const gk = which === "step" ? run.gs[k]! : run.evalGs[k]!;
    // Evaluation draws need no gradient: one call each, the analytic gradient written and ignored.
    const lp =
      st.fd && which === "step"
        ? finiteDifference(run, fn, self, zk, gk, step, k)
        : callOne(fn, self, zk, gk, step, k);
    run.f64()[lpIndex + k] = lp;
  }
}

/** One call of the batch target: its values into out, whether it fills out or returns them. */
function callBatch(run: Run, z: Float64Array, g: Float64Array, out: Float64Array, step: number): void {
  const n = out.length;
  const inWasm = out.buffer === run.core.memoryBuffer;
  const offset = out.byteOffset;
  const r: unknown = run.target.batch!.call(run.target.self, z, g, out);
  if (r === undefined) return;
  // The call may have grown memory (detaching out): write through a fresh view.
  const dst = inWasm ? new Float64Array(run.core.memoryBuffer, offset, n) : out;
  const at = step === 0 ? "the evaluation draws" : `step ${step}`;
  if (tagOf(r) === undefined && !Array.isArray(r)) throw batchOutNotArray(at, r);
  const a = r as ArrayLike<unknown>;
  if (a.length !== n) throw batchOutLength(at, a.length, n);
  for (let k = 0; k < n; k++) {
    const v = a[k];
    if (typeof v !== "number")
      throw logDensityNotNumber(step === 0 ? `evaluation draw ${k}` : `step ${step}, draw ${k}`, v);
    dst[k] = v;
  }
}

// Central differences with h = cbrt(2^-52) max(1, |z_j|) = 6.055454452393343e-6 max(1, |z_j|), the
// step that balances the O(h^2) truncation against the O(eps / h) rounding of a smooth function.
// see: Press et al., Numerical Recipes, 3rd ed., section 5.7 (h ~ eps^(1/3) for central differences)
const FD_STEP = 6.055454452393343e-6;

/**
 * The central-difference gradient of a batch target into g, one coordinate of every draw at a
 * time: 2 d more calls of n draws (the values at z are already in the step's lp).
 */
function finiteDifferenceBatch(run: Run, z: Float64Array, g: Float64Array, step: number): void {
  const { d } = run;
  const n = z.length / d;
  const fUp = run.fdScratch(0, n);
  const fDown = run.fdScratch(1, n);
  const junk = run.fdScratch(2, n * d);
  const zUp = run.fdScratch(3, n);
  const zDown = run.fdScratch(4, n);
  const saved = run.fdScratch(5, n);
  for (let j = 0; j < d; j++) {
    for (let k = 0; k < n; k++) {
      const zj = z[k * d + j]!;
      saved[k] = zj;
      const h = FD_STEP * Math.max(1, Math.abs(zj));
      zUp[k] = zj + h;
      zDown[k] = zj - h;
      z[k * d + j] = zUp[k]!;
    }
    callBatch(run, z, junk, fUp, step);
    for (let k = 0; k < n; k++) z[k * d + j] = zDown[k]!;
    callBatch(run, z, junk, fDown, step);
    for (let k = 0; k < n; k++) {
      z[k * d + j] = saved[k]!;
      g[k * d + j] = (fUp[k]! - fDown[k]!) / (zUp[k]! - zDown[k]!);
    }
  }
}

/** One call of the caller's logDensity, its result checked to be a number. */
function callOne(
  fn: (z: Float64Array, g: Float64Array) => unknown,
  self: unknown,
  z: Float64Array,
  g: Float64Array,
  step: number,
  k: number,
): number {
  const v: unknown = fn.call(self, z, g);
  if (typeof v !== "number") {
    throw logDensityNotNumber(step === 0 ? `evaluation draw ${k}` : `step ${step}, draw ${k}`, v);
  }
  return v;
}

/** ln p at z (returned) and its central-difference gradient into g: 2 d + 1 evaluations. */
function finiteDifference(
  run: Run,
  fn: (z: Float64Array, g: Float64Array) => unknown,
  self: unknown,
  z: Float64Array,
  g: Float64Array,
  step: number,
  k: number,
): number {
  const d = run.d;
  const junk = run.junk;
  const f0 = callOne(fn, self, z, junk, step, k);
  for (let j = 0; j < d; j++) {
    const zj = z[j]!;
    const h = FD_STEP * Math.max(1, Math.abs(zj));
    const up = zj + h;
    const down = zj - h;
    z[j] = up;
    const fUp = callOne(fn, self, z, junk, step, k);
    z[j] = down;
    const fDown = callOne(fn, self, z, junk, step, k);
    z[j] = zj;
    g[j] = (fUp - fDown) / (up - down);
  }
  return f0;
}

/** The BadDraw for a wasm status, read from the context. */
function badOf(run: Run, status: number, step: number): BadDraw {
  const draw = run.i32(C_BAD_DRAW);
  const coord = run.i32(C_BAD_COORD);
  const f = run.f64();
  if (status === ST_GRAD) {
    return new BadDraw("gradient", step, draw, coord, f[(run.at.gz! >> 3) + draw * run.d + coord]!);
  }
  if (status === ST_NAN || status === ST_POS_INF || status === ST_NEG_INF) {
    const kind = status === ST_NAN ? "nan" : status === ST_POS_INF ? "+inf" : "-inf";
    return new BadDraw(kind, step, draw, -1, f[(run.at.lp! >> 3) + draw]!);
  }
  return new BadDraw("parameters", step, -1, coord, NaN);
}

/**
 * The log-weights ln p(x, z) - ln q(z) of n draws of q from a stream (the same draws whenever
 * the stream and the parameters are the same), in chunks of CHUNK.
 */
function logWeights(run: Run, stream: number, n: number): Float64Array {
  const { core, d, st } = run;
  const k = core.k;
  const fam = familyCode(st.family);
  const w = new Float64Array(n);
  const b = run.target.builtin;
  for (let c0 = 0; c0 < n; c0 += CHUNK) {
    const m = Math.min(CHUNK, n - c0);
    k.vi_draw(fam, d, run.at.theta!, st.seed >>> 0, stream, c0, m, run.at.eeps!, run.at.ez!);
    if (b) {
      k.vit_eval(
        b.kind,
        run.at.tdata!,
        b.size,
        d,
        run.at.ez!,
        run.at.egz!,
        run.at.elp!,
        m,
        run.at.work! + 2 * d * 8,
      );
    } else {
      evaluateJs(run, "eval", m, 0);
    }
    const lp = run.f64().subarray(run.at.elp! >> 3, (run.at.elp! >> 3) + m);
    for (let i = 0; i < m; i++) {
      const v = lp[i]!;
      if (Number.isNaN(v) || v === Infinity) {
        throw badEvaluation(new BadDraw(Number.isNaN(v) ? "nan" : "+inf", 0, c0 + i, -1, v).message());
      }
    }
    k.vi_logw(fam, d, run.at.theta!, run.at.eeps!, run.at.elp!, m, run.at.ew!);
    w.set(run.f64().subarray(run.at.ew! >> 3, (run.at.ew! >> 3) + m), c0);
  }
  return w;
}

/** The ELBO (mean of w) with its standard error, and ln mean exp(w), from assembly/vi.ts. */
function summaryOf(run: Run, w: Float64Array): { mean: number; stdErr: number; logMeanExp: number } {
  const core = run.core;
  const ptr = allocate(core, (w.length + 4) * 8);
  try {
    const at = ptr >> 3;
    core.f64().set(w, at);
    core.k.vi_summary(ptr, w.length, ptr + w.length * 8);
    const f = core.f64();
    return { mean: f[at + w.length]!, stdErr: f[at + w.length + 1]!, logMeanExp: f[at + w.length + 2]! };
  } finally {
    core.k.dealloc(ptr);
  }
}

interface Fitted {
  family: VIFamily;
  dim: number;
  params: Float64Array;
  elbo: number;
  elboStdErr: number;
  logEvidence: number;
  paretoK: number;
  history: Float64Array;
  checks: VICheck[];
  steps: number;
  converged: boolean;
  convergedAt: number | null;
  diverged: boolean;
  divergedAt: VIDivergence | null;
  stopReason: VIStopReason;
}

/** A Gaussian q = N(mean, L L^T) fitted by fitVI (or loaded), with its diagnostics. */
export class VIPosterior {
  readonly family: VIFamily;
  readonly dim: number;
  /** q's mean, standard deviations and covariance (dim x dim, row-major). */
  readonly mean: Float64Array;
  readonly sd: Float64Array;
  readonly covariance: Float64Array;
  /** The ELBO on evaluationDraws fresh draws, and its Monte Carlo standard error. */
  readonly elbo: number;
  readonly elboStdErr: number;
  /** ln mean exp(ln p - ln q) over the same draws: an estimate of ln p(x), never below elbo. */
  readonly logEvidence: number;
  /** The Pareto k of the importance weights p(x, z) / q(z) (PSIS): above 0.7, do not trust q. */
  readonly paretoK: number;
  /** Each step's ELBO estimate (noisy: a few draws each). */
  readonly history: Float64Array;
  /** The stopping rule's checks (empty without one). */
  readonly checks: readonly VICheck[];
  /** Steps taken. */
  readonly steps: number;
  /** Whether the stopping rule was met, and at which step. */
  readonly converged: boolean;
  readonly convergedAt: number | null;
  /** A draw gave NaN, +inf or -inf, a gradient or an update was not finite: q is the last good one. */
  readonly diverged: boolean;
  readonly divergedAt: VIDivergence | null;
  readonly stopReason: VIStopReason;
  /** @internal */ readonly params: Float64Array;
  private readonly core: Core;

  /** @internal Made by fitVI() or loadVI(). */
  constructor(core: Core, f: Fitted) {
    this.core = core;
    this.family = f.family;
    this.dim = f.dim;
    this.params = f.params;
    this.elbo = f.elbo;
    this.elboStdErr = f.elboStdErr;
    this.logEvidence = f.logEvidence;
    this.paretoK = f.paretoK;
    this.history = f.history;
    this.checks = f.checks;
    this.steps = f.steps;
    this.converged = f.converged;
    this.convergedAt = f.convergedAt;
    this.diverged = f.diverged;
    this.divergedAt = f.divergedAt;
    this.stopReason = f.stopReason;
    const d = f.dim;
    const out = this.withParams(2 * d + d * d, (theta, at) => {
      core.k.vi_moments(familyCode(f.family), d, theta, at, at + d * 8);
      return core.f64().slice(at >> 3, (at >> 3) + d + d * d);
    });
    this.mean = f.params.slice(0, d);
    this.sd = out.slice(0, d);
    this.covariance = out.slice(d, d + d * d);
  }

  /** Runs fn with q's parameters and `extra` float64 values of scratch in wasm memory. */
  private withParams<T>(extra: number, fn: (theta: number, at: number) => T): T {
    const np = this.params.length;
    const ptr = allocate(this.core, (np + 1 + extra) * 8);
    try {
      this.core.f64().set(this.params, ptr >> 3);
      return fn(ptr, ptr + ((np + 1) & ~1) * 8);
    } finally {
      this.core.k.dealloc(ptr);
    }
  }

  /** n draws of q (n * dim values, draw-major), seeded: the same seed gives the same draws. */
  sample(n: number, options?: { seed?: number }): Float64Array {
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0)
      throw badHyperparameter("n", "an integer >= 0", n);
    const o = optionsOf("sample", options, ["seed"]);
    const seed = numberOption("seed", o.seed) ?? 0;
    if (!Number.isSafeInteger(seed)) throw badSeed(seed);
    const d = this.dim;
    return this.withParams(2 * n * d, (theta, at) => {
      this.core.k.vi_draw(
        familyCode(this.family),
        d,
        theta,
        seed >>> 0,
        STREAM_SAMPLE,
        0,
        n,
        at,
        at + n * d * 8,
      );
      const f = this.core.f64();
      return f.slice((at >> 3) + n * d, (at >> 3) + 2 * n * d);
    });
  }

  /** ln q(z) at one point (dim values). */
  logDensity(z: ArrayLike<number>): number {
    const d = this.dim;
    if (typeof z !== "object" || z === null || typeof z.length !== "number") {
      throw badOption("z", "an array of numbers", z);
    }
    if (z.length !== d) throw pointLength(z.length, d, "q's");
    return this.withParams(2 * d + 2, (theta, at) => {
      const f = this.core.f64();
      for (let i = 0; i < d; i++) {
        const v: unknown = z[i];
        if (typeof v !== "number") throw badOption(`z[${i}]`, "a number", v);
        f[(at >> 3) + i] = v;
      }
      this.core.k.vi_logq(familyCode(this.family), d, theta, at, 1, at + d * 8, at + 2 * d * 8);
      return this.core.f64()[(at >> 3) + 2 * d]!;
    });
  }

  /** q and its diagnostics as plain JSON (exact: float64 values round-trip), for loadVI(). */
  toJSON(): VIPosteriorJSON {
    return {
      format: "klcore-vi",
      version: 1,
      family: this.family,
      dim: this.dim,
      params: Array.from(this.params),
      elbo: this.elbo,
      elboStdErr: this.elboStdErr,
      logEvidence: this.logEvidence,
      paretoK: this.paretoK,
      steps: this.steps,
      converged: this.converged,
      convergedAt: this.convergedAt,
      diverged: this.diverged,
      stopReason: this.stopReason,
    };
  }
}

/** A posterior saved with toJSON() (the object or its text), in this instance. */
export function loadVI(core: Core, json: unknown): VIPosterior {
  let j: unknown = json;
  if (typeof json === "string") {
    try {
      j = JSON.parse(json);
    } catch (e) {
      throw savedNotJson(badVIJson, (e as Error).message);
    }
  }
  if (typeof j !== "object" || j === null) throw savedNotObject(badVIJson);
  const o = j as Partial<VIPosteriorJSON>;
  if (o.format !== "klcore-vi" || o.version !== 1) throw viJsonFormat();
  if (o.family !== "meanfield" && o.family !== "fullrank") throw viJsonFamily();
  const d = o.dim;
  if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 1) throw viJsonDim();
  const np = paramCount(o.family, d);
  if (!Array.isArray(o.params) || o.params.length !== np) {
    throw viJsonParams(np, o.family, d);
  }
  const params = new Float64Array(np);
  for (let i = 0; i < np; i++) {
    const v: unknown = o.params[i];
    if (typeof v !== "number" || !Number.isFinite(v)) throw viJsonParam(i);
    params[i] = v;
  }
  const num = (v: unknown): number => (typeof v === "number" ? v : NaN);
  return new VIPosterior(core, {
    family: o.family,
    dim: d,
    params,
    elbo: num(o.elbo),
    elboStdErr: num(o.elboStdErr),
    logEvidence: num(o.logEvidence),
    paretoK: num(o.paretoK),
    history: new Float64Array(0),
    checks: [],
    steps: typeof o.steps === "number" ? o.steps : 0,
    converged: o.converged === true,
    convergedAt: typeof o.convergedAt === "number" ? o.convergedAt : null,
    diverged: o.diverged === true,
    divergedAt: null,
    stopReason: o.stopReason ?? "completed",
  });
}

const now = (): number => (typeof performance === "object" ? performance.now() : Date.now());

/** Fits a Gaussian q to the target by maximising the ELBO; see VIOptions. */
export async function fitVI(
  core: Core,
  target: VITarget | BuiltinTarget,
  options?: VIOptions,
): Promise<VIPosterior> {
  const t = targetOf(target);
  const st = settingsOf(options, t.dim, t.builtin);
  const run = new Run(core, t, st);
  try {
    return await runVI(run);
  } finally {
    run.free();
  }
}

async function runVI(run: Run): Promise<VIPosterior> {
  const { core, st, d, s, np } = run;
  const k = core.k;
  const rule = st.rule;
  const builtin = run.target.builtin;
  const fam = familyCode(st.family);
  {
    const f = core.f64();
    f.fill(0, run.at.ctx! >> 3, (run.at.ctx! >> 3) + C_BYTES / 8);
    f.set(st.initMean, run.at.theta! >> 3);
    f.fill(rule.initial, run.at.state! >> 3, (run.at.state! >> 3) + np * rule.states);
    f.set(rule.hyper, run.at.hyper! >> 3);
    if (builtin) f.set(builtin.data, run.at.tdata! >> 3);
  }
  k.vi_init_scale(fam, d, run.at.theta!, st.initScale);
  const fields: [number, number][] = [
    [C_D, d],
    [C_FAMILY, fam],
    [C_S, s],
    [C_STL, st.stl ? 1 : 0],
    [C_P, np],
    [C_THETA, run.at.theta!],
    [C_GRAD, run.at.grad!],
    [C_EPS, run.at.eps!],
    [C_Z, run.at.z!],
    [C_GZ, run.at.gz!],
    [C_LP, run.at.lp!],
    [C_OPT, rule.kind],
    [C_HYPER, run.at.hyper!],
    [C_STATE, run.at.state!],
    [C_BACKUP, run.at.backup!],
    [C_TARGET, builtin ? builtin.kind : 0],
    [C_TDATA, run.at.tdata!],
    [C_TN, builtin ? builtin.size : 0],
    [C_WORK, run.at.work!],
    [C_SEED, st.seed | 0],
  ];
  for (const [field, v] of fields) run.setI32(field, v);
  run.setF64(C_COUNTER, 0);
  k.vi_start(run.at.ctx!);

  const history = new Float64Array(st.steps);
  const checks: VICheck[] = [];
  let step = 0;
  let stopReason: VIStopReason = "completed";
  let bad: BadDraw | null = null;
  let convergedAt: number | null = null;
  let passes = 0;
  let lastYield = now();
  const conv = st.convergence;
  // Without a per-step callback, a built-in target runs many steps per wasm call.
  const chunked = builtin !== null && !st.onStep;
  const check = (): boolean => {
    const w = logWeights(run, STREAM_CHECK, conv!.draws);
    const { mean, stdErr } = summaryOf(run, w);
    const prev = checks.length ? checks[checks.length - 1]!.elbo : NaN;
    const change = mean - prev;
    checks.push({ step, elbo: mean, stdErr, change });
    // Both sides move together with a constant added to ln p: the rule ignores it.
    passes = Math.abs(change) <= conv!.tolerance * stdErr ? passes + 1 : 0;
    return passes >= conv!.patience;
  };

  while (step < st.steps) {
    if (st.signal?.aborted) {
      stopReason = "aborted";
      break;
    }
    const lr = rule.rateAt(step);
    if (chunked) {
      // As many steps in one call as the rate, the next check and the yield allow.
      let n = Math.min(st.steps - step, RUN_STEPS);
      if (conv) n = Math.min(n, conv.every - (step % conv.every));
      // A schedule may change the rate at any step: one step per call.
      if (!rule.constantRate) n = 1;
      const done = k.vi_run(run.at.ctx!, n, lr, step + 1, run.at.hist!);
      history.set(run.f64().subarray(run.at.hist! >> 3, (run.at.hist! >> 3) + done), step);
      step += done;
      if (done < n) {
        bad = badOf(run, run.i32(C_STATUS), step + 1);
        break;
      }
    } else {
      if (builtin) {
        // prettier-ignore
        k.vit_eval(builtin.kind, run.at.tdata!, builtin.size, d, run.at.z!, run.at.gz!, run.at.lp!, s, run.at.work! + 2 * d * 8);
      } else {
        evaluateJs(run, "step", s, step + 1);
      }
      const status = k.vi_update(run.at.ctx!, lr, step + 1);
      if (status !== ST_OK) {
        bad = badOf(run, status, step + 1);
        break;
      }
      history[step] = run.f64At(C_ELBO);
      step++;
      if (st.onStep && (await st.onStep({ step, elbo: history[step - 1]! })) === false) {
        stopReason = "callback";
        break;
      }
    }
    if (conv && step % conv.every === 0 && check()) {
      convergedAt = step;
      stopReason = "converged";
      break;
    }
    if (now() - lastYield >= YIELD_MS) {
      await nextTurn();
      lastYield = now();
    }
  }

  let divergedAt: VIDivergence | null = null;
  if (bad) {
    const message = bad.message();
    if (st.throwOnDivergence) throw viDiverged(message);
    stopReason = bad.kind === "-inf" ? "outside-support" : "diverged";
    divergedAt = { step: bad.step, draw: bad.draw, coordinate: bad.coordinate, value: bad.value, message };
  }
  const w = logWeights(run, STREAM_FINAL, st.evaluationDraws);
  const { mean: elbo, stdErr: elboStdErr, logMeanExp } = summaryOf(run, w);
  // Draws outside the support have weight 0 (ln w = -inf): PSIS takes them as they are.
  let finite = 0;
  for (const v of w) if (v > -Infinity) finite++;
  const paretoK = finite > 0 ? psis(core, w).k : Infinity;
  const params = run.f64().slice(run.at.theta! >> 3, (run.at.theta! >> 3) + np);
  return new VIPosterior(core, {
    family: st.family,
    dim: d,
    params,
    elbo,
    elboStdErr,
    logEvidence: logMeanExp,
    paretoK,
    history: history.slice(0, step),
    checks,
    steps: step,
    converged: convergedAt !== null,
    convergedAt,
    diverged: bad !== null,
    divergedAt,
    stopReason,
  });
}
