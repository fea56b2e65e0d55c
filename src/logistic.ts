// binaryCrossEntropyWithLogits: mirrors assembly/logistic.ts. Checks shapes and options once, runs
// the fused kernel through the elementwise chunk loop, and names the first bad element it flagged.

import type { Core } from "./wasm/loader.js";
import type { FloatArray, Scratch } from "./wasm/memory.js";
import { checkPair, elementAt, outputArray, resolve, type NumericInput, type Resolved } from "./input.js";
import {
  flag,
  gradOption,
  optionsOf,
  reductionOf,
  rowLength,
  type LossResult,
  type Reduction,
} from "./options.js";
import { runElementwise } from "./elementwise.js";
import {
  badBinaryTarget,
  badWeight,
  emptyInput,
  lengthMismatch,
  mixedPrecision,
  notFiniteAt,
} from "./errors.js";

export interface BinaryCrossEntropyOptions {
  /** Row length: a row's loss is the sum over its elements. Default 1 (every element is a row). */
  classes?: number;
  /** 'mean' over rows (default), 'sum', 'none' (one value per row), 'batchmean' (= 'mean'). */
  reduction?: Reduction;
  /** One weight per element (finite, >= 0), multiplying its loss and gradient. */
  weights?: NumericInput;
  /** true, or an output buffer of the logits' precision: also return d loss / d logits. */
  grad?: boolean | FloatArray;
  /** Check targets, logits and weights (default true). */
  validate?: boolean;
}

const OPTIONS = ["classes", "reduction", "weights", "grad", "validate"] as const;

/** Weights of the logits' precision and length; a number[] takes the logits' precision. */
function weightsOf(core: Core, given: unknown, z: Resolved): Resolved {
  let w = resolve(core, "weights", given);
  if (Array.isArray(given) && z.dtype === "float32") w = resolve(core, "weights", Float32Array.from(given));
  if (w.dtype !== z.dtype) throw mixedPrecision("weights", w.dtype, "logits", z.dtype);
  if (w.length !== z.length) throw lengthMismatch("weights", w.length, "logits", z.length);
  return w;
}

/** Binary cross-entropy of targets in [0, 1] against sigmoid(logits), per row of `classes`. */
export function binaryCrossEntropyWithLogits(
  core: Core,
  scratch: Scratch,
  targetIn: NumericInput,
  logitsIn: NumericInput,
  options: unknown,
): LossResult<number | Float64Array> {
  const o = optionsOf("binaryCrossEntropyWithLogits", options, OPTIONS);
  const reduction = reductionOf(o.reduction);
  const validate = flag("validate", o.validate, true);
  const wantGrad = gradOption(o);
  const y = resolve(core, "target", targetIn);
  const z = resolve(core, "logits", logitsIn);
  checkPair(y, z);
  const n = z.length;
  if (n === 0) throw emptyInput("logits");
  const cols = rowLength("classes", o.classes, n, 1);
  const w = o.weights === undefined ? null : weightsOf(core, o.weights, z);
  const grad = wantGrad ? outputArray("grad", z.dtype, n, wantGrad) : null;
  const f32 = z.dtype === "float32";
  const kernel = f32 ? core.k.bce_logits_f32 : core.k.bce_logits_f64;

  const { loss, grads } = runElementwise(core, scratch, {
    dtype: z.dtype,
    length: n,
    cols,
    reduction,
    validate,
    inputs: [y, z, w],
    grads: grad ? [grad] : [],
    kernel: ([yp, zp, wp], [gp], terms, count, gscale, st) =>
      kernel(yp!, zp!, wp!, gp ?? 0, terms, count, gscale, st),
    describe: (from, count) => {
      for (let i = from; i < from + count; i++) {
        const row = Math.floor(i / cols);
        const t = elementAt(core, y, i);
        if (!(t >= 0 && t <= 1)) return badBinaryTarget(i, row, t);
        const v = elementAt(core, z, i);
        if (!Number.isFinite(v)) return notFiniteAt("logits", i, row, v);
        const u = w ? elementAt(core, w, i) : 1;
        if (!(u >= 0 && u < Infinity)) return badWeight(i, u);
      }
      // Unreachable while the kernel and this check agree; keep a message rather than crash.
      return notFiniteAt("logits", from, Math.floor(from / cols), elementAt(core, z, from));
    },
  });
  return grad ? { loss, grad: grads[0]! } : { loss };
}
