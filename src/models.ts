// Models over the dense kernels of src/linear.ts, float32, everything in one instance's memory:
// categorical (logits = theta, whatever the input), softmax regression (logits = x W + b) and the
// MLP (dense -> activation ... -> dense to logits). Each model owns its parameters and gradients
// (WasmArrays, in a fixed order) and activation buffers sized for the largest batch seen and reused.
// forward() reads x in place and backward() reads it again, so x must stay unchanged (and
// allocated) between the two: nothing is copied. predict() and evaluate() take caller data (checked
// and batched through src/objective.ts); toJSON() and loadModel() save and restore the exact bits.

import type { Core } from "./wasm/loader.js";
import { WasmArray, type Scratch } from "./wasm/memory.js";
import { tagOf } from "./input.js";
import { mulberry32 } from "./random.js";
import { optionsOf, numberOption } from "./options.js";
import { softmax, temperatureOf } from "./softmax.js";
import {
  featuresOf,
  requireFinite,
  targetsOf,
  type FeatureInput,
  type Features,
  type TargetInput,
} from "./data.js";
import { Batch, evaluateAll, lossNameOf, type LossName } from "./objective.js";
import {
  activate,
  activateBackward,
  denseBackward,
  denseForward,
  type Activation,
  type LayerArray,
} from "./linear.js";
import {
  backwardRows,
  badOption,
  badHyperparameter,
  badModelJson,
  badSeed,
  categoricalTakesNoInput,
  classifierGivenToLoadModel,
  modelDisposed,
  modelJsonActivation,
  modelJsonDataLength,
  modelJsonFormat,
  modelJsonHidden,
  modelJsonInputs,
  modelJsonKind,
  modelJsonNoData,
  modelJsonNotBase64,
  modelJsonParameterCount,
  modelJsonParameterList,
  modelJsonParameterName,
  modelJsonParameterShape,
  modelParameterNotFinite,
  notLayerArray,
  notRowMultiple,
  savedNotJson,
  savedNotObject,
  savedVersion,
  tooFewRows,
} from "./errors.js";

export type ModelKind = "categorical" | "softmaxRegression" | "mlp";

export interface CategoricalOptions {
  /** The number of classes (logits per row). theta starts at 0, the uniform distribution. */
  classes: number;
}

export interface SoftmaxRegressionOptions {
  inputs: number;
  classes: number;
  /** Seeds the weights' initialisation (Glorot-uniform); default 0. */
  seed?: number;
}

export interface MlpOptions {
  inputs: number;
  /** Widths of the hidden layers, in order ([] is softmax regression); default [64], one layer of 64. */
  hidden?: readonly number[];
  classes: number;
  /** Default 'relu'. */
  activation?: Activation;
  /** Seeds the weights' initialisation; default 0. */
  seed?: number;
}

export interface PredictOptions {
  /** Divides the logits before the softmax (> 0); default 1. */
  temperature?: number;
  /** Rows per forward pass; default 1024 (the model's buffers grow to hold them). */
  batchSize?: number;
}

export interface EvaluateOptions extends PredictOptions {
  /** The loss to report; default 'kl'. */
  loss?: LossName;
}

export interface Evaluation {
  /** The mean of the chosen loss over the rows. */
  loss: number;
  /** The mean KL(p || q) from the targets to the model's distributions, in nats. */
  kl: number;
  /** The fraction of rows whose most probable class is the target's (its argmax for probabilities). */
  accuracy: number;
  rows: number;
}

/** One parameter array of a saved model: float32 little-endian bytes, base64. */
export interface ParameterJSON {
  name: string;
  shape: number[];
  data: string;
}

/** A saved model: what toJSON() gives and loadModel() takes (as an object or a JSON string). */
export interface ModelJSON {
  format: "klcore-model";
  version: 1;
  kind: ModelKind;
  inputs: number;
  hidden: number[];
  classes: number;
  activation: Activation | null;
  parameters: ParameterJSON[];
}

export interface Model {
  readonly kind: ModelKind;
  /** Input features per row (0 for categorical, which takes no input). */
  readonly inputs: number;
  /** The widths of the hidden layers ([] but for the MLP). */
  readonly hidden: readonly number[];
  readonly classes: number;
  /** The hidden layers' activation (null without hidden layers). */
  readonly activation: Activation | null;
  /** The number of float32 parameters. */
  readonly parameterCount: number;
  readonly disposed: boolean;
  /**
   * The class probabilities of each row of x, rows x classes (softmax(logits / temperature)); a
   * categorical model takes no x and gives its one distribution.
   */
  predict(x?: FeatureInput | null, options?: PredictOptions): Float32Array;
  /**
   * The mean loss, mean KL from the targets and accuracy over the rows of x (null for categorical),
   * for y class indices or probabilities.
   */
  evaluate(x: FeatureInput | null, y: TargetInput, options?: EvaluateOptions): Evaluation;
  /** The architecture and the exact parameter bits; loadModel() restores it. */
  toJSON(): ModelJSON;
  /** The parameter arrays, in a fixed order: W, b per dense layer (theta alone for categorical). */
  parameters(): WasmArray<"float32">[];
  /** The gradient arrays, in the order and sizes of parameters(); written by backward(). */
  gradients(): WasmArray<"float32">[];
  /**
   * The logits of `rows` rows (default: x's whole rows), a rows x classes view of the model's
   * buffer in wasm memory, valid until the next forward or anything that may grow memory. x is a
   * float32 WasmArray of this instance or a Float32Array view of its memory, of whole rows of
   * `inputs`; categorical ignores it (pass null) and needs `rows`.
   */
  forward(x: LayerArray | null, rows?: number): Float32Array;
  /**
   * Overwrites the gradients from dLogits (d loss / d logits of the last forward, rows x classes, in
   * wasm memory), using the activations kept from that forward and its input x.
   */
  backward(dLogits: LayerArray, rows?: number): void;
  /** Frees every array of the model; it cannot be used afterwards. Disposing twice is a no-op. */
  dispose(): void;
}

function positive(name: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) {
    throw badHyperparameter(name, "a positive integer", v);
  }
  return v;
}

function rowsOf(v: unknown): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
    throw badHyperparameter("rows", "an integer >= 0", v);
  }
  return v;
}

function seedOf(v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v !== "number" || !Number.isSafeInteger(v)) throw badSeed(v);
  return v;
}

/** Where a float32 array of this instance lives, or a TypeError naming it. */
function placeOf(core: Core, name: string, a: unknown): { ptr: number; length: number } {
  if (a instanceof WasmArray) {
    if (a.dtype === "float32" && !a.freed && a.core === core) return { ptr: a.ptr, length: a.length };
  } else if (tagOf(a) === "Float32Array") {
    const v = a as Float32Array;
    if (v.buffer === core.memoryBuffer) return { ptr: v.byteOffset, length: v.length };
  }
  throw notLayerArray(name, a);
}

interface Layer {
  readonly inputs: number;
  readonly outputs: number;
  readonly w: WasmArray<"float32">;
  readonly b: WasmArray<"float32"> | null;
  readonly dw: WasmArray<"float32">;
  readonly db: WasmArray<"float32"> | null;
}

type Init = "zero" | "glorot" | "he";

const PREDICT_ROWS = 1024;

/** A stack of dense layers; categorical is one bias-free layer over a constant input of ones. */
export class DenseModel implements Model {
  readonly inputs: number;
  readonly hidden: readonly number[];
  readonly classes: number;
  readonly activation: Activation | null;
  readonly parameterCount: number;
  /** @internal Set while fit() trains the model. */
  busy = false;
  private readonly layers: Layer[] = [];
  private readonly owned: WasmArray<"float32">[] = [];
  // Batch buffers: the hidden layers' outputs (activated in place) and their gradients, the logits,
  // and categorical's column of ones; `capacity` rows each.
  private acts: WasmArray<"float32">[] = [];
  private dHidden: WasmArray<"float32">[] = [];
  private logits: WasmArray<"float32"> | null = null;
  private ones: WasmArray<"float32"> | null = null;
  private capacity = 0;
  // The last forward: its rows and its input (a WasmArray, or the place of a view).
  private lastRows: number | undefined;
  private lastX: WasmArray<"float32"> | { ptr: number; length: number } | null = null;
  private isDisposed = false;
  private readonly act: Activation;

  /** @internal */
  constructor(
    readonly core: Core,
    /** @internal */ readonly scratch: Scratch,
    readonly kind: ModelKind,
    sizes: readonly number[],
    activation: Activation,
    inits: readonly Init[],
    seed: number,
  ) {
    this.inputs = kind === "categorical" ? 0 : sizes[0]!;
    this.hidden = Object.freeze(sizes.slice(1, -1));
    this.classes = sizes[sizes.length - 1]!;
    this.act = activation;
    this.activation = this.hidden.length > 0 ? activation : null;
    let count = 0;
    for (let l = 0; l + 1 < sizes.length; l++) {
      count += sizes[l]! * sizes[l + 1]! + (kind === "categorical" ? 0 : sizes[l + 1]!);
    }
    this.parameterCount = count;
    const random = mulberry32(seed);
    try {
      for (let l = 0; l + 1 < sizes.length; l++) {
        const inputs = sizes[l]!,
          outputs = sizes[l + 1]!;
        const bias = kind !== "categorical";
        const w = this.own(inputs * outputs);
        const b = bias ? this.own(outputs) : null;
        const dw = this.own(inputs * outputs);
        const db = bias ? this.own(outputs) : null;
        this.layers.push({ inputs, outputs, w, b, dw, db });
        const init = inits[l]!;
        if (init === "zero") continue;
        // Glorot: U(-a, a), a = sqrt(6 / (fan_in + fan_out)); He: a = sqrt(6 / fan_in).
        const limit = Math.sqrt(6 / (init === "he" ? inputs : inputs + outputs));
        const values = Float32Array.from({ length: inputs * outputs }, () => limit * (2 * random() - 1));
        w.array.set(values);
      }
    } catch (e) {
      this.free();
      throw e;
    }
  }

  /** A zeroed float32 array of n owned by the model. */
  private own(n: number): WasmArray<"float32"> {
    const a = new WasmArray(this.core, "float32", n);
    this.owned.push(a);
    a.array.fill(0);
    return a;
  }

  get disposed(): boolean {
    return this.isDisposed;
  }

  private live(): void {
    if (this.isDisposed) throw modelDisposed();
  }

  parameters(): WasmArray<"float32">[] {
    this.live();
    return this.layers.flatMap((l) => (l.b ? [l.w, l.b] : [l.w]));
  }

  gradients(): WasmArray<"float32">[] {
    this.live();
    return this.layers.flatMap((l) => (l.db ? [l.dw, l.db] : [l.dw]));
  }

  private freeBuffers(): void {
    for (const a of [...this.acts, ...this.dHidden, this.logits, this.ones]) a?.free();
    this.acts = [];
    this.dHidden = [];
    this.logits = null;
    this.ones = null;
    this.capacity = 0;
  }

  /** Batch buffers for at least `rows` rows (they only grow: a smaller batch reuses them). */
  private reserve(rows: number): void {
    if (rows <= this.capacity && this.logits) return;
    const cap = Math.max(rows, 1);
    this.freeBuffers();
    try {
      for (const l of this.layers.slice(0, -1)) {
        this.acts.push(new WasmArray(this.core, "float32", cap * l.outputs));
        this.dHidden.push(new WasmArray(this.core, "float32", cap * l.outputs));
      }
      this.logits = new WasmArray(this.core, "float32", cap * this.classes);
      if (this.kind === "categorical") {
        this.ones = new WasmArray(this.core, "float32", cap);
        this.ones.array.fill(1);
      }
    } catch (e) {
      this.freeBuffers();
      throw e;
    }
    this.capacity = cap;
  }

  forward(x: LayerArray | null, rows?: number): Float32Array {
    this.live();
    let input: WasmArray<"float32"> | { ptr: number; length: number } | null = null;
    let n: number;
    if (this.kind === "categorical") {
      n = rowsOf(rows);
    } else {
      const at = placeOf(this.core, "x", x);
      if (at.length % this.inputs !== 0) throw notRowMultiple("x", at.length, "inputs", this.inputs);
      const have = at.length / this.inputs;
      n = rows === undefined ? have : rowsOf(rows);
      if (n > have) throw tooFewRows("x", have, n);
      input = x instanceof WasmArray ? x : at;
    }
    this.lastRows = undefined;
    this.lastX = null;
    // May grow memory: a view of x is re-derived from its place afterwards.
    this.reserve(n);
    const first = this.firstInput(input);
    const last = this.layers.length - 1;
    this.layers.forEach((l, i) => {
      const from = i === 0 ? first : this.acts[i - 1]!;
      const to = i === last ? this.logits! : this.acts[i]!;
      denseForward(this.core, from, l.w, l.b, to, { rows: n, inputs: l.inputs, outputs: l.outputs });
      if (i < last) activate(this.core, this.act, to, to, n * l.outputs);
    });
    this.lastRows = n;
    this.lastX = input;
    return this.logits!.array.subarray(0, n * this.classes);
  }

  private firstInput(input: WasmArray<"float32"> | { ptr: number; length: number } | null): LayerArray {
    if (input === null) return this.ones!;
    if (input instanceof WasmArray) return input;
    return new Float32Array(this.core.memoryBuffer, input.ptr, input.length);
  }

  backward(dLogits: LayerArray, rows?: number): void {
    this.live();
    const n = rows === undefined ? this.lastRows : rowsOf(rows);
    if (n === undefined || n !== this.lastRows) throw backwardRows(n ?? 0, this.lastRows);
    const at = placeOf(this.core, "dLogits", dLogits);
    if (at.length % this.classes !== 0) throw notRowMultiple("dLogits", at.length, "classes", this.classes);
    if (at.length / this.classes < n) throw tooFewRows("dLogits", at.length / this.classes, n);
    const first = this.firstInput(this.lastX);
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const l = this.layers[i]!;
      const x = i === 0 ? first : this.acts[i - 1]!;
      const dy = i === this.layers.length - 1 ? dLogits : this.dHidden[i]!;
      const dx = i === 0 ? null : this.dHidden[i - 1]!;
      denseBackward(
        this.core,
        x,
        l.w,
        dy,
        { dw: l.dw, db: l.db, dx },
        { rows: n, inputs: l.inputs, outputs: l.outputs },
      );
      if (dx) activateBackward(this.core, this.act, x, dx, dx, n * l.inputs);
    }
  }

  // fit in workers (src/shardrunner.ts) splits a batch's step in two: every row's forward pass and
  // deltas (rows are independent), then dW by rows of each layer over all of the batch's rows. Each
  // value is the same sum in the same order as forward() and backward() give, wherever the splits
  // fall, so the gradient is the same bits for any number of threads.

  /** @internal The layers' shapes, first to last. */
  layerShapes(): { inputs: number; outputs: number; bias: boolean }[] {
    return this.layers.map((l) => ({ inputs: l.inputs, outputs: l.outputs, bias: l.b !== null }));
  }

  /**
   * @internal The batch buffers a step's second half reads (each layer's input but the first, then
   * each hidden layer's delta), with their widths; valid after reserveRows().
   */
  rowBuffers(): { ptr: number; width: number }[] {
    const hidden = this.layers.slice(0, -1);
    return [
      ...hidden.map((l, i) => ({ ptr: this.acts[i]!.ptr, width: l.outputs })),
      ...hidden.map((l, i) => ({ ptr: this.dHidden[i]!.ptr, width: l.outputs })),
    ];
  }

  /** @internal Batch buffers for `capacity` rows, for the methods below. */
  reserveRows(capacity: number): void {
    this.live();
    this.reserve(capacity);
  }

  /** @internal The forward pass of rows [r0, r0 + n) of the batch x holds (null: categorical). */
  forwardRows(x: number | null, r0: number, n: number): void {
    const k = this.core.k;
    const last = this.layers.length - 1;
    const first = x ?? this.ones!.ptr;
    this.layers.forEach((l, i) => {
      const from = (i === 0 ? first : this.acts[i - 1]!.ptr) + r0 * l.inputs * 4;
      const to = (i === last ? this.logits! : this.acts[i]!).ptr + r0 * l.outputs * 4;
      k.dense_forward_f32(from, l.w.ptr, l.b ? l.b.ptr : 0, to, n, l.inputs, l.outputs);
      if (i < last) (this.act === "relu" ? k.relu_f32 : k.tanh_f32)(to, to, n * l.outputs);
    });
  }

  /** @internal The deltas of rows [r0, r0 + n) from dLogits (the batch's), without dW. */
  backwardRows(dLogits: number, r0: number, n: number): void {
    const k = this.core.k;
    const last = this.layers.length - 1;
    for (let i = last; i >= 1; i--) {
      const l = this.layers[i]!;
      const dy = (i === last ? dLogits : this.dHidden[i]!.ptr) + r0 * l.outputs * 4;
      const y = this.acts[i - 1]!.ptr + r0 * l.inputs * 4;
      const dx = this.dHidden[i - 1]!.ptr + r0 * l.inputs * 4;
      // dw is free until weightRows() writes dW there: it holds W^T meanwhile.
      k.dense_backward_dx_f32(l.w.ptr, dy, dx, l.dw.ptr, n, l.inputs, l.outputs);
      (this.act === "relu" ? k.relu_backward_f32 : k.tanh_backward_f32)(y, dx, dx, n * l.inputs);
    }
  }

  /** @internal Rows [lo, hi) of layer i's dW over the batch's m rows, and its db with `bias`. */
  weightRows(
    x: number | null,
    dLogits: number,
    m: number,
    i: number,
    lo: number,
    hi: number,
    bias: boolean,
  ): void {
    const l = this.layers[i]!;
    const last = this.layers.length - 1;
    const from = i === 0 ? (x ?? this.ones!.ptr) : this.acts[i - 1]!.ptr;
    const dy = i === last ? dLogits : this.dHidden[i]!.ptr;
    const db = bias && l.db ? l.db.ptr : 0;
    this.core.k.dense_backward_dw_f32(from, dy, l.dw.ptr, db, m, l.inputs, l.outputs, lo, hi);
  }

  private free(): void {
    this.freeBuffers();
    for (const a of this.owned) a.free();
    this.owned.length = 0;
    this.layers.length = 0;
    this.lastRows = undefined;
    this.lastX = null;
  }

  dispose(): void {
    if (this.isDisposed) return;
    this.free();
    this.isDisposed = true;
  }

  /** @internal The address of the logits buffer (the last forward's logits), for src/objective.ts. */
  logitsPtr(): number {
    return this.logits!.ptr;
  }

  /** @internal The last forward's logits, a view derived now. */
  logitsView(rows: number): Float32Array {
    return this.logits!.array.subarray(0, rows * this.classes);
  }

  /**
   * @internal x checked and converted (null for categorical, which must get none); with `finite`
   * false its values are not checked finite (requireFinite does that).
   */
  features(x: unknown, finite = true): Features | null {
    if (this.kind === "categorical") {
      if (x !== undefined && x !== null) throw categoricalTakesNoInput(x);
      return null;
    }
    return featuresOf("x", x, this.inputs, this.core, this.scratch, finite);
  }

  /** @internal Throws the error naming the first value of x (features(x, false)) not finite. */
  checkFinite(x: unknown, features: Features): void {
    requireFinite("x", x, this.inputs, features, this.core, this.scratch);
  }

  predict(x?: FeatureInput | null, options?: PredictOptions): Float32Array {
    this.live();
    const o = optionsOf("predict", options, ["temperature", "batchSize"]);
    const temperature = temperatureOf(o);
    const chunk = batchSizeOf(o.batchSize, PREDICT_ROWS);
    const features = this.features(x);
    const rows = features ? features.rows : 1;
    const classes = this.classes;
    const out = new Float32Array(rows * classes);
    const buffer = features ? new WasmArray(this.core, "float32", Math.min(rows, chunk) * this.inputs) : null;
    try {
      for (let from = 0; from < rows; from += chunk) {
        const count = Math.min(chunk, rows - from);
        if (buffer)
          buffer.array.set(features!.values.subarray(from * this.inputs, (from + count) * this.inputs));
        this.forward(buffer, count);
        const into = out.subarray(from * classes, (from + count) * classes);
        softmax(this.core, this.scratch, this.logitsView(count), { classes, temperature, out: into }, false);
      }
    } finally {
      buffer?.free();
    }
    return out;
  }

  evaluate(x: FeatureInput | null, y: TargetInput, options?: EvaluateOptions): Evaluation {
    this.live();
    const o = optionsOf("evaluate", options, ["loss", "temperature", "batchSize"]);
    const loss = lossNameOf(o.loss);
    const temperature = temperatureOf(o);
    const chunk = batchSizeOf(o.batchSize, PREDICT_ROWS);
    const features = this.features(x);
    const targets = targetsOf(y, this.classes, features?.rows);
    const rows = targets.rows;
    const batch = new Batch(this.core, this, loss, targets, Math.min(rows, chunk));
    try {
      return { ...evaluateAll(batch, features, rows, temperature)!, rows };
    } finally {
      batch.dispose();
    }
  }

  /** @internal The names and shapes of parameters(), in order. */
  layout(): { name: string; shape: number[] }[] {
    if (this.kind === "categorical") return [{ name: "theta", shape: [this.classes] }];
    return this.layers.flatMap((l, i) => [
      { name: `dense${i}.weight`, shape: [l.inputs, l.outputs] },
      { name: `dense${i}.bias`, shape: [l.outputs] },
    ]);
  }

  toJSON(): ModelJSON {
    this.live();
    const arrays = this.parameters();
    const parameters = this.layout().map((p, i) => ({ ...p, data: encode(arrays[i]!.array) }));
    return {
      format: "klcore-model",
      version: 1,
      kind: this.kind,
      inputs: this.inputs,
      hidden: [...this.hidden],
      classes: this.classes,
      activation: this.activation,
      parameters,
    };
  }
}

function batchSizeOf(v: unknown, fallback: number): number {
  const n = numberOption("batchSize", v) ?? fallback;
  if (!Number.isSafeInteger(n) || n < 1) throw badHyperparameter("batchSize", "a positive integer", n);
  return n;
}

// ---- saving: float32 bits as base64 (JSON numbers would lose the sign of -0) ------------------

function encode(values: Float32Array): string {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function decode(name: string, data: unknown, count: number): Float32Array {
  if (typeof data !== "string") throw modelJsonNoData(name);
  let binary: string;
  try {
    binary = atob(data);
  } catch {
    throw modelJsonNotBase64(name);
  }
  if (binary.length !== count * 4) {
    throw modelJsonDataLength(name, binary.length, count * 4);
  }
  const bytes = new Uint8Array(count * 4);
  for (let i = 0; i < bytes.length; i++) bytes[i] = binary.charCodeAt(i);
  const values = new Float32Array(bytes.buffer);
  for (let i = 0; i < count; i++) {
    if (!Number.isFinite(values[i]!)) throw modelParameterNotFinite(name, i, values[i]!);
  }
  return values;
}

const KINDS: readonly string[] = ["categorical", "softmaxRegression", "mlp"];

/** A model from toJSON()'s output (an object or its JSON text), every field checked. */
export function loadModel(core: Core, scratch: Scratch, json: unknown): Model {
  let j: unknown = json;
  if (typeof json === "string") {
    try {
      j = JSON.parse(json);
    } catch (e) {
      throw savedNotJson(badModelJson, (e as Error).message);
    }
  }
  if (typeof j !== "object" || j === null) throw savedNotObject(badModelJson);
  const m = j as Partial<Record<keyof ModelJSON, unknown>>;
  if (m.format === "klcore-classifier") throw classifierGivenToLoadModel();
  if (m.format !== "klcore-model") throw modelJsonFormat(m.format);
  if (m.version !== 1) throw savedVersion(badModelJson, m.version);
  if (typeof m.kind !== "string" || !KINDS.includes(m.kind)) throw modelJsonKind(m.kind);
  if (!Array.isArray(m.parameters)) throw modelJsonParameterList();
  let model: DenseModel;
  try {
    if (m.kind === "categorical") model = categorical(core, scratch, { classes: m.classes as number });
    else if (m.kind === "softmaxRegression") {
      model = softmaxRegression(core, scratch, { inputs: m.inputs as number, classes: m.classes as number });
    } else {
      model = mlp(core, scratch, {
        inputs: m.inputs as number,
        hidden: m.hidden as number[],
        classes: m.classes as number,
        activation: (m.activation ?? undefined) as Activation,
      });
    }
  } catch (e) {
    throw badModelJson((e as Error).message);
  }
  try {
    // Fields the kind does not use must hold what toJSON() writes for it, not be ignored.
    const same = (a: unknown, b: readonly number[]): boolean =>
      Array.isArray(a) && a.length === b.length && a.every((v, k) => v === b[k]);
    if (m.inputs !== model.inputs) throw modelJsonInputs(model.inputs, m.kind);
    if (!same(m.hidden, model.hidden)) throw modelJsonHidden(model.hidden, m.kind);
    if (m.activation !== model.activation) throw modelJsonActivation(m.kind, model.activation !== null);
    const expected = model.layout();
    const given = m.parameters as unknown[];
    if (given.length !== expected.length) {
      throw modelJsonParameterCount(given.length, expected.length);
    }
    const values = expected.map((want, i) => {
      const p = given[i] as Partial<ParameterJSON> | null;
      if (typeof p !== "object" || p === null || p.name !== want.name) {
        throw modelJsonParameterName(i, want.name);
      }
      if (!same(p.shape, want.shape)) {
        throw modelJsonParameterShape(want.name, want.shape);
      }
      return decode(
        want.name,
        p.data,
        want.shape.reduce((a, b) => a * b, 1),
      );
    });
    model.parameters().forEach((a, i) => a.array.set(values[i]!));
    return model;
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/** logits = theta for every row: a categorical distribution, starting uniform (theta = 0). */
export function categorical(core: Core, scratch: Scratch, options: CategoricalOptions): DenseModel {
  // No seed: nothing of theta's start (0) is random.
  const o = optionsOf("categorical", options, ["classes"]);
  const classes = positive("classes", o.classes);
  return new DenseModel(core, scratch, "categorical", [1, classes], "relu", ["zero"], 0);
}

/** logits = x W + b, W Glorot-uniform, b = 0. */
export function softmaxRegression(
  core: Core,
  scratch: Scratch,
  options: SoftmaxRegressionOptions,
): DenseModel {
  const o = optionsOf("softmaxRegression", options, ["inputs", "classes", "seed"]);
  const inputs = positive("inputs", o.inputs);
  const classes = positive("classes", o.classes);
  return new DenseModel(
    core,
    scratch,
    "softmaxRegression",
    [inputs, classes],
    "relu",
    ["glorot"],
    seedOf(o.seed),
  );
}

// One hidden layer of 64: what the command line trains by default, enough for small tables and
// for the digits (test/example-digits.test.ts).
const DEFAULT_HIDDEN: readonly number[] = [64];

/**
 * dense -> activation per hidden layer, then dense to the logits. Hidden layers' weights are
 * He-uniform for relu and Glorot-uniform for tanh; the output layer's (linear) Glorot-uniform;
 * biases 0.
 */
export function mlp(core: Core, scratch: Scratch, options: MlpOptions): DenseModel {
  const o = optionsOf("mlp", options, ["inputs", "hidden", "classes", "activation", "seed"]);
  const inputs = positive("inputs", o.inputs);
  const widths = o.hidden ?? DEFAULT_HIDDEN;
  if (!Array.isArray(widths)) throw badOption("hidden", "an array of layer widths", widths);
  const hidden = (widths as unknown[]).map((h, i) => positive(`hidden[${i}]`, h));
  const classes = positive("classes", o.classes);
  const activation = o.activation ?? "relu";
  if (activation !== "relu" && activation !== "tanh") {
    throw badOption("activation", "'relu' or 'tanh'", activation);
  }
  const inits: Init[] = [...hidden.map((): Init => (activation === "relu" ? "he" : "glorot")), "glorot"];
  return new DenseModel(
    core,
    scratch,
    "mlp",
    [inputs, ...hidden, classes],
    activation,
    inits,
    seedOf(o.seed),
  );
}
