// Optimisers, learning-rate schedules and gradient clipping: mirrors assembly/optim.ts. Options are
// checked once, when an optimiser is made; each step checks its arrays, computes the step's scalars
// (bias corrections, decayed rates) in float64 and runs one kernel per parameter array. State lives
// in the parameters' instance, one set of arrays per parameter array, made at the first step.

import type { Core } from "./wasm/loader.js";
import { OPT_ADAGRAD, OPT_ADAM, OPT_RMSPROP, OPT_SGD, SGD_FIRST, SGD_NESTEROV } from "./wasm/abi.js";
import { WasmArray } from "./wasm/memory.js";
import { flag, numberOption, optionsOf } from "./options.js";
import {
  arrayCountMismatch,
  badHyperparameter,
  badOption,
  badScheduledRate,
  badScheduleStep,
  duplicateParam,
  emptyInput,
  freedBuffer,
  lengthMismatch,
  nesterovNeedsMomentum,
  nonFiniteNorm,
  notArrayList,
  notFloat32WasmArray,
  optimizerDisposed,
  optionRequired,
  otherInstance,
  paramsChanged,
} from "./errors.js";

/** A learning rate as a function of the number of steps already taken (0 for the first step). */
export type Schedule = (step: number) => number;

/** A constant learning rate, or a schedule. */
export type LearningRate = number | Schedule;

/** Float32 arrays in wasm memory: the parameters an optimiser updates, or their gradients. */
export type ParamArrays = readonly WasmArray<"float32">[];

export interface Optimizer {
  /**
   * Updates every `params[i]` in place from `grads[i]` (read, never written). The first step binds
   * the optimiser to these arrays and makes its state in their instance; later steps must pass the
   * same arrays in the same order (reset() starts over).
   */
  step(params: ParamArrays, grads: ParamArrays): void;
  /** Steps taken since creation or the last reset(). */
  readonly stepCount: number;
  /** The learning rate the next step uses (a schedule's value at stepCount). */
  readonly learningRate: number;
  /** Frees the state and sets stepCount to 0: the next step starts afresh, with any arrays. */
  reset(): void;
  /** Frees the state; the optimiser cannot step afterwards. Disposing twice is a no-op. */
  dispose(): void;
}

export interface SgdOptions {
  /** Default 1e-3. */
  learningRate?: LearningRate;
  /** Default 0 (no momentum buffer). */
  momentum?: number;
  /** In [0, 1]; default 0. */
  dampening?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0); default false. */
  nesterov?: boolean;
  /** L2 penalty added to the gradient; default 0. */
  weightDecay?: number;
}

export interface AdamOptions {
  /** Default 1e-3. */
  learningRate?: LearningRate;
  /** In [0, 1); default 0.9. */
  beta1?: number;
  /** In [0, 1); default 0.999. */
  beta2?: number;
  /** Added to the bias-corrected sqrt of the second moment; default 1e-8. */
  epsilon?: number;
  /** Default 0 for Adam (added to the gradient), 1e-2 for AdamW (decoupled), as PyTorch's. */
  weightDecay?: number;
  /** AdamW: decay the parameters by lr * weightDecay instead of adding to the gradient; default false. */
  decoupled?: boolean;
}

export interface RmspropOptions {
  /** Default 1e-2. */
  learningRate?: LearningRate;
  /** Smoothing constant, in [0, 1]; default 0.99. */
  alpha?: number;
  /** Default 1e-8. */
  epsilon?: number;
  /** Default 0. */
  weightDecay?: number;
  /** Default 0. */
  momentum?: number;
  /** Normalise by the estimated variance of the gradient; default false. */
  centered?: boolean;
}

export interface AdagradOptions {
  /** Default 1e-2. */
  learningRate?: LearningRate;
  /** The rate at step t is learningRate / (1 + (t - 1) learningRateDecay); default 0. */
  learningRateDecay?: number;
  /** Default 0. */
  weightDecay?: number;
  /** Initial value of the sum of squared gradients; default 0. */
  initialAccumulatorValue?: number;
  /** Default 1e-10. */
  epsilon?: number;
}

export interface StepScheduleOptions {
  /** The rate of steps [0, stepSize). */
  initial: number;
  /** Factor applied every stepSize steps; default 0.1. */
  gamma?: number;
  /** Steps between decays, a positive integer. */
  stepSize: number;
}

export interface CosineScheduleOptions {
  /** The rate at step 0. */
  initial: number;
  /** The rate at step `steps`; default 0. */
  minimum?: number;
  /** Half-period of the cosine, a positive integer. */
  steps: number;
}

// ---- option checks ----------------------------------------------------------------------------

const FINITE_NON_NEGATIVE = "a finite number >= 0";

function nonNegative(name: string, v: unknown, fallback: number): number {
  const x = numberOption(name, v);
  if (x === undefined) return fallback;
  if (!(x >= 0 && x < Infinity)) throw badHyperparameter(name, FINITE_NON_NEGATIVE, x);
  return x;
}

/** A number in [0, 1) (or [0, 1] when `closed`). */
function fraction(name: string, v: unknown, fallback: number, closed: boolean): number {
  const x = numberOption(name, v);
  if (x === undefined) return fallback;
  if (!(x >= 0 && (closed ? x <= 1 : x < 1))) {
    throw badHyperparameter(name, closed ? "a number in [0, 1]" : "a number in [0, 1)", x);
  }
  return x;
}

function required(fn: string, name: string, v: unknown): number {
  if (v === undefined) throw optionRequired(fn, name);
  return nonNegative(name, v, 0);
}

function positiveInteger(fn: string, name: string, v: unknown): number {
  if (v === undefined) throw optionRequired(fn, name);
  const x = numberOption(name, v)!;
  if (!(Number.isSafeInteger(x) && x >= 1)) throw badHyperparameter(name, "a positive integer", x);
  return x;
}

function rateOption(v: unknown, fallback: number): LearningRate {
  if (v === undefined) return fallback;
  if (typeof v === "function") return v as Schedule;
  if (typeof v !== "number") throw badOption("learningRate", "a number or a function (step) -> rate", v);
  if (!(v >= 0 && v < Infinity)) throw badHyperparameter("learningRate", FINITE_NON_NEGATIVE, v);
  return v;
}

function rateAt(rate: LearningRate, step: number): number {
  if (typeof rate === "number") return rate;
  const r: unknown = rate(step);
  if (typeof r !== "number" || !(r >= 0 && r < Infinity)) throw badScheduledRate(step, r);
  return r;
}

// ---- array checks -----------------------------------------------------------------------------

/** The list as an array of live float32 WasmArrays of one instance, or the matching error. */
function checkList(name: string, list: unknown, core: Core | null): Core {
  if (!Array.isArray(list)) throw notArrayList(name, list);
  if (list.length === 0) throw emptyInput(name);
  let owner = core;
  for (let i = 0; i < list.length; i++) {
    const a: unknown = list[i];
    if (!(a instanceof WasmArray) || a.dtype !== "float32") throw notFloat32WasmArray(name, i, a);
    if (a.freed) throw freedBuffer();
    owner ??= a.core;
    if (a.core !== owner) throw otherInstance(name, i, core ? "params[0]" : `${name}[0]`);
  }
  return owner!;
}

/** The instance of `params`, after checking that `grads` matches them array by array. */
function checkPairs(params: unknown, grads: unknown): Core {
  const core = checkList("params", params, null);
  checkList("grads", grads, core);
  const p = params as ParamArrays;
  const g = grads as ParamArrays;
  if (p.length !== g.length) throw arrayCountMismatch(p.length, g.length);
  for (let i = 0; i < p.length; i++) {
    if (p[i]!.length !== g[i]!.length) {
      throw lengthMismatch(`params[${i}]`, p[i]!.length, `grads[${i}]`, g[i]!.length);
    }
  }
  return core;
}

// ---- optimisers -------------------------------------------------------------------------------

/** One update rule: how many state arrays each parameter array needs, and the kernel call. */
interface Rule {
  readonly states: number;
  /** The state's initial value (Adagrad's initialAccumulatorValue; else 0). */
  readonly initial: number;
  /** Updates n parameters at p from gradients at g, state at s, at step t (1 first) with rate lr. */
  update(core: Core, p: number, g: number, s: readonly number[], n: number, lr: number, t: number): void;
  /** The same rule on float64 parameters: optim_f64's kind and hyperparameters (assembly/optim.ts). */
  readonly f64: { readonly kind: number; readonly hyper: readonly number[] };
}

/** An optimiser's rule as float64 loops run it (variational inference): fixed when it was made. */
export interface Float64Rule {
  /** OPT_* of src/wasm/abi.ts (assembly/optim.ts). */
  readonly kind: number;
  readonly hyper: readonly number[];
  /** State arrays per parameter array, and their initial value. */
  readonly states: number;
  readonly initial: number;
  /** The rate at step `step` (0 first). */
  rateAt(step: number): number;
  /** Whether the rate is a number (not a schedule). */
  readonly constantRate: boolean;
}

/** @internal The optimisers klcore makes (not an Optimizer written by a caller). */
export class RuleOptimizer implements Optimizer {
  private steps = 0;
  private bound: WasmArray<"float32">[] | null = null;
  private state: WasmArray<"float32">[][] = [];
  // The state's addresses, per parameter array (a block never moves, even when memory grows).
  private ptrs: number[][] = [];
  private disposed = false;

  constructor(
    private readonly rate: LearningRate,
    private readonly rule: Rule,
  ) {}

  get stepCount(): number {
    return this.steps;
  }

  /** @internal The rule for float64 parameters; this optimiser's own state and count stay untouched. */
  float64Rule(): Float64Rule {
    if (this.disposed) throw optimizerDisposed();
    const { rate, rule } = this;
    return {
      kind: rule.f64.kind,
      hyper: rule.f64.hyper,
      states: rule.states,
      initial: rule.initial,
      rateAt: (step) => rateAt(rate, step),
      constantRate: typeof rate === "number",
    };
  }

  get learningRate(): number {
    return rateAt(this.rate, this.steps);
  }

  step(params: ParamArrays, grads: ParamArrays): void {
    if (this.disposed) throw optimizerDisposed();
    const core = checkPairs(params, grads);
    if (this.bound) {
      if (params.length !== this.bound.length) {
        throw paramsChanged(
          `params has ${params.length} arrays, not the ${this.bound.length} of the first step`,
        );
      }
      for (let i = 0; i < params.length; i++) {
        if (params[i] !== this.bound[i])
          throw paramsChanged(`params[${i}] is not the array updated there before`);
      }
    } else {
      const seen = new Map<WasmArray<"float32">, number>();
      for (let i = 0; i < params.length; i++) {
        const first = seen.get(params[i]!);
        if (first !== undefined) throw duplicateParam(i, first);
        seen.set(params[i]!, i);
      }
    }
    // Everything that can throw runs before the first parameter changes.
    const lr = rateAt(this.rate, this.steps);
    if (!this.bound) this.bind(core, params);
    const t = this.steps + 1;
    for (let i = 0; i < params.length; i++) {
      const p = params[i]!;
      this.rule.update(core, p.ptr, grads[i]!.ptr, this.ptrs[i]!, p.length, lr, t);
    }
    this.steps = t;
  }

  reset(): void {
    if (this.disposed) throw optimizerDisposed();
    this.release();
    this.steps = 0;
  }

  /**
   * @internal The state and step count as they are now, and a function that puts them back: fit()
   * takes one when it checks x batch by batch, so that a bad value found after some steps leaves
   * the optimiser as fit() found it.
   */
  checkpoint(): () => void {
    const steps = this.steps;
    const bound = this.bound;
    const values = this.state.map((s) => s.map((a) => a.array.slice()));
    return () => {
      if (this.disposed) return;
      if (bound === null) this.release();
      else {
        if (this.bound !== bound) {
          this.release();
          this.bind(bound[0]!.core, bound);
        }
        this.state.forEach((s, i) => s.forEach((a, k) => a.array.set(values[i]![k]!)));
      }
      this.steps = steps;
    };
  }

  dispose(): void {
    this.release();
    this.disposed = true;
  }

  /** Makes the state arrays; on failure frees those already made and leaves the optimiser unbound. */
  private bind(core: Core, params: ParamArrays): void {
    const { states, initial } = this.rule;
    this.state = [];
    try {
      for (const p of params) {
        const s: WasmArray<"float32">[] = [];
        this.state.push(s);
        for (let k = 0; k < states; k++) s.push(new WasmArray(core, "float32", p.length));
      }
    } catch (e) {
      this.release();
      throw e;
    }
    // After every allocation: a view taken earlier may have been detached by memory growth.
    for (const s of this.state) for (const a of s) a.array.fill(initial);
    this.ptrs = this.state.map((s) => s.map((a) => a.ptr));
    this.bound = params.slice();
  }

  private release(): void {
    for (const s of this.state) for (const a of s) a.free();
    this.state = [];
    this.ptrs = [];
    this.bound = null;
  }
}

const SGD_OPTIONS = ["learningRate", "momentum", "dampening", "nesterov", "weightDecay"] as const;
const ADAM_OPTIONS = ["learningRate", "beta1", "beta2", "epsilon", "weightDecay", "decoupled"] as const;
const RMSPROP_OPTIONS = ["learningRate", "alpha", "epsilon", "weightDecay", "momentum", "centered"] as const;
const ADAGRAD_OPTIONS = [
  "learningRate",
  "learningRateDecay",
  "weightDecay",
  "initialAccumulatorValue",
  "epsilon",
] as const;

/** The float64 rule of an optimiser made by sgd(), adam(), rmsprop() or adagrad(), else null. */
export function float64RuleOf(optimizer: unknown): Float64Rule | null {
  return optimizer instanceof RuleOptimizer ? optimizer.float64Rule() : null;
}

/** Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay (torch.optim.SGD). */
export function sgd(options?: SgdOptions): Optimizer {
  const o = optionsOf("sgd", options, SGD_OPTIONS);
  const rate = rateOption(o.learningRate, 1e-3);
  const momentum = nonNegative("momentum", o.momentum, 0);
  const dampening = fraction("dampening", o.dampening, 0, true);
  const nesterov = flag("nesterov", o.nesterov);
  const wd = nonNegative("weightDecay", o.weightDecay, 0);
  if (nesterov && (momentum === 0 || dampening !== 0)) throw nesterovNeedsMomentum(momentum, dampening);
  const flags = nesterov ? SGD_NESTEROV : 0;
  return new RuleOptimizer(rate, {
    states: momentum > 0 ? 1 : 0,
    initial: 0,
    f64: { kind: OPT_SGD, hyper: [wd, momentum, 1 - dampening, nesterov ? 1 : 0] },
    update: (core, p, g, s, n, lr, t) =>
      core.k.sgd_f32(
        p,
        g,
        s[0] ?? 0,
        n,
        lr,
        wd,
        momentum,
        1 - dampening,
        t === 1 ? flags | SGD_FIRST : flags,
      ),
  });
}

/** Adam (torch.optim.Adam), or AdamW with `decoupled: true` (torch.optim.AdamW). */
export function adam(options?: AdamOptions): Optimizer {
  const o = optionsOf("adam", options, ADAM_OPTIONS);
  const rate = rateOption(o.learningRate, 1e-3);
  const beta1 = fraction("beta1", o.beta1, 0.9, false);
  const beta2 = fraction("beta2", o.beta2, 0.999, false);
  const eps = nonNegative("epsilon", o.epsilon, 1e-8);
  const decoupled = flag("decoupled", o.decoupled);
  const wd = nonNegative("weightDecay", o.weightDecay, decoupled ? 1e-2 : 0);
  return new RuleOptimizer(rate, {
    states: 2,
    initial: 0,
    f64: { kind: OPT_ADAM, hyper: [beta1, beta2, eps, wd, decoupled ? 1 : 0] },
    update: (core, p, g, s, n, lr, t) => {
      if (decoupled) core.k.adam_f32(p, g, s[0]!, s[1]!, n, beta1, beta2, eps, lr, t, 0, 1 - lr * wd);
      else core.k.adam_f32(p, g, s[0]!, s[1]!, n, beta1, beta2, eps, lr, t, wd, 1);
    },
  });
}

/** RMSprop (torch.optim.RMSprop), optionally centered and with momentum. */
export function rmsprop(options?: RmspropOptions): Optimizer {
  const o = optionsOf("rmsprop", options, RMSPROP_OPTIONS);
  const rate = rateOption(o.learningRate, 1e-2);
  const alpha = fraction("alpha", o.alpha, 0.99, true);
  const eps = nonNegative("epsilon", o.epsilon, 1e-8);
  const wd = nonNegative("weightDecay", o.weightDecay, 0);
  const momentum = nonNegative("momentum", o.momentum, 0);
  const centered = flag("centered", o.centered);
  // State: the square average, then the gradient average (centered), then the momentum buffer.
  const c = centered ? 1 : 0;
  const b = momentum > 0 ? c + 1 : 0;
  return new RuleOptimizer(rate, {
    states: 1 + c + (b ? 1 : 0),
    initial: 0,
    f64: { kind: OPT_RMSPROP, hyper: [alpha, eps, wd, momentum, c] },
    update: (core, p, g, s, n, lr) =>
      core.k.rmsprop_f32(p, g, s[0]!, c ? s[c]! : 0, b ? s[b]! : 0, n, lr, alpha, eps, wd, momentum),
  });
}

/** Adagrad (torch.optim.Adagrad). */
export function adagrad(options?: AdagradOptions): Optimizer {
  const o = optionsOf("adagrad", options, ADAGRAD_OPTIONS);
  const rate = rateOption(o.learningRate, 1e-2);
  const decay = nonNegative("learningRateDecay", o.learningRateDecay, 0);
  const wd = nonNegative("weightDecay", o.weightDecay, 0);
  const initial = nonNegative("initialAccumulatorValue", o.initialAccumulatorValue, 0);
  const eps = nonNegative("epsilon", o.epsilon, 1e-10);
  return new RuleOptimizer(rate, {
    states: 1,
    initial,
    f64: { kind: OPT_ADAGRAD, hyper: [decay, eps, wd] },
    update: (core, p, g, s, n, lr, t) =>
      core.k.adagrad_f32(p, g, s[0]!, n, lr / (1 + (t - 1) * decay), eps, wd),
  });
}

// ---- schedules --------------------------------------------------------------------------------

function checkStep(step: unknown): number {
  if (typeof step !== "number" || !Number.isSafeInteger(step) || step < 0) throw badScheduleStep(step);
  return step;
}

/** initial * gamma^floor(step / stepSize): PyTorch's StepLR. */
export function stepSchedule(options: StepScheduleOptions): Schedule {
  const o = optionsOf("stepSchedule", options, ["initial", "gamma", "stepSize"]);
  const initial = required("stepSchedule", "initial", o.initial);
  const gamma = nonNegative("gamma", o.gamma, 0.1);
  const stepSize = positiveInteger("stepSchedule", "stepSize", o.stepSize);
  return (step) => initial * gamma ** Math.floor(checkStep(step) / stepSize);
}

/**
 * minimum + (initial - minimum) (1 + cos(pi step / steps)) / 2: PyTorch's CosineAnnealingLR. Past
 * `steps` the cosine goes on, back up to `initial` at 2 steps, as PyTorch's does.
 */
export function cosineSchedule(options: CosineScheduleOptions): Schedule {
  const o = optionsOf("cosineSchedule", options, ["initial", "minimum", "steps"]);
  const initial = required("cosineSchedule", "initial", o.initial);
  const minimum = nonNegative("minimum", o.minimum, 0);
  const steps = positiveInteger("cosineSchedule", "steps", o.steps);
  return (step) => minimum + ((initial - minimum) * (1 + Math.cos((Math.PI * checkStep(step)) / steps))) / 2;
}

// ---- gradient clipping ------------------------------------------------------------------------

/**
 * Scales the gradients in place so that their global L2 norm is at most maxNorm, and returns the
 * norm before clipping (PyTorch's clip_grad_norm_: each array is multiplied by
 * maxNorm / (norm + 1e-6) when that is < 1). A non-finite norm is a RangeError, the gradients
 * unchanged (PyTorch's error_if_nonfinite).
 */
export function clipGradNorm(grads: WasmArray<"float32"> | ParamArrays, maxNorm: number): number {
  const list: unknown = grads instanceof WasmArray ? [grads] : grads;
  const core = checkList("grads", list, null);
  if (typeof maxNorm !== "number") throw badOption("maxNorm", "a number", maxNorm);
  if (!(maxNorm >= 0)) throw badHyperparameter("maxNorm", "a number >= 0 (Infinity: measure only)", maxNorm);
  const arrays = list as ParamArrays;
  let sum = 0;
  for (const g of arrays) sum += core.k.sumsq_f32(g.ptr, g.length);
  const norm = Math.sqrt(sum);
  if (!Number.isFinite(norm)) throw nonFiniteNorm(norm);
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) for (const g of arrays) core.k.scale_f32(g.ptr, g.length, coef);
  return norm;
}
