// The chunk loop shared by the elementwise losses (logistic.ts, gaussian.ts), mirroring
// assembly/rows.ts: places chunks of the inputs in wasm memory (or uses them in place), runs the
// kernel on each, turns its flags into the caller's error, and collects the loss (per row for
// reduction 'none') and the gradients. The kernels see flat ranges of elements, so a row of one
// element runs the same SIMD loop as one long row.

import type { Core } from "./wasm/loader.js";
// The stats record a kernel writes (assembly/rows.ts): the sum of its terms and its flags, both f64.
import { LOSS_FLAGS, LOSS_SIZE, LOSS_TOTAL } from "./wasm/abi.js";
import { bytesPer, Layout, type Dtype, type FloatArray, type Scratch } from "./wasm/memory.js";
import { place, type Resolved } from "./input.js";
import type { Reduction } from "./options.js";

// Elements per chunk: the widest kernel (Gaussian KL with q and its gradient: eight float64
// arrays) then takes 1 MiB of scratch, which stays in L2; inputs of any length run in bounded memory.
const CHUNK = 1 << 14;

/** One kernel call on `n` elements: input and gradient addresses in kernel order (0: absent). */
type ElementKernel = (
  inputs: readonly number[],
  grads: readonly number[],
  terms: number,
  n: number,
  gscale: number,
  st: number,
) => void;

interface ElementwiseLoss {
  readonly dtype: Dtype;
  readonly length: number;
  /** Elements per row. */
  readonly cols: number;
  readonly reduction: Reduction;
  readonly validate: boolean;
  /** The inputs in kernel order; null for an absent one. */
  readonly inputs: readonly (Resolved | null)[];
  /** The gradient outputs in kernel order (checked by gradOutput); empty for no gradient. */
  readonly grads: readonly FloatArray[];
  readonly kernel: ElementKernel;
  /** The error for elements [from, from + count), some of which the kernel flagged. */
  readonly describe: (from: number, count: number) => RangeError;
}

/** Runs the loss over every chunk; returns the reduced loss and the gradients (live views). */
export function runElementwise(
  core: Core,
  scratch: Scratch,
  spec: ElementwiseLoss,
): { loss: number | Float64Array; grads: FloatArray[] } {
  const { dtype, length: n, cols } = spec;
  const size = bytesPer(dtype);
  const rows = n / cols;
  const perRow = spec.reduction === "none" ? new Float64Array(rows) : null;
  const mean = spec.reduction === "mean" || spec.reduction === "batchmean";
  // The gradient of the returned loss: the mean over rows divides it by their number.
  const gscale = mean ? 1 / rows : 1;
  // Whole rows per chunk, or one row in pieces when it is longer than a chunk.
  const step = cols <= CHUNK ? Math.floor(CHUNK / cols) * cols : CHUNK;

  // A gradient array in wasm memory (a WasmArray's view) is written in place, unless it overlaps
  // an input: the scalar redo of a block reads the inputs again after the block's stores.
  const spans = spec.inputs.filter((r): r is Resolved => r !== null && r.ptr !== 0);
  // Read now: growth below detaches such a view, and a detached view has length 0.
  const lengths = spec.grads.map((g) => g.length);
  const inPlace = spec.grads.map((g) => {
    if (g.buffer !== core.memoryBuffer) return 0;
    const lo = g.byteOffset;
    const hi = lo + n * size;
    return spans.some((r) => r.ptr < hi && lo < r.ptr + r.length * size) ? 0 : lo;
  });

  const layout = new Layout();
  const inAt = spec.inputs.map((r) => layout.add(r && !r.ptr ? step * size : 0));
  const gradAt = inPlace.map((ptr) => layout.add(ptr ? 0 : step * size));
  const termsAt = layout.add(perRow ? step * 8 : 0);
  const rowsAt = layout.add(perRow && cols > 1 ? Math.max(1, step / cols) * 8 : 0);
  const stAt = layout.add(LOSS_SIZE);
  const base = scratch.take(layout.bytes);
  const st = base + stAt;

  let total = 0;
  for (let from = 0; from < n;) {
    const count = cols <= CHUNK ? Math.min(step, n - from) : Math.min(CHUNK, cols - (from % cols));
    const inputs = spec.inputs.map((r, j) => (r ? place(core, r, from, count, base + inAt[j]!) : 0));
    const grads = inPlace.map((ptr, j) => (ptr ? ptr + from * size : base + gradAt[j]!));
    spec.kernel(inputs, grads, perRow ? base + termsAt : 0, count, gscale, st);
    const heap = core.f64();
    if (spec.validate && heap[(st + LOSS_FLAGS) >>> 3] !== 0) throw spec.describe(from, count);
    total += heap[(st + LOSS_TOTAL) >>> 3]!;
    if (perRow) {
      const whole = cols <= CHUNK;
      // Rows of one element: the terms are the row values.
      if (cols > 1)
        core.k.row_totals(base + termsAt, whole ? count / cols : 1, whole ? cols : count, base + rowsAt);
      const at = (base + (cols > 1 ? rowsAt : termsAt)) >>> 3;
      if (whole) perRow.set(core.f64().subarray(at, at + count / cols), from / cols);
      else perRow[Math.floor(from / cols)]! += core.f64()[at]!;
    }
    spec.grads.forEach((g, j) => {
      if (inPlace[j]) return;
      const out = dtype === "float32" ? core.f32() : core.f64();
      const at = grads[j]! / size;
      g.set(out.subarray(at, at + count), from);
    });
    from += count;
  }
  // Memory growth during the call detaches the caller's views of wasm memory: hand back live ones.
  const grads = spec.grads.map((g, j) => {
    const ptr = inPlace[j]!;
    if (!ptr || g.buffer === core.memoryBuffer) return g;
    return dtype === "float32"
      ? new Float32Array(core.memoryBuffer, ptr, lengths[j])
      : new Float64Array(core.memoryBuffer, ptr, lengths[j]);
  });
  return { loss: perRow ?? (mean ? total / rows : total), grads };
}
