// What training minimises and evaluation reports, one batch at a time: the batch's rows are
// gathered into wasm memory, the model's forward pass gives logits, and the chosen loss (kl,
// cross-entropy, mse, l1, js) runs on them, with its gradient written in place for the backward
// pass. Every batch also yields the KL from its targets to the model and its count of correct
// argmax predictions, whatever the loss. Shared by fit() (src/train.ts) and model.evaluate().

import type { Core } from "./wasm/loader.js";
import { WasmArray, type Scratch } from "./wasm/memory.js";
import { crossEntropyWithLogits } from "./softmax.js";
import { probabilityLossWithLogits } from "./probloss.js";
import { argmaxRow, gatherRows, type Features, type Targets } from "./data.js";
import { badLossName } from "./errors.js";

/** The training objective: KL(p || q) (the default), cross-entropy H(p, q), MSE, L1 or JS on q. */
export type LossName = "kl" | "cross-entropy" | "mse" | "l1" | "js";

const LOSSES: readonly string[] = ["kl", "cross-entropy", "mse", "l1", "js"];

export function lossNameOf(v: unknown): LossName {
  if (v === undefined) return "kl";
  if (typeof v !== "string" || !LOSSES.includes(v)) throw badLossName(v);
  return v as LossName;
}

/** A batch's means over its rows, and its count of correct argmax predictions. */
interface BatchResult {
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
  /** Runs the forward pass of `rows` rows of x (null: no input) into the model's logits buffer. */
  forward(x: WasmArray<"float32"> | null, rows: number): unknown;
  /** The logits of the last forward, a view re-derived now (memory may have grown since). */
  logitsView(rows: number): Float32Array;
  backward(dLogits: WasmArray<"float32">, rows?: number): void;
}

/** Batch buffers in wasm memory, sized for `capacity` rows and reused from batch to batch. */
export class Batch {
  private readonly x: WasmArray<"float32"> | null;
  private readonly probs: WasmArray<"float32"> | null;
  private readonly grad: WasmArray<"float32">;
  private readonly labels: Int32Array | null;
  private rows = 0;

  constructor(
    private readonly core: Core,
    private readonly scratch: Scratch,
    private readonly model: BatchModel,
    private readonly loss: LossName,
    private readonly targets: Targets,
    readonly capacity: number,
  ) {
    const { inputs, classes } = model;
    // Probabilities in wasm memory: soft targets, or one-hot rows for the losses that need them.
    const needProbs = targets.kind === "probabilities" || !(loss === "kl" || loss === "cross-entropy");
    const made: WasmArray<"float32">[] = [];
    const make = (n: number): WasmArray<"float32"> => {
      const a = new WasmArray(core, "float32", n);
      made.push(a);
      return a;
    };
    try {
      this.x = inputs > 0 ? make(capacity * inputs) : null;
      this.probs = needProbs ? make(capacity * classes) : null;
      this.grad = make(capacity * classes);
    } catch (e) {
      for (const a of made) a.free();
      throw e;
    }
    this.labels = targets.kind === "indices" ? new Int32Array(capacity) : null;
  }

  /** Gathers rows order[from, from + count) (or from..from+count when order is null). */
  load(features: Features | null, order: Int32Array | null, from: number, count: number): void {
    const { inputs, classes } = this.model;
    if (this.x && features) gatherRows(features.values, inputs, order, from, count, this.x.array);
    const t = this.targets;
    if (t.kind === "indices") {
      const labels = this.labels!;
      for (let i = 0; i < count; i++) labels[i] = t.labels[order ? order[from + i]! : from + i]!;
      if (this.probs) {
        const p = this.probs.array.subarray(0, count * classes);
        p.fill(0);
        for (let i = 0; i < count; i++) p[i * classes + labels[i]!] = 1;
      }
    } else {
      gatherRows(t.values, classes, order, from, count, this.probs!.array);
    }
    this.rows = count;
  }

  /**
   * Forward, the loss (mean over the batch's rows) and the KL metric, and with `train` the loss's
   * gradient (of the mean) through the model's backward pass into its gradient arrays.
   * Kernels run unvalidated: the data was checked on the way in, and a non-finite logit shows up
   * as a non-finite loss, which the caller treats as divergence.
   */
  run(temperature: number, train: boolean): BatchResult {
    const { core, scratch, model, loss } = this;
    const n = this.rows;
    const classes = model.classes;
    model.forward(this.x, n);
    const labels = this.labels ? this.labels.subarray(0, n) : null;
    const probs = (): Float32Array => this.probs!.array.subarray(0, n * classes);
    const logits = (): Float32Array => model.logitsView(n);
    const grad = train ? this.grad.array.subarray(0, n * classes) : false;
    const options = { classes, temperature, validate: false, grad };
    let value: number;
    if (loss === "kl" || loss === "cross-entropy") {
      // On class indices KL and cross-entropy coincide (a one-hot target has entropy 0).
      const soft = this.targets.kind === "probabilities";
      const target = soft ? probs() : labels;
      value = crossEntropyWithLogits(core, scratch, target, logits(), options, soft && loss === "kl")
        .loss as number;
    } else {
      value = probabilityLossWithLogits(core, scratch, loss, probs(), logits(), options).loss as number;
    }
    // The KL from the targets: the loss itself for kl, and for cross-entropy on class indices
    // (a one-hot target has entropy 0); else one more pass over the logits, without gradient.
    let kl = value;
    const metric = { classes, temperature, validate: false };
    if (this.targets.kind === "probabilities") {
      if (loss !== "kl")
        kl = crossEntropyWithLogits(core, scratch, probs(), logits(), metric, true).loss as number;
    } else if (loss !== "kl" && loss !== "cross-entropy") {
      kl = crossEntropyWithLogits(core, scratch, labels, logits(), metric, false).loss as number;
    }
    const z = logits();
    const bounded = core.k.bounded_f32(z.byteOffset, z.length, LOGIT_LIMIT * temperature) !== 0;
    let correct = 0;
    if (labels) {
      for (let r = 0; r < n; r++) if (argmaxRow(z, r, classes) === labels[r]) correct++;
    } else {
      const p = probs();
      for (let r = 0; r < n; r++) if (argmaxRow(z, r, classes) === argmaxRow(p, r, classes)) correct++;
    }
    if (train && Number.isFinite(value)) model.backward(this.grad, n);
    return { loss: value, kl, correct, bounded };
  }

  dispose(): void {
    this.x?.free();
    this.probs?.free();
    this.grad.free();
  }
}

/** Means of the loss and KL and the accuracy over all rows, in batches of at most `capacity`. */
export function evaluateAll(
  batch: Batch,
  features: Features | null,
  rows: number,
  temperature: number,
): { loss: number; kl: number; accuracy: number } {
  let loss = 0;
  let kl = 0;
  let correct = 0;
  for (let from = 0; from < rows; from += batch.capacity) {
    const count = Math.min(batch.capacity, rows - from);
    batch.load(features, null, from, count);
    const r = batch.run(temperature, false);
    loss += r.loss * count;
    kl += r.kl * count;
    correct += r.correct;
  }
  return { loss: loss / rows, kl: kl / rows, accuracy: correct / rows };
}
