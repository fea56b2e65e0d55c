// fit(): minibatch training of a model by its loss (KL by default) in the model's instance. Every
// option and all the data are checked before the first parameter changes, but the finiteness of x,
// checked batch by batch in the first epoch (a bad value puts back the state the call started
// from). Each batch runs synchronously (gather, forward, loss and gradient, backward, optimiser
// step, all in wasm); fit yields to the event loop after the first and then every YIELD_MS, so a
// page stays responsive and callbacks, an AbortSignal or dispose() can act between batches. The
// batch plan (src/objective.ts) and the guard's copies of the parameters are made once per call, in
// wasm memory, so a batch calls kernels only; the parameters that gave the last finite loss are
// kept so divergence never leaves them non-finite.

import { Batch, evaluateAll, lossNameOf, type LossName } from "./objective.js";
import {
  argmaxRow,
  gatherRows,
  targetsOf,
  type FeatureInput,
  type Features,
  type TargetInput,
  type Targets,
} from "./data.js";
import { DenseModel, type Model } from "./models.js";
import type { Core } from "./wasm/loader.js";
import { WasmArray } from "./wasm/memory.js";
import { mulberry32, shuffle as shuffleRows } from "./random.js";
import { holdOut, type ValidationSplit } from "./split.js";
import { nextTurn, YIELD_MS } from "./turn.js";
import { ShardPool, workersOf } from "./pool.js";
import {
  adagrad,
  adam,
  clipGradNorm,
  rmsprop,
  RuleOptimizer,
  sgd,
  type LearningRate,
  type Optimizer,
} from "./optim.js";
import { flag, numberOption, optionsOf, type Options } from "./options.js";
import { temperatureOf } from "./softmax.js";
import {
  badHyperparameter,
  badOption,
  badOptimizerName,
  badSeed,
  badValidationSplit,
  disposedDuringFit,
  modelBusy,
  modelDisposed,
  notAbortSignal,
  notCallback,
  notModel,
  rateWithOptimizer,
  trainingDiverged,
  xChangedDuringFit,
} from "./errors.js";

export interface FitData {
  /** Features, rows x inputs (absent or null for a categorical model). */
  x?: FeatureInput | null;
  /** Class indices, or probabilities (rows x classes): soft targets, label distributions. */
  y: TargetInput;
}

export interface EarlyStopping {
  /** Epochs without improvement before stopping; default 0 (stop at the first). */
  patience?: number;
  /** The least decrease that counts as an improvement; default 0. */
  minDelta?: number;
  /** Put back the parameters of the best epoch when stopping; default true. */
  restoreBest?: boolean;
}

/** What one epoch measured. Training figures are means over the epoch's batches, each batch
 * measured before its update; validation figures after the epoch, null without validation data. */
export interface EpochStats {
  /** 1 for the first epoch. */
  epoch: number;
  /** The mean training loss. */
  loss: number;
  /** The mean KL(p || q) from the training targets to the model (nats), whatever the loss. */
  kl: number;
  /** The fraction of training rows predicted right (argmax). */
  accuracy: number;
  valLoss: number | null;
  valKl: number | null;
  valAccuracy: number | null;
  /** Wall time of the epoch in milliseconds, validation included. */
  time: number;
  /** The batches run; fewer than a full epoch's when stopped inside it. */
  batches: number;
  /** false for an epoch cut short (a callback, the signal or divergence stopped it). */
  complete: boolean;
}

export interface BatchInfo {
  epoch: number;
  /** 1 for the first batch of the epoch. */
  batch: number;
  /** Batches per epoch. */
  batches: number;
  rows: number;
  /** The batch's mean loss and KL, before its update. */
  loss: number;
  kl: number;
}

// What a callback returns: false stops training; anything else (nothing included) goes on.
type Verdict = unknown;

export interface FitOptions {
  /** 'kl' (default), 'cross-entropy', 'mse', 'l1' or 'js', each with its exact gradient. */
  loss?: LossName;
  /** An optimiser made by adam(), sgd()... (kept after fit), or its name; default 'adam'. */
  optimizer?: Optimizer | "adam" | "sgd" | "rmsprop" | "adagrad";
  /** The rate of an optimizer given by name (a number or a schedule); default that optimiser's. */
  learningRate?: LearningRate;
  /** Default 10; 0 trains nothing. */
  epochs?: number;
  /** Default 32. */
  batchSize?: number;
  /** Reshuffle the training rows every epoch; default true. */
  shuffle?: boolean;
  /** Seeds the shuffling; default 0. */
  seed?: number;
  /** Divides the logits in the loss (distillation); default 1. predict() uses its own. */
  temperature?: number;
  /** Held-out data, or the fraction of the rows to hold out (see validationSplit). */
  validation?: FitData | number;
  /**
   * How a fraction is held out: 'stratified' (default: every class in proportion, its rows drawn
   * by a generator seeded from `seed`; a soft target's class is its argmax), 'random' (a seeded
   * sample) or 'last' (the last rows, as Keras).
   */
  validationSplit?: ValidationSplit;
  /** Stop when the validation loss (the training loss without validation) stops improving. */
  earlyStopping?: EarlyStopping;
  /** Scale the gradients to at most this global L2 norm before each step. */
  clipNorm?: number;
  /** 'stop' (default): resolve with diverged: true. 'throw': reject with a RangeError. */
  onDivergence?: "stop" | "throw";
  /** After each epoch; returning false (or a promise of false) stops training. */
  onEpoch?: (stats: EpochStats) => Verdict | Promise<Verdict>;
  /** After each batch's update; returning false (or a promise of false) stops training. */
  onBatch?: (info: BatchInfo) => Verdict | Promise<Verdict>;
  /** Aborting stops training before the next batch; fit resolves with stopReason 'aborted'. */
  signal?: AbortSignal;
  /**
   * Train data-parallel over this many threads (the calling one and worker threads), or "auto" (the
   * available cores), at most 8: each row and each gradient element is computed as without the
   * option, whichever thread computes it, so the history and the parameters are the same bits for
   * any count and as without workers (docs/workers.md). Absent: this thread alone.
   */
  workers?: number | "auto";
}

/**
 * What the divergence guard saw at a batch: its loss NaN or infinite; an update leaving a parameter
 * non-finite; its KL (the metric, whatever the loss) over 100 times the first batch's and over it by
 * 1000 nats; a logit / T of magnitude 2^24 or more (float32 no longer resolves odds there).
 */
export type DivergenceReason = "non-finite-loss" | "non-finite-update" | "exploding-kl" | "logit-overflow";

/**
 * The KL past which a batch counts as exploding, from the first batch's KL of a fit() call: a
 * model that puts e^-1000 on its targets on average got there by a runaway step, not by noise.
 */
export const explodingKl = (first: number): number => Math.max(100 * first, first + 1000);

export type StopReason = "completed" | "early-stopping" | "callback" | "aborted" | "diverged";

export interface FitResult {
  history: EpochStats[];
  /** Early stopping ended training. */
  stoppedEarly: boolean;
  /** The divergence guard stopped training (see DivergenceReason): parameters restored. */
  diverged: boolean;
  /** Where divergence happened: the epoch, the batch (1-based), its loss and what was seen. */
  divergedAt: { epoch: number; batch: number; loss: number; reason: DivergenceReason } | null;
  stopReason: StopReason;
  /** With early stopping, the epoch whose parameters the model holds when restoreBest; else null. */
  bestEpoch: number | null;
  /** The rows a validation fraction held out (indices into the data, ascending); else null. */
  heldOut: Int32Array | null;
  /** The threads that computed the gradients: the workers used, or 1 without the option. */
  threads: number;
}

const FIT_OPTIONS = [
  "loss",
  "optimizer",
  "learningRate",
  "epochs",
  "batchSize",
  "shuffle",
  "seed",
  "temperature",
  "validation",
  "validationSplit",
  "earlyStopping",
  "clipNorm",
  "onDivergence",
  "onEpoch",
  "onBatch",
  "signal",
  "workers",
] as const;

const EVAL_ROWS = 1024;

function count(name: string, v: unknown, fallback: number, least: number): number {
  const n = numberOption(name, v) ?? fallback;
  if (!Number.isSafeInteger(n) || n < least) {
    throw badHyperparameter(name, least === 0 ? "an integer >= 0" : "a positive integer", n);
  }
  return n;
}

function optimizerOf(v: unknown, rate: unknown): { optimizer: Optimizer; owned: boolean } {
  if (v !== undefined && typeof v !== "string") {
    const o = v as Partial<Optimizer> | null;
    if (
      typeof o !== "object" ||
      o === null ||
      typeof o.step !== "function" ||
      typeof o.reset !== "function"
    ) {
      throw badOptimizerName(v);
    }
    if (rate !== undefined) throw rateWithOptimizer();
    return { optimizer: v as Optimizer, owned: false };
  }
  const options = rate === undefined ? {} : { learningRate: rate as LearningRate };
  const name = v ?? "adam";
  const make = { adam, sgd, rmsprop, adagrad }[name as "adam"];
  if (!make || !Object.hasOwn({ adam, sgd, rmsprop, adagrad }, name)) throw badOptimizerName(v);
  return { optimizer: make(options), owned: true };
}

function callbackOf(name: string, v: unknown): ((arg: never) => unknown) | null {
  if (v === undefined) return null;
  if (typeof v !== "function") throw notCallback(name, v);
  return v as (arg: never) => unknown;
}

interface Split {
  features: Features | null;
  targets: Targets;
}

/** The given rows of a checked dataset, in the given order (copies). */
function pick(d: Split, inputs: number, classes: number, rows: Int32Array): Split {
  const n = rows.length;
  const features = d.features ? { rows: n, values: new Float32Array(n * inputs) } : null;
  if (features) gatherRows(d.features!.values, inputs, rows, 0, n, features.values);
  const t = d.targets;
  if (t.kind === "indices")
    return { features, targets: { kind: "indices", rows: n, labels: rows.map((r) => t.labels[r]!) } };
  const values = new Float32Array(n * classes);
  gatherRows(t.values, classes, rows, 0, n, values);
  return { features, targets: { kind: "probabilities", rows: n, values } };
}

/** The class of each row: its index, or the argmax of its target probabilities. */
function strataOf(t: Targets, classes: number): Int32Array {
  if (t.kind === "indices") return t.labels;
  return Int32Array.from({ length: t.rows }, (_, r) => argmaxRow(t.values, r, classes));
}

/** data's x and y checked (x's values finite only with `finite`), with x as given. */
function dataOf(model: DenseModel, name: string, data: unknown, finite: boolean): Split & { x: unknown } {
  if (typeof data !== "object" || data === null) throw badOption(name, "an object { x, y }", data);
  const d = data as Partial<FitData>;
  const features = model.features(d.x, finite);
  const targets = targetsOf(d.y, model.classes, features?.rows);
  return { features, targets, x: d.x };
}

/** Copies of a model's parameters in wasm memory: `slots` of them, each the arrays end to end. */
class Copies {
  private readonly core: Core;
  private readonly params: readonly WasmArray<"float32">[];
  private readonly block: WasmArray<"float32">;

  constructor(
    private readonly model: DenseModel,
    slots: number,
  ) {
    this.core = model.core;
    this.params = model.parameters();
    this.block = new WasmArray(this.core, "float32", slots * model.parameterCount);
  }

  /** Copies the parameters into `slot`; with `check`, false at the first one not finite. */
  save(slot: number, check = false): boolean {
    const k = this.core.k;
    let at = this.at(slot);
    for (const p of this.params) {
      if (check) {
        if (!k.copy_finite_f32(at, p.ptr, p.length)) return false;
      } else k.copy(at, p.ptr, p.length * 4);
      at += p.length * 4;
    }
    return true;
  }

  restore(slot: number): void {
    let at = this.at(slot);
    for (const p of this.params) {
      this.core.k.copy(p.ptr, at, p.length * 4);
      at += p.length * 4;
    }
  }

  private at(slot: number): number {
    // A disposed model's arrays are freed: their memory may belong to others now.
    if (this.model.disposed) throw modelDisposed();
    return this.block.ptr + slot * this.model.parameterCount * 4;
  }

  free(): void {
    this.block.free();
  }
}

/**
 * The divergence guard's parameters: those before the last step and those after it, each copied
 * and checked finite in one pass after its step. A batch whose loss or logits diverge puts back the
 * ones before the last step (they gave the last finite loss); a step that leaves a parameter
 * non-finite, the ones after the step before it.
 */
class Guard {
  private readonly copies: Copies;
  // The slots of the parameters before and after the last step (the same one before any step).
  private before = 0;
  private after = 0;

  constructor(
    model: DenseModel,
    private readonly optimizer: Optimizer,
    private readonly clipNorm: number | undefined,
  ) {
    this.copies = new Copies(model, 2);
    this.copies.save(0);
  }

  /**
   * One optimiser step from the gradients in the model; false (parameters not yet put back) when
   * the gradient norm or an updated parameter is not finite.
   */
  step(params: readonly WasmArray<"float32">[], grads: readonly WasmArray<"float32">[]): boolean {
    if (this.clipNorm !== undefined) {
      try {
        clipGradNorm(grads, this.clipNorm);
      } catch {
        // Only a non-finite norm throws here (the arrays and maxNorm are checked).
        return false;
      }
    }
    this.optimizer.step(params, grads);
    const into = 1 - this.after;
    if (!this.copies.save(into, true)) return false;
    this.before = this.after;
    this.after = into;
    return true;
  }

  /** Puts back the parameters the guard kept for a divergence of this kind. */
  restore(reason: DivergenceReason): void {
    this.copies.restore(reason === "non-finite-update" ? this.after : this.before);
  }

  free(): void {
    this.copies.free();
  }
}

interface Settings {
  loss: LossName;
  epochs: number;
  batchSize: number;
  shuffle: boolean;
  seed: number;
  temperature: number;
  clipNorm: number | undefined;
  onDivergence: "stop" | "throw";
  onEpoch: FitOptions["onEpoch"] | null;
  onBatch: FitOptions["onBatch"] | null;
  signal: AbortSignal | undefined;
  workers: number | "auto" | null;
  early: { patience: number; minDelta: number; restoreBest: boolean } | null;
  validationSplit: ValidationSplit;
}

/** Every option of fit() but the data, the validation and the optimiser, checked. */
function settingsOf(o: Options): Settings {
  const seed = numberOption("seed", o.seed) ?? 0;
  if (!Number.isSafeInteger(seed)) throw badSeed(seed);
  const clipNorm = numberOption("clipNorm", o.clipNorm);
  if (clipNorm !== undefined && !(clipNorm > 0)) {
    throw badHyperparameter("clipNorm", "a number > 0", clipNorm);
  }
  const onDivergence = o.onDivergence ?? "stop";
  if (onDivergence !== "stop" && onDivergence !== "throw") {
    throw badOption("onDivergence", "'stop' or 'throw'", onDivergence);
  }
  const validationSplit = o.validationSplit ?? "stratified";
  if (validationSplit !== "stratified" && validationSplit !== "random" && validationSplit !== "last") {
    throw badOption("validationSplit", "'stratified', 'random' or 'last'", validationSplit);
  }
  const signal = o.signal as AbortSignal | undefined;
  if (signal !== undefined && !(typeof signal === "object" && signal !== null && "aborted" in signal)) {
    throw notAbortSignal(signal);
  }
  let early: Settings["early"] = null;
  if (o.earlyStopping !== undefined) {
    const es = optionsOf("earlyStopping", o.earlyStopping, ["patience", "minDelta", "restoreBest"]);
    const minDelta = numberOption("minDelta", es.minDelta) ?? 0;
    if (!(minDelta >= 0 && minDelta < Infinity)) {
      throw badHyperparameter("minDelta", "a finite number >= 0", minDelta);
    }
    early = {
      patience: count("patience", es.patience, 0, 0),
      minDelta,
      restoreBest: flag("restoreBest", es.restoreBest, true),
    };
  }
  return {
    loss: lossNameOf(o.loss),
    epochs: count("epochs", o.epochs, 10, 0),
    batchSize: count("batchSize", o.batchSize, 32, 1),
    shuffle: flag("shuffle", o.shuffle, true),
    seed,
    temperature: temperatureOf(o),
    clipNorm,
    onDivergence,
    onEpoch: callbackOf("onEpoch", o.onEpoch) as FitOptions["onEpoch"] | null,
    onBatch: callbackOf("onBatch", o.onBatch) as FitOptions["onBatch"] | null,
    signal,
    workers: workersOf(o.workers),
    early,
    validationSplit,
  };
}

/**
 * The training rows and the held-out ones: `validation` data, or a fraction of the rows. With
 * `finite` false x's values are not checked finite; `check()` then throws the error naming the first
 * bad one (data's, then validation's), as the check on the way in would have.
 */
function splitOf(
  model: DenseModel,
  data: unknown,
  validation: unknown,
  how: ValidationSplit,
  seed: number,
  finite: boolean,
): { train: Split; held: Split | null; heldRows: Int32Array | null; check(): void } {
  const all = dataOf(model, "data", data, finite);
  const sources = [all];
  const check = () => {
    for (const s of sources) if (s.features) model.checkFinite(s.x, s.features);
  };
  if (validation === undefined) return { train: all, held: null, heldRows: null, check };
  if (typeof validation !== "number") {
    const held = dataOf(model, "validation", validation, finite);
    sources.push(held);
    return { train: all, held, heldRows: null, check };
  }
  const { inputs, classes } = model;
  const total = all.targets.rows;
  const cut = total - Math.round(total * validation);
  if (!(validation > 0 && validation < 1) || cut < 1 || cut >= total) {
    throw badValidationSplit(validation, total);
  }
  const labels = how === "stratified" ? strataOf(all.targets, classes) : undefined;
  const { train: trainRows, held: heldRows } = holdOut(total, total - cut, { method: how, seed, labels });
  return {
    train: pick(all, inputs, classes, trainRows),
    held: pick(all, inputs, classes, heldRows),
    heldRows,
    check,
  };
}

/** Trains `model` on `data` by minimising the loss; see FitOptions and FitResult. */
export async function fit(model: Model, data: FitData, options?: FitOptions): Promise<FitResult> {
  // ---- every check, before anything changes ----
  if (!(model instanceof DenseModel)) throw notModel(model);
  if (model.disposed) throw modelDisposed();
  if (model.busy) throw modelBusy();
  const o = optionsOf("fit", options, FIT_OPTIONS);
  const settings = settingsOf(o);
  const { loss, epochs, batchSize, shuffle, seed, temperature, clipNorm } = settings;
  const { onDivergence, onEpoch, onBatch, signal, early } = settings;
  // x is checked finite batch by batch in the first epoch, each batch as it is gathered (in cache),
  // where fit can put back what the steps before a bad value changed: not with workers (they take x
  // whole) nor with an optimiser of the caller's own (it has no checkpoint).
  const byBatch =
    epochs > 0 &&
    settings.workers === null &&
    (typeof o.optimizer !== "object" || o.optimizer instanceof RuleOptimizer);
  const split = splitOf(model, data, o.validation, settings.validationSplit, seed, !byBatch);
  const { train, held, heldRows } = split;
  const { optimizer, owned } = optimizerOf(o.optimizer, o.learningRate);

  // ---- training ----
  const rows = train.targets.rows;
  const batches = Math.ceil(rows / batchSize);
  const params = model.parameters();
  const grads = model.gradients();
  const random = mulberry32(seed);
  // 0 .. rows - 1 by a loop: a typed array's map() calls its callback per row, a cost per fit() call.
  const order = new Int32Array(rows);
  for (let i = 0; i < rows; i++) order[i] = i;
  const history: EpochStats[] = [];
  let stopReason: StopReason = "completed";
  let divergedAt: FitResult["divergedAt"] = null;
  let bestLoss = Infinity;
  let bestEpoch: number | null = null;
  let waited = 0;

  model.busy = true;
  let batch: Batch | null = null;
  let check: Batch | null = null;
  let guard: Guard | null = null;
  let best: Copies | null = null;
  let pool: ShardPool | null = null;
  let start: Copies | null = null;
  try {
    guard = new Guard(model, optimizer, clipNorm);
    // Checking x batch by batch, fit keeps the state it started from: a bad value found after some
    // steps puts it back, then throws the error the check on the way in would have.
    let back: (() => void) | null = null;
    if (byBatch && (train.features || held?.features)) {
      start = new Copies(model, 1);
      start.save(0);
      back = (optimizer as RuleOptimizer).checkpoint();
    }
    const refuse = (): never => {
      start?.restore(0);
      back?.();
      split.check();
      throw xChangedDuringFit();
    };
    best = early?.restoreBest ? new Copies(model, 1) : null;
    if (settings.workers !== null) {
      pool = await ShardPool.start({
        model,
        loss,
        temperature,
        batchSize,
        features: train.features,
        targets: train.targets,
        workers: settings.workers,
      });
    } else batch = new Batch(model.core, model, loss, train.targets, Math.min(batchSize, rows));
    if (held) {
      check = new Batch(model.core, model, loss, held.targets, Math.min(EVAL_ROWS, held.targets.rows));
    }
    const diverge = async (
      epoch: number,
      b: number,
      value: number,
      reason: DivergenceReason,
    ): Promise<void> => {
      guard!.restore(reason);
      // Its moments hold the diverging step: start it afresh should training continue.
      optimizer.reset();
      divergedAt = { epoch, batch: b, loss: value, reason };
      stopReason = "diverged";
      if (onDivergence === "throw") throw trainingDiverged(epoch, b, value, reason);
    };
    // Set by the first batch: an explosion is judged against where this fit() started, by the KL
    // whatever the loss (MSE, L1 and JS are bounded, so their explosions show in the KL alone).
    let klLimit = Infinity;

    // The first batch is followed by a turn, so fit() is under way (and its model busy) by the time
    // the caller's code runs again; later ones come every YIELD_MS.
    let lastYield = -Infinity;
    epochs: for (let epoch = 1; epoch <= epochs; epoch++) {
      const began = performance.now();
      const checking = byBatch && epoch === 1;
      if (shuffle) shuffleRows(order, random);
      pool?.setOrder(order);
      let lossSum = 0;
      let klSum = 0;
      let correct = 0;
      let seen = 0;
      let done = 0;
      let stop: StopReason | null = null;
      for (let b = 0; b < batches; b++) {
        if (signal?.aborted) {
          stop = "aborted";
          break;
        }
        const from = b * batchSize;
        const n = Math.min(batchSize, rows - from);
        let r;
        if (pool) r = await pool.step(from, n);
        else {
          if (!batch!.load(train.features, order, from, n, checking)) refuse();
          r = batch!.run(temperature, true);
          if (batch!.xNotFinite) refuse();
        }
        if (epoch === 1 && b === 0) klLimit = explodingKl(r.kl);
        const bad: DivergenceReason | null = !Number.isFinite(r.loss)
          ? "non-finite-loss"
          : !r.bounded
            ? "logit-overflow"
            : r.kl > klLimit
              ? "exploding-kl"
              : !guard.step(params, grads)
                ? "non-finite-update"
                : null;
        if (bad) {
          await diverge(epoch, b + 1, r.loss, bad);
          stop = "diverged";
          break;
        }
        lossSum += r.loss * n;
        klSum += r.kl * n;
        correct += r.correct;
        seen += n;
        done++;
        if (onBatch) {
          const info = { epoch, batch: b + 1, batches, rows: n, loss: r.loss, kl: r.kl };
          if ((await onBatch(info)) === false) {
            stop = "callback";
            break;
          }
        }
        if (performance.now() - lastYield >= YIELD_MS) {
          await nextTurn();
          lastYield = performance.now();
        }
        if (model.disposed) throw disposedDuringFit();
      }
      let val: { loss: number; kl: number; accuracy: number } | null = null;
      // A non-finite validation loss is reported, not treated as divergence: the parameters are
      // finite (checked after every step), so it comes from the held-out data.
      if (check && held && stop === null) {
        val = evaluateAll(check, held.features, held.targets.rows, temperature, checking);
        if (!val) refuse();
      }
      const stats: EpochStats = {
        epoch,
        loss: seen ? lossSum / seen : NaN,
        kl: seen ? klSum / seen : NaN,
        accuracy: seen ? correct / seen : NaN,
        valLoss: val ? val.loss : null,
        valKl: val ? val.kl : null,
        valAccuracy: val ? val.accuracy : null,
        time: performance.now() - began,
        batches: done,
        complete: stop === null,
      };
      if (done > 0) history.push(stats);
      if (stop !== null) {
        stopReason = stop;
        break;
      }
      if (onEpoch && (await onEpoch(stats)) === false) {
        stopReason = "callback";
        break;
      }
      if (model.disposed) throw disposedDuringFit();
      if (early) {
        const monitored = val ? val.loss : stats.loss;
        if (monitored < bestLoss - early.minDelta) {
          bestLoss = monitored;
          bestEpoch = epoch;
          waited = 0;
          best?.save(0);
        } else if (++waited > early.patience) {
          stopReason = "early-stopping";
          break epochs;
        }
      }
    }
    // However training ended, restoreBest leaves the best epoch's parameters in the model.
    if (best && bestEpoch !== null && bestEpoch !== history.at(-1)?.epoch) best.restore(0);
  } finally {
    // Every worker stopped before fit settles, however it ends.
    if (pool) await pool.dispose();
    model.busy = false;
    batch?.dispose();
    check?.dispose();
    guard?.free();
    best?.free();
    start?.free();
    if (owned) optimizer.dispose();
  }
  return {
    history,
    stoppedEarly: stopReason === "early-stopping",
    diverged: stopReason === "diverged",
    divergedAt,
    stopReason,
    bestEpoch: early ? bestEpoch : null,
    heldOut: heldRows,
    threads: pool ? pool.threads : 1,
  };
}
