// The softmax family: logSumExp, softmax, logSoftmax, crossEntropyWithLogits, klWithLogits. Mirrors
// assembly/softmax.ts: validates options and targets once, places chunks of rows in wasm memory (or
// uses them in place), runs the fused kernel, and copies losses and gradients out to the caller.

import type { Core } from "./wasm/loader.js";
import { XENT_KL, XENT_LOG_TARGET, XENT_WANT_GRAD } from "./wasm/abi.js";
import { sumTolerance } from "./divergence.js";
import { bytesPer, Layout, WasmArray, type Dtype, type FloatArray, type Scratch } from "./wasm/memory.js";
import { firstNonIndex, isFloatArray } from "./tags.js";
import {
  elementAt,
  isIndexArray,
  liveView,
  outputArray,
  place,
  resolve,
  tagOf,
  type ClassIndices,
  type IndexArray,
  type NumericInput,
  type Resolved,
} from "./input.js";
import {
  flag,
  gradOption,
  numberOption,
  optionsOf,
  reductionOf,
  rowLength,
  type LossResult,
  type Options,
  type Reduction,
} from "./options.js";
import {
  badClassIndex,
  badElement,
  badIgnoreIndex,
  badLogit,
  badLogElement,
  badPositive,
  badSmoothing,
  badWeight,
  classesRequired,
  emptyInput,
  floatIndicesRejected,
  klTargetNotProbabilities,
  mixedPrecision,
  noFiniteLogit,
  notTargetArray,
  targetSizeMismatch,
  weightsLength,
} from "./errors.js";

export interface LogSumExpOptions {
  /** Row length (default: one row). */
  classes?: number;
  /** Output for one value per row. */
  out?: Float64Array;
}

export interface SoftmaxOptions {
  /** Row length (default: one row). */
  classes?: number;
  /** Divides the logits: softmax(z / T). Default 1. */
  temperature?: number;
  /** Output of the logits' precision and length. */
  out?: FloatArray;
}

export interface CrossEntropyOptions {
  /** Row length: the number of classes. Required. */
  classes: number;
  /** 'mean' (default; weighted mean for class indices, as PyTorch), 'sum', 'none' (per row), 'batchmean'. */
  reduction?: Reduction;
  /** One weight per class (finite, >= 0). */
  weights?: NumericInput;
  /** Class-index target that contributes nothing (default -100, as PyTorch). */
  ignoreIndex?: number;
  /** Mixes eps/C of uniform mass into the target, eps in [0, 1]. */
  labelSmoothing?: number;
  /** Divides the logits (> 0); the gradient is the exact derivative w.r.t. the given logits. */
  temperature?: number;
  /** true, or an output buffer of the logits' precision: also return d loss / d logits. */
  grad?: boolean | FloatArray;
  /** Check logits and soft targets (default true). Class indices are always checked. */
  validate?: boolean;
}

export interface KlWithLogitsOptions extends Omit<CrossEntropyOptions, "ignoreIndex"> {
  /** The target holds natural logs ln p (-Infinity for 0). */
  logTarget?: boolean;
}

export type { ClassIndices } from "./input.js";

// Elements per chunk of scratch (at least one whole row).
const CHUNK = 1 << 16;

export function logitsOf(core: Core, logits: unknown): Resolved {
  const z = resolve(core, "logits", logits);
  if (z.length === 0) throw emptyInput("logits");
  return z;
}

export function temperatureOf(o: Options): number {
  const t = numberOption("temperature", o.temperature);
  if (t === undefined) return 1;
  if (!(t > 0) || !Number.isFinite(t)) throw badPositive("temperature", t);
  return t;
}

/** Copies `count` elements at wasm address `from` into `to[at...]`. */
export function copyOut(
  core: Core,
  dtype: Dtype,
  from: number,
  count: number,
  to: FloatArray,
  at: number,
): void {
  const heap = dtype === "float32" ? core.f32() : core.f64();
  const i = from / bytesPer(dtype);
  to.set(heap.subarray(i, i + count), at);
}

/** The error for a logits row the kernel refused: its first NaN or +Infinity, or no finite value. */
function logitsError(core: Core, z: Resolved, row: number, cols: number): RangeError | undefined {
  for (let i = row * cols; i < (row + 1) * cols; i++) {
    const v = elementAt(core, z, i);
    if (Number.isNaN(v) || v === Infinity) return badLogit(i, row, v);
  }
  for (let i = row * cols; i < (row + 1) * cols; i++) if (elementAt(core, z, i) > -Infinity) return undefined;
  return noFiniteLogit(row);
}

// ---- logSumExp, softmax, logSoftmax ----------------------------------------------------------

export function logSumExp(
  core: Core,
  scratch: Scratch,
  logits: NumericInput,
  options?: unknown,
): Float64Array {
  const o = optionsOf("logSumExp", options, ["classes", "out"]);
  const z = logitsOf(core, logits);
  const cols = rowLength("classes", o.classes, z.length);
  const rows = z.length / cols;
  const out = outputArray("out", "float64", rows, o.out) as Float64Array;
  const rowsPer = Math.max(1, Math.floor(CHUNK / cols));
  const layout = new Layout();
  const zAt = layout.add(z.ptr ? 0 : rowsPer * cols * bytesPer(z.dtype));
  const outAt = layout.add(rowsPer * 8);
  const base = scratch.take(layout.bytes);
  const kernel = z.dtype === "float32" ? core.k.logsumexp_f32 : core.k.logsumexp_f64;
  for (let r0 = 0; r0 < rows; r0 += rowsPer) {
    const rc = Math.min(rowsPer, rows - r0);
    const zp = place(core, z, r0 * cols, rc * cols, base + zAt);
    const bad = kernel(zp, rc, cols, base + outAt);
    if (bad >= 0) throw logitsError(core, z, r0 + bad, cols) ?? noFiniteLogit(r0 + bad);
    copyOut(core, "float64", base + outAt, rc, out, r0);
  }
  return out;
}

/** softmax (log = false) or logSoftmax (log = true) of logits / temperature. */
export function softmax(
  core: Core,
  scratch: Scratch,
  logits: NumericInput,
  options: unknown,
  log: boolean,
): FloatArray {
  const o = optionsOf(log ? "logSoftmax" : "softmax", options, ["classes", "temperature", "out"]);
  const z = logitsOf(core, logits);
  const cols = rowLength("classes", o.classes, z.length);
  const rows = z.length / cols;
  const invT = 1 / temperatureOf(o);
  const out = outputArray("out", z.dtype, z.length, o.out);
  const rowsPer = Math.max(1, Math.floor(CHUNK / cols));
  const size = bytesPer(z.dtype);
  const layout = new Layout();
  const zAt = layout.add(z.ptr ? 0 : rowsPer * cols * size);
  const outAt = layout.add(rowsPer * cols * size);
  const base = scratch.take(layout.bytes);
  const kernel = z.dtype === "float32" ? core.k.softmax_f32 : core.k.softmax_f64;
  for (let r0 = 0; r0 < rows; r0 += rowsPer) {
    const rc = Math.min(rowsPer, rows - r0);
    const zp = place(core, z, r0 * cols, rc * cols, base + zAt);
    const bad = kernel(zp, rc, cols, invT, log ? 1 : 0, base + outAt);
    if (bad >= 0) throw logitsError(core, z, r0 + bad, cols) ?? noFiniteLogit(r0 + bad);
    copyOut(core, z.dtype, base + outAt, rc * cols, out, r0 * cols);
  }
  return out;
}

// ---- crossEntropyWithLogits, klWithLogits ----------------------------------------------------

const XENT_OPTIONS = [
  "classes",
  "reduction",
  "weights",
  "ignoreIndex",
  "labelSmoothing",
  "temperature",
  "grad",
  "validate",
] as const;
const KL_OPTIONS = [...XENT_OPTIONS.filter((k) => k !== "ignoreIndex"), "logTarget"] as const;

/** Weights as JS numbers (checked: one per class, finite, >= 0), or null. */
function weightsOf(core: Core, o: Options, cols: number, dtype: Dtype): number[] | null {
  if (o.weights === undefined) return null;
  const w = resolve(core, "weights", o.weights);
  if (w.dtype !== dtype && !(w.data && Array.isArray(w.data)))
    throw mixedPrecision("weights", w.dtype, "logits", dtype);
  if (w.length !== cols) throw weightsLength(w.length, cols);
  const values: number[] = [];
  for (let i = 0; i < cols; i++) {
    const v = elementAt(core, w, i);
    if (!(v >= 0 && v < Infinity)) throw badWeight(i, v);
    values.push(v);
  }
  return values;
}

/**
 * Class indices, each checked against [0, classes) and the ignore index, with the denominator of
 * PyTorch's weighted mean (the weights of the rows not ignored). Typed arrays are used as they are;
 * number[] becomes an Int32Array.
 */
function labelsOf(
  target: ClassIndices,
  rows: number,
  cols: number,
  ignore: number,
  weights: number[] | null,
): { labels: IndexArray; den: number } {
  if (target.length !== rows) throw targetSizeMismatch(target.length, rows, cols);
  const typed = ArrayBuffer.isView(target);
  const labels = typed ? (target as IndexArray) : new Int32Array(rows);
  let den = 0;
  if (typed && !weights) {
    // The common case in a training loop: a range check per label, nothing else. Int32Array gets
    // its own loop so that the element access stays monomorphic.
    if (labels instanceof Int32Array) return { labels, den: countLabels(labels, rows, cols, ignore) };
    for (let i = 0; i < rows; i++) {
      const v = labels[i]!;
      // The ignore index first: it may lie inside [0, cols).
      if (v === ignore) continue;
      if (v >= 0 && v < cols) den++;
      else throw badClassIndex("target", i, v, cols, ignore);
    }
    return { labels, den };
  }
  for (let i = 0; i < rows; i++) {
    const v = target[i]!;
    if (v === ignore && (typed || Number.isInteger(v))) {
      if (!typed) labels[i] = v;
      continue;
    }
    // Typed arrays hold integers already; a number[] entry must be one.
    if (!(v >= 0 && v < cols && (typed || Number.isInteger(v))))
      throw badClassIndex("target", i, v, cols, ignore);
    if (!typed) labels[i] = v;
    den += weights ? weights[v]! : 1;
  }
  return { labels, den };
}

/** The number of labels in [0, cols) other than `ignore`; any other value is an error. */
function countLabels(labels: Int32Array, rows: number, cols: number, ignore: number): number {
  let den = 0;
  for (let i = 0; i < rows; i++) {
    const v = labels[i]!;
    // The ignore index first: it may lie inside [0, cols). One unsigned compare covers v < 0.
    if (v === ignore) continue;
    if (v >>> 0 < cols) den++;
    else throw badClassIndex("target", i, v, cols, ignore);
  }
  return den;
}

/** The error for a row the kernel refused: its logits first, then its soft target. */
export function lossRowError(
  core: Core,
  z: Resolved,
  t: Resolved | null,
  row: number,
  cols: number,
  logTarget: boolean,
): RangeError {
  const e = logitsError(core, z, row, cols);
  if (e) return e;
  if (t) {
    for (let i = row * cols; i < (row + 1) * cols; i++) {
      const v = elementAt(core, t, i);
      if (logTarget ? !(v < Infinity) : !(v >= 0 && v < Infinity)) {
        return logTarget ? badLogElement("target", i, v, row) : badElement("target", i, v, row);
      }
    }
  }
  return noFiniteLogit(row);
}

/** Cross-entropy (kl = false) or KL (kl = true) of targets against softmax(logits / T). */
export function crossEntropyWithLogits(
  core: Core,
  scratch: Scratch,
  target: unknown,
  logits: NumericInput,
  options: unknown,
  kl: boolean,
): LossResult<number | Float64Array> {
  const name = kl ? "klWithLogits" : "crossEntropyWithLogits";
  const o = optionsOf(name, options, kl ? KL_OPTIONS : XENT_OPTIONS);
  if (o.classes === undefined) throw classesRequired(name);
  const z = logitsOf(core, logits);
  const cols = rowLength("classes", o.classes, z.length);
  const rows = z.length / cols;
  const dtype = z.dtype;
  const size = bytesPer(dtype);
  const reduction = reductionOf(o.reduction);
  const eps = numberOption("labelSmoothing", o.labelSmoothing) ?? 0;
  if (!(eps >= 0 && eps <= 1)) throw badSmoothing(eps);
  const invT = 1 / temperatureOf(o);
  const validate = flag("validate", o.validate, true);
  const logTarget = kl && flag("logTarget", o.logTarget);
  const wantGrad = gradOption(o);
  const ignore = o.ignoreIndex ?? -100;
  // The kernel reads it as an i32: a wider integer would wrap onto a class.
  if (typeof ignore !== "number" || ignore !== (ignore | 0)) throw badIgnoreIndex(ignore);
  const weights = weightsOf(core, o, cols, dtype);

  // Class indices in a float array (as TF.js keeps labels), read as fit reads them: one value per
  // row, a length rows x classes probabilities cannot have when classes > 1. Then every value must
  // be an integer class or the ignore index; converted once, so hot loops pass an Int32Array.
  if (!kl && cols > 1 && isFloatArray(target) && target.length === rows) {
    const bad = firstNonIndex(target, cols, ignore);
    if (bad >= 0) throw floatIndicesRejected(tagOf(target)!, bad, target[bad]!, rows, cols, ignore);
    target = Int32Array.from(target);
  }
  if (kl && (Array.isArray(target) || isIndexArray(target))) throw klTargetNotProbabilities(target);

  // The target: class indices, or probabilities of the logits' precision and shape.
  const indices = !kl && (Array.isArray(target) || isIndexArray(target));
  let y: IndexArray | null = null;
  let t: Resolved | null = null;
  let den: number;
  if (indices) {
    for (const v of Array.isArray(target) ? (target as unknown[]) : []) {
      if (typeof v !== "number")
        throw badClassIndex("target", (target as unknown[]).indexOf(v), v, cols, ignore);
    }
    ({ labels: y, den } = labelsOf(target as ClassIndices, rows, cols, ignore, weights));
  } else {
    if (!(isFloatArray(target) || target instanceof WasmArray))
      throw kl ? klTargetNotProbabilities(target) : notTargetArray(target);
    t = resolve(core, "target", target);
    if (t.dtype !== dtype) throw mixedPrecision("target", t.dtype, "logits", dtype);
    if (t.length !== rows * cols) throw targetSizeMismatch(t.length, rows, cols, kl);
    den = rows;
  }
  const mean = reduction === "mean" || reduction === "batchmean";
  // All rows ignored with 'mean': loss 0 and gradient 0, never NaN (PyTorch gives NaN).
  const gradScale = mean ? (den > 0 ? 1 / den : 0) : 1;

  const rowsPer = Math.max(1, Math.floor(CHUNK / cols));
  const layout = new Layout();
  const zAt = layout.add(z.ptr ? 0 : rowsPer * cols * size);
  const tAt = layout.add(t ? (t.ptr ? 0 : rowsPer * cols * size) : rowsPer * 4);
  const wAt = layout.add(weights ? cols * size : 0);
  // The gradient output, checked before anything can grow memory (which detaches a caller's view
  // into wasm memory). One in wasm memory (zero copy) is written in place; any other goes through
  // scratch.
  const grad = wantGrad ? outputArray("grad", dtype, z.length, wantGrad) : undefined;
  const gradInPlace = typeof wantGrad === "object" && wantGrad.buffer === core.memoryBuffer;
  const gradPtr = gradInPlace ? wantGrad.byteOffset : 0;
  const gradLength = gradInPlace ? wantGrad.length : 0;
  // Scratch for the gradient (also the exponentials' workspace of the short-row kernels).
  const gAt = layout.add(gradInPlace ? 0 : rowsPer * cols * size);
  const lossAt = layout.add(rowsPer * 8);
  const workAt = layout.add(rowsPer * 16);
  const base = scratch.take(layout.bytes);
  if (weights) (dtype === "float32" ? core.f32() : core.f64()).set(weights, (base + wAt) / size);
  const wPtr = weights ? base + wAt : 0;
  const wSum = weights ? weights.reduce((a, b) => a + b, 0) : cols;
  const perRow = reduction === "none" ? new Float64Array(rows) : null;
  // Rows of a distribution within this of 1 have their KL clamped at 0, as kl() does.
  const sumTol = sumTolerance(dtype, cols);
  const flags = (wantGrad ? XENT_WANT_GRAD : 0) | (kl ? XENT_KL : 0) | (logTarget ? XENT_LOG_TARGET : 0);
  const k = core.k;
  let total = 0;
  for (let r0 = 0; r0 < rows; r0 += rowsPer) {
    const rc = Math.min(rowsPer, rows - r0);
    const zp = place(core, z, r0 * cols, rc * cols, base + zAt);
    const gp = gradInPlace ? gradPtr + r0 * cols * size : base + gAt;
    let bad: number;
    if (y) {
      core.i32().set(rc === rows ? y : y.subarray(r0, r0 + rc), (base + tAt) >>> 2);
      const kernel = dtype === "float32" ? k.xent_index_f32 : k.xent_index_f64;
      bad = kernel(
        zp,
        base + tAt,
        wPtr,
        wSum,
        rc,
        cols,
        eps,
        invT,
        ignore,
        flags,
        gradScale,
        gp,
        base + lossAt,
        base + workAt,
      );
    } else {
      const tp = place(core, t!, r0 * cols, rc * cols, base + tAt);
      const kernel = dtype === "float32" ? k.xent_probs_f32 : k.xent_probs_f64;
      bad = kernel(
        zp,
        tp,
        wPtr,
        rc,
        cols,
        eps,
        invT,
        flags,
        gradScale,
        gp,
        base + lossAt,
        base + workAt,
        sumTol,
      );
    }
    if (bad >= 0 && validate) throw lossRowError(core, z, t, r0 + bad, cols, logTarget);
    total += k.sum_f64(base + lossAt, rc);
    if (perRow) copyOut(core, "float64", base + lossAt, rc, perRow, r0);
    if (grad && !gradInPlace) copyOut(core, dtype, gp, rc * cols, grad, r0 * cols);
  }
  const loss = perRow ?? (mean ? (den > 0 ? total / den : 0) : total);
  if (!grad) return { loss };
  // Memory growth during the call detaches an in-place view: hand back a live one.
  return {
    loss,
    grad:
      gradInPlace && grad.buffer !== core.memoryBuffer ? liveView(core, dtype, gradPtr, gradLength) : grad,
  };
}
