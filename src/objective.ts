// What training minimises and evaluation reports, one batch at a time: the batch's rows are
// gathered into wasm memory, the model's forward pass gives logits, and the chosen loss (kl,
// cross-entropy, mse, l1, js) runs on them, with its gradient written in place for the backward
// pass. Every batch also yields the KL from its targets to the model and its count of correct
// argmax predictions, whatever the loss. Shared by fit() (src/train.ts) and model.evaluate(). The
// rows are gathered in JavaScript, from the checked data outside wasm memory (src/data.ts), so a
// data set never grows the module's memory.

import type { Core } from "./wasm/loader.js";
import { WasmArray } from "./wasm/memory.js";
import { sumTolerance } from "./divergence.js";
import { gatherRows, type Features, type Targets } from "./data.js";
import { badLossName } from "./errors.js";
import {
  PROBLOSS_JS,
  PROBLOSS_L1,
  PROBLOSS_MSE,
  PROBLOSS_WANT_GRAD,
  XENT_KL,
  XENT_WANT_GRAD,
} from "./wasm/abi.js";

/** The training objective: KL(p || q) (the default), cross-entropy H(p, q), MSE, L1 or JS on q. */
export type LossName = "kl" | "cross-entropy" | "mse" | "l1" | "js";

const LOSSES: readonly string[] = ["kl", "cross-entropy", "mse", "l1", "js"];

export function lossNameOf(v: unknown): LossName {
  if (v === undefined) return "kl";
  if (typeof v !== "string" || !LOSSES.includes(v)) throw badLossName(v);
  return v as LossName;
}

/** A batch's sums over its rows of the loss and the KL, and its count of correct. */
export interface BatchSums {
  lossSum: number;
  klSum: number;
  correct: number;
  /** Every logit / T below LOGIT_LIMIT in magnitude. */
  bounded: boolean;
}

/** A batch's means over its rows, and its count of correct argmax predictions. */
export interface BatchResult {
  loss: number;
  kl: number;
  correct: number;
  /** Every logit / T below LOGIT_LIMIT in magnitude. */
  bounded: boolean;
}

/**
 * Beyond 2^24 (16777216) adjacent float32 values are 2 apart, so logits there no longer resolve
 * odds of e^2: no training reaches it, an exploding one does. The divergence guard's bound.
 */
export const LOGIT_LIMIT = 2 ** 24;

/** What a Batch needs of a model: its sizes, a forward pass into its own logits, and backward. */
interface BatchModel {
  readonly inputs: number;
  readonly classes: number;
  readonly hidden: readonly number[];
  /** Runs the forward pass of `rows` rows of x (null: no input) into the model's logits buffer. */
  forward(x: WasmArray<"float32"> | null, rows: number): unknown;
  /** The address of the last forward's logits in wasm memory (rows x classes). */
  logitsPtr(): number;
  backward(dLogits: WasmArray<"float32">, rows?: number): void;
  /** For rowPass (src/models.ts's DenseModel): a window of the batch's rows. */
  forwardRows?(x: number | null, r0: number, n: number): void;
  backwardRows?(dLogits: number, r0: number, n: number): void;
}

// The chunking src/softmax.ts and src/probloss.ts use: a batch runs in the same chunks of rows those
// wrappers use, so its sums (and so fit's history) are the same bits. The flags: src/wasm/abi.ts.
const CHUNK = 1 << 16;
const PROBLOSS: Record<"mse" | "l1" | "js", number> = { mse: PROBLOSS_MSE, l1: PROBLOSS_L1, js: PROBLOSS_JS };
// crossEntropyWithLogits's default ignoreIndex: no label equals it (labels are checked in [0, C)).
const IGNORE = -100;

/**
 * One batch at a time in wasm memory, for `capacity` rows: the gathered rows of x, the targets
 * (class indices, and probabilities for soft targets or the losses that need one-hot rows), the
 * gradient of the logits, per-row losses and the kernels' workspace. Everything is allocated once;
 * each batch then calls the kernels directly: the data was checked on the way in, and a non-finite
 * logit shows up as a non-finite loss, which fit treats as divergence.
 */
export class Batch {
  private readonly x: WasmArray<"float32"> | null;
  private readonly probs: WasmArray<"float32"> | null;
  private readonly grad: WasmArray<"float32">;
  // Class indices as i32, in a block of 4-byte elements.
  private readonly labels: WasmArray<"float32"> | null;
  // Rows per kernel call, and per call: the row losses (f64), the cross-entropy kernels' workspace
  // (16 bytes a row, or a row of q for the probability losses) and a gradient-sized workspace for
  // the passes without gradient (the kernels form the exponentials there).
  private readonly rowsPer: number;
  private readonly loss: WasmArray<"float64">;
  private readonly work: WasmArray<"float64">;
  private readonly spare: WasmArray<"float32">;
  private readonly sumTol: number;
  private rows = 0;
  // Whether the loaded rows of x still have to be checked finite, and whether they were not.
  private verify = false;
  private bad = false;

  constructor(
    private readonly core: Core,
    private readonly model: BatchModel,
    private readonly lossName: LossName,
    private readonly targets: Targets,
    readonly capacity: number,
  ) {
    const { inputs, classes } = model;
    // Probabilities in wasm memory: soft targets, or one-hot rows for the losses that need them.
    const needProbs =
      targets.kind === "probabilities" || !(lossName === "kl" || lossName === "cross-entropy");
    // Rows of a distribution within this of 1 have their KL clamped at 0, as klWithLogits does.
    this.sumTol = sumTolerance("float32", classes);
    this.rowsPer = Math.min(capacity, Math.max(1, Math.floor(CHUNK / classes)));
    const made: WasmArray[] = [];
    const make = <D extends "float32" | "float64">(dtype: D, n: number): WasmArray<D> => {
      const a = new WasmArray(core, dtype, n);
      made.push(a);
      return a;
    };
    try {
      this.x = inputs > 0 ? make("float32", capacity * inputs) : null;
      this.probs = needProbs ? make("float32", capacity * classes) : null;
      this.grad = make("float32", capacity * classes);
      this.labels = targets.kind === "indices" ? make("float32", capacity) : null;
      this.loss = make("float64", this.rowsPer);
      this.work = make("float64", Math.max(2 * this.rowsPer, Math.ceil(classes / 2)));
      this.spare = make("float32", this.rowsPer * classes);
    } catch (e) {
      for (const a of made) a.free();
      throw e;
    }
  }

  /**
   * Gathers rows order[from, from + count) (or from..from+count when order is null). With `check`,
   * the rows of x are checked finite: false here when one is not, or, for a model without hidden
   * layers, in run() (see xNotFinite).
   */
  load(
    features: Features | null,
    order: Int32Array | null,
    from: number,
    count: number,
    check = false,
  ): boolean {
    const { inputs, classes } = this.model;
    this.verify = false;
    this.bad = false;
    if (this.x && features) {
      gatherRows(features.values, inputs, order, from, count, this.x.array);
      if (check) {
        // A non-finite x[k] makes every logit of its row non-finite when they are affine in x (each
        // sums x[k] w[k][j], NaN or infinite for finite w): bounded logits prove the rows finite,
        // and only unbounded ones need x read again. Hidden layers' activations can hide it (ReLU
        // and tanh map -Infinity to finite values), so there x is read now, while in cache.
        if (this.model.hidden.length === 0) this.verify = true;
        else if (!this.core.k.finite_f32(this.x.ptr, count * inputs)) return false;
      }
    }
    const t = this.targets;
    if (t.kind === "indices") {
      const labels = this.core.i32();
      const at = this.labels!.ptr >>> 2;
      if (order) for (let i = 0; i < count; i++) labels[at + i] = t.labels[order[from + i]!]!;
      else labels.set(t.labels.subarray(from, from + count), at);
      if (this.probs) {
        const p = this.probs.array.subarray(0, count * classes);
        p.fill(0);
        for (let i = 0; i < count; i++) p[i * classes + labels[at + i]!] = 1;
      }
    } else {
      gatherRows(t.values, classes, order, from, count, this.probs!.array);
    }
    this.rows = count;
    return true;
  }

  /** After run(): whether the rows load() was asked to check held a value of x that is not finite. */
  get xNotFinite(): boolean {
    return this.bad;
  }

  /**
   * Forward, the loss (mean over the batch's rows) and the KL metric, and with `train` the loss's
   * gradient (of the mean) through the model's backward pass into its gradient arrays.
   */
  run(temperature: number, train: boolean): BatchResult {
    const n = this.rows;
    const r = this.sums(temperature, train, n);
    return { loss: r.lossSum / n, kl: r.klSum / n, correct: r.correct, bounded: r.bounded };
  }

  /**
   * run()'s sums of the row losses and KLs, with the gradient (when `train`) that of the sum over
   * the rows divided by `of` (run(): the rows loaded, the mean's own).
   */
  sums(temperature: number, train: boolean, of: number): BatchSums {
    return this.window(temperature, train, of, 0, this.rows, null);
  }

  /**
   * A step split across threads (src/shardrunner.ts): the loaded rows [r0, r0 + n) alone, their
   * forward pass, their logits' gradient (of the sum over the rows divided by `of`) and the model's
   * deltas for them (backwardRows), not its parameter gradients (weightRows, over every row). Each
   * row's loss and KL go to out.loss[row] and out.kl[row], as sums() would add them (sumRows).
   */
  rowPass(temperature: number, of: number, r0: number, n: number, out: RowValues): BatchSums {
    return this.window(temperature, true, of, r0, n, out);
  }

  /** The sum of rows [0, m) of per-row values from rowPass(), in the chunks and order sums() uses. */
  sumRows(values: Float64Array, m: number): number {
    const k = this.core.k;
    let total = 0;
    for (let r0 = 0; r0 < m; r0 += this.rowsPer) {
      const rc = Math.min(this.rowsPer, m - r0);
      this.core.f64().set(values.subarray(r0, r0 + rc), this.loss.ptr >>> 3);
      total += k.sum_f64(this.loss.ptr, rc);
    }
    return total;
  }

  /** @internal The rows per call of the loss kernels: a pass runs in chunks of this many rows. */
  get chunkRows(): number {
    return this.rowsPer;
  }

  /** @internal The loaded rows (float32, rows x inputs), or null without inputs. */
  get xPtr(): number | null {
    return this.x ? this.x.ptr : null;
  }

  /** @internal The logits' gradient, rows x classes, as the last pass with gradient left it. */
  get gradPtr(): number {
    return this.grad.ptr;
  }

  private window(
    temperature: number,
    train: boolean,
    of: number,
    base: number,
    n: number,
    out: RowValues | null,
  ): BatchSums {
    const rows = out !== null;
    const { core, model, lossName } = this;
    const classes = model.classes;
    const k = core.k;
    if (rows) model.forwardRows!(this.x ? this.x.ptr : null, base, n);
    else model.forward(this.x, n);
    const z = model.logitsPtr() + base * classes * 4;
    const invT = 1 / temperature;
    const soft = this.targets.kind === "probabilities";
    const labels = this.labels ? this.labels.ptr + base * 4 : 0;
    const probs = this.probs ? this.probs.ptr + base * classes * 4 : 0;
    const gradAt = this.grad.ptr + base * classes * 4;
    // The sum of a kernel's row losses over the batch, chunk by chunk.
    const mean = (
      pass: (r0: number, rc: number, grad: number) => void,
      grad: boolean,
      into: Float64Array | null,
    ): number => {
      let total = 0;
      // The chunks are the whole batch's (a window starts inside one), so each row meets the
      // kernels as in a pass over every row.
      for (let r0 = 0; r0 < n;) {
        const end = Math.min(n, (Math.floor((base + r0) / this.rowsPer) + 1) * this.rowsPer - base);
        const rc = end - r0;
        pass(r0, rc, grad ? gradAt + r0 * classes * 4 : this.spare.ptr);
        if (into) {
          const at = this.loss.ptr >>> 3;
          into.set(core.f64().subarray(at, at + rc), base + r0);
        } else total += k.sum_f64(this.loss.ptr, rc);
        r0 = end;
      }
      return total;
    };
    const scale = 1 / of;
    // Softmax cross-entropy of the class indices (KL = cross-entropy for one-hot targets), or of the
    // probabilities, as KL with `kl`: no class weights (their sum is the class count), no label
    // smoothing, the mean's scale 1 / n on the gradient; the arguments in assembly/softmax.ts's order.
    const indexLoss = (grad: boolean, into: Float64Array | null) =>
      mean(
        (r0, rc, g) => {
          const flags = grad ? XENT_WANT_GRAD : 0;
          const zp = z + r0 * classes * 4;
          k.xent_index_f32(
            zp,
            labels + r0 * 4,
            0,
            classes,
            rc,
            classes,
            0,
            invT,
            IGNORE,
            flags,
            scale,
            g,
            this.loss.ptr,
            this.work.ptr,
          );
        },
        grad,
        into,
      );
    const probsLoss = (grad: boolean, kl: boolean, into: Float64Array | null) =>
      mean(
        (r0, rc, g) => {
          const flags = (grad ? XENT_WANT_GRAD : 0) | (kl ? XENT_KL : 0);
          const at = r0 * classes * 4;
          k.xent_probs_f32(
            z + at,
            probs + at,
            0,
            rc,
            classes,
            0,
            invT,
            flags,
            scale,
            g,
            this.loss.ptr,
            this.work.ptr,
            this.sumTol,
          );
        },
        grad,
        into,
      );
    let value: number;
    if (lossName === "kl" || lossName === "cross-entropy") {
      const into = out && out.loss;
      value = soft ? probsLoss(train, lossName === "kl", into) : indexLoss(train, into);
    } else {
      const code = PROBLOSS[lossName];
      value = mean(
        (r0, rc, g) => {
          const at = r0 * classes * 4;
          k.probloss_f32(
            code,
            z + at,
            probs + at,
            rc,
            classes,
            invT,
            train ? PROBLOSS_WANT_GRAD : 0,
            scale,
            g,
            this.work.ptr,
            this.loss.ptr,
          );
        },
        train,
        out && out.loss,
      );
    }
    // The KL from the targets: the loss itself for kl, and for cross-entropy on class indices
    // (a one-hot target has entropy 0); else one more pass over the logits, without gradient.
    let kl = value;
    const klInto = out && out.kl;
    if (soft) {
      if (lossName !== "kl") kl = probsLoss(false, true, klInto);
      else if (out) out.kl.set(out.loss.subarray(base, base + n), base);
    } else if (lossName !== "kl" && lossName !== "cross-entropy") {
      kl = indexLoss(false, klInto);
    } else if (out) out.kl.set(out.loss.subarray(base, base + n), base);
    const bounded = k.bounded_f32(z, n * classes, LOGIT_LIMIT * temperature) !== 0;
    if (this.verify) {
      this.verify = false;
      this.bad = !bounded && !k.finite_f32(this.x!.ptr + base * model.inputs * 4, n * model.inputs);
    }
    const correct = soft
      ? k.correct_probs_f32(z, probs, n, classes)
      : k.correct_index_f32(z, labels, n, classes);
    if (train && !this.bad && Number.isFinite(value)) {
      if (rows) model.backwardRows!(this.grad.ptr, base, n);
      else model.backward(this.grad, n);
    }
    return { lossSum: value, klSum: kl, correct, bounded };
  }

  dispose(): void {
    for (const a of [this.x, this.probs, this.grad, this.labels, this.loss, this.work, this.spare]) a?.free();
  }
}

/** Per-row values of the loss and of the KL, indexed by the batch's rows (rowPass). */
export interface RowValues {
  loss: Float64Array;
  kl: Float64Array;
}

/**
 * Means of the loss and KL and the accuracy over all rows, in batches of at most `capacity`; with
 * `check`, null when a value of x is not finite.
 */
export function evaluateAll(
  batch: Batch,
  features: Features | null,
  rows: number,
  temperature: number,
  check = false,
): { loss: number; kl: number; accuracy: number } | null {
  let loss = 0;
  let kl = 0;
  let correct = 0;
  for (let from = 0; from < rows; from += batch.capacity) {
    const count = Math.min(batch.capacity, rows - from);
    if (!batch.load(features, null, from, count, check)) return null;
    const r = batch.run(temperature, false);
    if (batch.xNotFinite) return null;
    loss += r.loss * count;
    kl += r.kl * count;
    correct += r.correct;
  }
  return { loss: loss / rows, kl: kl / rows, accuracy: correct / rows };
}
