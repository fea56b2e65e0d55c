// Probability losses on logits: MSE, L1 and Jensen-Shannon between probability targets t and
// q = softmax(logits / T), each fused with its exact gradient w.r.t. the logits (through the softmax
// Jacobian). Mirrors assembly/probloss.ts; validation, chunking and output buffers as
// crossEntropyWithLogits (src/softmax.ts).
//
// Conventions: a row's loss is summed over its C classes; 'mean' (the default) and 'batchmean'
// divide the sum over rows by the number of rows, 'sum' does not, 'none' gives one loss per row.
// PyTorch's MSELoss/L1Loss with reduction 'mean' divide by rows x C (every element) instead: multiply
// by C to compare. mse: sum_c (q_c - t_c)^2. l1: sum_c |q_c - t_c|, subgradient 0 where q_c = t_c.
// js: KL(t || m)/2 + KL(q || m)/2 with m = (t + q)/2, natural log, 0 ln 0 = 0 exactly.
// Float32 inputs are computed in float32 lanes per row (float64 across rows).

import type { Core } from "./wasm/loader.js";
import { PROBLOSS_JS, PROBLOSS_L1, PROBLOSS_MSE, PROBLOSS_WANT_GRAD } from "./wasm/abi.js";
import { bytesPer, Layout, WasmArray, type FloatArray, type Scratch } from "./wasm/memory.js";
import { liveView, outputArray, place, resolve, type NumericInput } from "./input.js";
import {
  flag,
  gradOption,
  optionsOf,
  reductionOf,
  rowLength,
  type LossResult,
  type Reduction,
} from "./options.js";
import { copyOut, logitsOf, lossRowError, temperatureOf } from "./softmax.js";
import {
  badProbabilityLoss,
  classesRequired,
  mixedPrecision,
  notTargetArray,
  targetSizeMismatch,
} from "./errors.js";

export type ProbabilityLoss = "mse" | "l1" | "js";

export interface ProbabilityLossOptions {
  /** Row length: the number of classes. Required. */
  classes: number;
  /** 'mean' (default: over rows, not classes), 'sum', 'none' (per row), 'batchmean' (= 'mean'). */
  reduction?: Reduction;
  /** Divides the logits (> 0); the gradient is the exact derivative w.r.t. the given logits. */
  temperature?: number;
  /** true, or an output buffer of the logits' precision: also return d loss / d logits. */
  grad?: boolean | FloatArray;
  /** Check logits and targets (default true). */
  validate?: boolean;
}

const KINDS: Record<ProbabilityLoss, number> = { mse: PROBLOSS_MSE, l1: PROBLOSS_L1, js: PROBLOSS_JS };
// Elements per chunk of scratch (at least one whole row).
const CHUNK = 1 << 16;

const OPTIONS = ["classes", "reduction", "temperature", "grad", "validate"] as const;

const tagOf = (x: unknown): string =>
  ArrayBuffer.isView(x) ? (x as unknown as { [Symbol.toStringTag]: string })[Symbol.toStringTag] : "";

/** MSE, L1 or Jensen-Shannon of probability targets against softmax(logits / T), with its gradient. */
export function probabilityLossWithLogits(
  core: Core,
  scratch: Scratch,
  kind: ProbabilityLoss,
  target: unknown,
  logits: NumericInput,
  options: unknown,
): LossResult<number | Float64Array> {
  const name = "probabilityLossWithLogits";
  if (typeof kind !== "string" || !Object.hasOwn(KINDS, kind)) throw badProbabilityLoss(kind);
  const o = optionsOf(name, options, OPTIONS);
  if (o.classes === undefined) throw classesRequired(name);
  const z = logitsOf(core, logits);
  const cols = rowLength("classes", o.classes, z.length);
  const rows = z.length / cols;
  const dtype = z.dtype;
  const size = bytesPer(dtype);
  const reduction = reductionOf(o.reduction);
  const invT = 1 / temperatureOf(o);
  const validate = flag("validate", o.validate, true);
  const wantGrad = gradOption(o);

  const tag = tagOf(target);
  if (!(tag === "Float32Array" || tag === "Float64Array" || target instanceof WasmArray))
    throw notTargetArray(target);
  const t = resolve(core, "target", target);
  if (t.dtype !== dtype) throw mixedPrecision("target", t.dtype, "logits", dtype);
  if (t.length !== rows * cols) throw targetSizeMismatch(t.length, rows, cols);
  const mean = reduction === "mean" || reduction === "batchmean";
  const gradScale = mean ? 1 / rows : 1;

  const rowsPer = Math.max(1, Math.floor(CHUNK / cols));
  const layout = new Layout();
  const zAt = layout.add(z.ptr ? 0 : rowsPer * cols * size);
  const tAt = layout.add(t.ptr ? 0 : rowsPer * cols * size);
  // The gradient output, checked before anything can grow memory (which detaches a caller's view
  // into wasm memory). One in wasm memory (zero copy) is written in place; any other goes through
  // scratch.
  const grad = wantGrad ? outputArray("grad", dtype, z.length, wantGrad) : undefined;
  const gradInPlace = typeof wantGrad === "object" && wantGrad.buffer === core.memoryBuffer;
  const gradPtr = gradInPlace ? wantGrad.byteOffset : 0;
  const gradLength = gradInPlace ? wantGrad.length : 0;
  // Scratch for the gradient (also where the kernel forms q when no gradient is wanted).
  const gAt = layout.add(gradInPlace ? 0 : rowsPer * cols * size);
  const workAt = layout.add(cols * size);
  const lossAt = layout.add(rowsPer * 8);
  const base = scratch.take(layout.bytes);
  const perRow = reduction === "none" ? new Float64Array(rows) : null;
  const flags = wantGrad ? PROBLOSS_WANT_GRAD : 0;
  const k = core.k;
  const kernel = dtype === "float32" ? k.probloss_f32 : k.probloss_f64;
  const code = KINDS[kind];
  let total = 0;
  for (let r0 = 0; r0 < rows; r0 += rowsPer) {
    const rc = Math.min(rowsPer, rows - r0);
    const zp = place(core, z, r0 * cols, rc * cols, base + zAt);
    const tp = place(core, t, r0 * cols, rc * cols, base + tAt);
    const gp = gradInPlace ? gradPtr + r0 * cols * size : base + gAt;
    const bad = kernel(code, zp, tp, rc, cols, invT, flags, gradScale, gp, base + workAt, base + lossAt);
    if (bad >= 0 && validate) throw lossRowError(core, z, t, r0 + bad, cols, false);
    total += k.sum_f64(base + lossAt, rc);
    if (perRow) copyOut(core, "float64", base + lossAt, rc, perRow, r0);
    if (grad && !gradInPlace) copyOut(core, dtype, gp, rc * cols, grad, r0 * cols);
  }
  const loss = perRow ?? (mean ? total / rows : total);
  if (!grad) return { loss };
  // Memory growth during the call detaches an in-place view: hand back a live one.
  return {
    loss,
    grad:
      gradInPlace && grad.buffer !== core.memoryBuffer ? liveView(core, dtype, gradPtr, gradLength) : grad,
  };
}
