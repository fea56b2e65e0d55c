// Models over the dense kernels of src/linear.ts, float32, everything in one instance's memory:
// categorical (logits = theta, whatever the input), softmax regression (logits = x W + b) and the
// MLP (dense -> activation ... -> dense to logits). Internal for now: the training examples build on
// them. Each model owns its parameters and gradients (WasmArrays, in a fixed order) and activation
// buffers sized for the largest batch seen and reused. forward() reads x in place and backward()
// reads it again, so x must stay unchanged (and allocated) between the two: nothing is copied.

import type { Core } from "./wasm/loader.js";
import { WasmArray } from "./wasm/memory.js";
import { tagOf } from "./input.js";
import { optionsOf } from "./options.js";
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
  badLayerSize,
  badOption,
  badSeed,
  modelDisposed,
  notLayerArray,
  notRowMultiple,
  tooFewRows,
} from "./errors.js";

export type ModelKind = "categorical" | "softmaxRegression" | "mlp";

export interface CategoricalOptions {
  /** The number of classes (logits per row). */
  classes: number;
  /** Unused by the initialisation (theta starts at 0, the uniform distribution); default 0. */
  seed?: number;
}

export interface SoftmaxRegressionOptions {
  inputs: number;
  classes: number;
  /** Seeds the weights' initialisation (Glorot-uniform); default 0. */
  seed?: number;
}

export interface MlpOptions {
  inputs: number;
  /** Widths of the hidden layers, in order ([] is softmax regression). */
  hidden: readonly number[];
  classes: number;
  /** Default 'relu'. */
  activation?: Activation;
  /** Seeds the weights' initialisation; default 0. */
  seed?: number;
}

export interface Model {
  readonly kind: ModelKind;
  /** Input features per row (0 for categorical, which takes no input). */
  readonly inputs: number;
  readonly classes: number;
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

/** mulberry32: a small, fast, seeded generator of uniform numbers in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function positive(name: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) {
    throw badLayerSize(name, "a positive integer", v);
  }
  return v;
}

function rowsOf(v: unknown): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
    throw badLayerSize("rows", "an integer >= 0", v);
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

/** A stack of dense layers; categorical is one bias-free layer over a constant input of ones. */
class DenseModel implements Model {
  readonly inputs: number;
  readonly classes: number;
  private readonly layers: Layer[] = [];
  private readonly owned: WasmArray<"float32">[] = [];
  // Batch buffers: the hidden layers' outputs (activated in place) and their gradients, the logits,
  // and categorical's column of ones; `capacity` rows each.
  private hidden: WasmArray<"float32">[] = [];
  private dHidden: WasmArray<"float32">[] = [];
  private logits: WasmArray<"float32"> | null = null;
  private ones: WasmArray<"float32"> | null = null;
  private capacity = 0;
  // The last forward: its rows and its input (a WasmArray, or the place of a view).
  private lastRows: number | undefined;
  private lastX: WasmArray<"float32"> | { ptr: number; length: number } | null = null;
  private disposed = false;

  constructor(
    private readonly core: Core,
    readonly kind: ModelKind,
    sizes: readonly number[],
    private readonly activation: Activation,
    inits: readonly Init[],
    seed: number,
  ) {
    this.inputs = kind === "categorical" ? 0 : sizes[0]!;
    this.classes = sizes[sizes.length - 1]!;
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

  private live(): void {
    if (this.disposed) throw modelDisposed();
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
    for (const a of [...this.hidden, ...this.dHidden, this.logits, this.ones]) a?.free();
    this.hidden = [];
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
        this.hidden.push(new WasmArray(this.core, "float32", cap * l.outputs));
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
      const from = i === 0 ? first : this.hidden[i - 1]!;
      const to = i === last ? this.logits! : this.hidden[i]!;
      denseForward(this.core, from, l.w, l.b, to, { rows: n, inputs: l.inputs, outputs: l.outputs });
      if (i < last) activate(this.core, this.activation, to, to, n * l.outputs);
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
      const x = i === 0 ? first : this.hidden[i - 1]!;
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
      if (dx) activateBackward(this.core, this.activation, x, dx, dx, n * l.inputs);
    }
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
    if (this.disposed) return;
    this.free();
    this.disposed = true;
  }
}

/** logits = theta for every row: a categorical distribution, starting uniform (theta = 0). */
export function categorical(core: Core, options: CategoricalOptions): Model {
  const o = optionsOf("categorical", options, ["classes", "seed"]);
  const classes = positive("classes", o.classes);
  return new DenseModel(core, "categorical", [1, classes], "relu", ["zero"], seedOf(o.seed));
}

/** logits = x W + b, W Glorot-uniform, b = 0. */
export function softmaxRegression(core: Core, options: SoftmaxRegressionOptions): Model {
  const o = optionsOf("softmaxRegression", options, ["inputs", "classes", "seed"]);
  const inputs = positive("inputs", o.inputs);
  const classes = positive("classes", o.classes);
  return new DenseModel(core, "softmaxRegression", [inputs, classes], "relu", ["glorot"], seedOf(o.seed));
}

/**
 * dense -> activation per hidden layer, then dense to the logits. Hidden layers' weights are
 * He-uniform for relu and Glorot-uniform for tanh; the output layer's (linear) Glorot-uniform;
 * biases 0.
 */
export function mlp(core: Core, options: MlpOptions): Model {
  const o = optionsOf("mlp", options, ["inputs", "hidden", "classes", "activation", "seed"]);
  const inputs = positive("inputs", o.inputs);
  if (!Array.isArray(o.hidden)) throw badOption("hidden", "an array of layer widths", o.hidden);
  const hidden = (o.hidden as unknown[]).map((h, i) => positive(`hidden[${i}]`, h));
  const classes = positive("classes", o.classes);
  const activation = o.activation ?? "relu";
  if (activation !== "relu" && activation !== "tanh") {
    throw badOption("activation", "'relu' or 'tanh'", activation);
  }
  const inits: Init[] = [...hidden.map((): Init => (activation === "relu" ? "he" : "glorot")), "glorot"];
  return new DenseModel(core, "mlp", [inputs, ...hidden, classes], activation, inits, seedOf(o.seed));
}
