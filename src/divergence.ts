// The divergence family: kl, crossEntropy, entropy, jsDivergence, jsDistance and relEntr. Mirrors
// assembly/divergence.ts. Validates once, places chunks of the inputs in wasm memory (or uses
// them in place), runs the fused kernel, checks the stats it reports, and reads the values back.

import type { Core } from "./wasm/loader.js";
import {
  FN_ENTROPY,
  FN_JS,
  FN_JS_DISTANCE,
  FN_KL,
  FN_XENT,
  LOG_P,
  LOG_Q,
  OPT_GENERALIZED,
  OPT_NORMALIZE,
  STATS_FLAGS,
  STATS_SIZE,
  STATS_SUM_P,
  STATS_SUM_Q,
  SUMS_ONE,
  SUMS_POSITIVE,
  SUMS_UNCHECKED,
} from "./wasm/abi.js";
import { bytesPer, Layout, type Dtype, type FloatArray, type Scratch } from "./wasm/memory.js";
import {
  checkPair,
  elementAt,
  liveView,
  outputArray,
  place,
  resolve,
  type NumericInput,
  type Resolved,
} from "./input.js";
import { flag, numberOption, optionsOf, reductionOf, type Reduction } from "./options.js";
import {
  badBase,
  badClasses,
  badElement,
  badLogElement,
  emptyInput,
  rowNotNormalizable,
  rowSumOff,
} from "./errors.js";

export type { Reduction } from "./options.js";

export interface DivergenceOptions {
  /** Row length: the inputs are rows x classes, row-major. Default: one row. */
  classes?: number;
  /** 'none' (one value per row), 'sum', 'mean' over rows (default), 'batchmean' (= 'mean'). */
  reduction?: Reduction;
  /** Logarithm base of the result, e.g. 2 for bits. Default e (nats). */
  base?: number;
  /** p holds natural logs ln p (PyTorch's KLDivLoss convention for its input). */
  logP?: boolean;
  /** q holds natural logs ln q. */
  logQ?: boolean;
  /** Unnormalised measures: kl uses SciPy's kl_div terms; all skip the row-sum check. */
  generalized?: boolean;
  /** Normalise each row of p and q to sum 1 first (scipy.stats.entropy). */
  normalize?: boolean;
  /** Check elements and row sums (default true). */
  validate?: boolean;
}

export type EntropyOptions = Omit<DivergenceOptions, "logQ">;

// Elements per chunk of scratch: inputs of any length run in bounded memory, and a chunk of two
// float64 inputs (1 MiB) stays in L2.
const CHUNK = 1 << 16;

interface Spec {
  readonly fn: number;
  readonly name: string;
  readonly pair: boolean;
  readonly known: readonly string[];
}

const PAIR_OPTIONS = [
  "classes",
  "reduction",
  "base",
  "logP",
  "logQ",
  "generalized",
  "normalize",
  "validate",
] as const;
const SINGLE_OPTIONS = PAIR_OPTIONS.filter((k) => k !== "logQ");

export const KL: Spec = { fn: FN_KL, name: "kl", pair: true, known: PAIR_OPTIONS };
export const CROSS_ENTROPY: Spec = { fn: FN_XENT, name: "crossEntropy", pair: true, known: PAIR_OPTIONS };
export const ENTROPY: Spec = { fn: FN_ENTROPY, name: "entropy", pair: false, known: SINGLE_OPTIONS };
export const JS_DIVERGENCE: Spec = { fn: FN_JS, name: "jsDivergence", pair: true, known: PAIR_OPTIONS };
export const JS_DISTANCE: Spec = { fn: FN_JS_DISTANCE, name: "jsDistance", pair: true, known: PAIR_OPTIONS };

interface Parsed {
  classes: number | undefined;
  reduction: Reduction;
  scale: number;
  mode: number;
  opts: number;
  validate: boolean;
}

function parseOptions(spec: Spec, options: unknown): Parsed {
  const o = optionsOf(spec.name, options, spec.known);
  const reduction = reductionOf(o.reduction);
  let scale = 1;
  const base = o.base;
  if (base !== undefined) {
    if (typeof base !== "number" || !(base > 0) || base === 1 || !Number.isFinite(base)) throw badBase(base);
    scale = 1 / Math.log(base);
  }
  return {
    classes: numberOption("classes", o.classes),
    reduction,
    scale,
    mode: (flag("logP", o.logP) ? LOG_P : 0) | (flag("logQ", o.logQ) ? LOG_Q : 0),
    opts:
      (flag("generalized", o.generalized) ? OPT_GENERALIZED : 0) |
      (flag("normalize", o.normalize) ? OPT_NORMALIZE : 0),
    validate: flag("validate", o.validate, true),
  };
}

/**
 * Row-sum tolerance: how far from 1 a row may sum and still count as a distribution. The check is
 * there to catch gross mistakes (log-probabilities, counts, the wrong axis), not rounding: float64
 * rows that came from float32 data are off by ~1e-7, and the tolerance grows with the row length
 * because the caller's own normalising sum carries rounding error.
 */
export const sumTolerance = (dtype: Dtype, cols: number): number =>
  dtype === "float32" ? 1e-5 + cols * 2 ** -24 : 1e-6 + cols * 2 ** -52;

/** Runs one divergence over all rows. */
export function divergence(
  core: Core,
  scratch: Scratch,
  spec: Spec,
  pIn: NumericInput,
  qIn: NumericInput | undefined,
  options: unknown,
): number | Float64Array {
  const o = parseOptions(spec, options);
  const p = resolve(core, "p", pIn);
  const q = spec.pair ? resolve(core, "q", qIn) : null;
  if (q) checkPair(p, q);
  const n = p.length;
  if (n === 0) throw emptyInput("p");
  const cols = o.classes ?? n;
  if (!Number.isSafeInteger(cols) || cols < 1 || n % cols !== 0) throw badClasses(o.classes, n);
  const rows = n / cols;
  const dtype = p.dtype;
  const k = core.k;

  // Rows per chunk, or pieces per row when one row exceeds a chunk.
  const rowsPer = cols <= CHUNK ? Math.floor(CHUNK / cols) : 1;
  const pieceLen = cols <= CHUNK ? cols : CHUNK;
  const elements = cols <= CHUNK ? rowsPer * cols : CHUNK;
  const layout = new Layout();
  const pAt = layout.add(p.ptr ? 0 : elements * bytesPer(dtype));
  const qAt = layout.add(q && !q.ptr ? elements * bytesPer(dtype) : 0);
  const stAt = layout.add(rowsPer * STATS_SIZE);
  const scalesAt = layout.add(rowsPer * 16);
  const outAt = layout.add(rowsPer * 8);
  const base = scratch.take(layout.bytes);
  const st = base + stAt;

  const normalize = (o.opts & OPT_NORMALIZE) !== 0;
  const preSum = normalize && (spec.fn === FN_JS || spec.fn === FN_JS_DISTANCE);
  const sums = normalize ? SUMS_POSITIVE : o.opts & OPT_GENERALIZED ? SUMS_UNCHECKED : SUMS_ONE;
  const tol = sumTolerance(dtype, cols);
  const kernel = dtype === "float32" ? k.divergence_f32 : k.divergence_f64;
  const rowsums = dtype === "float32" ? k.rowsums_f32 : k.rowsums_f64;

  // Calls `run` on each placed block of rows [r0, r0 + rc): whole rows, or one row in pieces.
  const forPieces = (
    r0: number,
    rc: number,
    run: (pp: number, qp: number, rows: number, cols: number) => void,
  ) => {
    if (pieceLen === cols) {
      const from = r0 * cols;
      const pp = place(core, p, from, rc * cols, base + pAt);
      const qp = q ? place(core, q, from, rc * cols, base + qAt) : 0;
      run(pp, qp, rc, cols);
      return;
    }
    for (let j = 0; j < cols; j += pieceLen) {
      const from = r0 * cols + j;
      const len = Math.min(pieceLen, cols - j);
      const pp = place(core, p, from, len, base + pAt);
      const qp = q ? place(core, q, from, len, base + qAt) : 0;
      run(pp, qp, 1, len);
    }
  };

  const check = (r0: number, rc: number, sumCheck: number) => {
    const bad = k.check_rows(st, rc, q ? 1 : 0, sumCheck, tol);
    if (bad >= 0) throw describe(core, st + bad * STATS_SIZE, r0 + bad, cols, p, q, o.mode, sumCheck, tol);
  };

  const result = o.reduction === "none" ? new Float64Array(rows) : null;
  let total = 0;
  for (let r0 = 0; r0 < rows; r0 += rowsPer) {
    const rc = Math.min(rowsPer, rows - r0);
    k.zero(st, rc * STATS_SIZE);
    let scales = 0;
    if (preSum) {
      forPieces(r0, rc, (pp, qp, nr, nc) => rowsums(o.mode, pp, qp, nr, nc, st));
      if (o.validate) check(r0, rc, SUMS_POSITIVE);
      scales = base + scalesAt;
      k.normalizing_scales(st, rc, scales);
      k.zero(st, rc * STATS_SIZE);
    }
    forPieces(r0, rc, (pp, qp, nr, nc) => kernel(spec.fn, o.mode, pp, qp, nr, nc, scales, st));
    if (o.validate) check(r0, rc, preSum ? SUMS_UNCHECKED : sums);
    total += k.finish(spec.fn, o.opts, st, rc, o.scale, tol, base + outAt);
    if (result) {
      const at = (base + outAt) >>> 3;
      result.set(core.f64().subarray(at, at + rc), r0);
    }
  }
  if (result) return result;
  return o.reduction === "sum" ? total : total / rows;
}

/** The error for a row that failed `check_rows`: the first bad element, else the bad sum. */
function describe(
  core: Core,
  stats: number,
  row: number,
  cols: number,
  p: Resolved,
  q: Resolved | null,
  mode: number,
  sumCheck: number,
  tol: number,
): RangeError {
  const heap = core.f64();
  const flags = heap[(stats + STATS_FLAGS) >>> 3]!;
  const sp = heap[(stats + STATS_SUM_P) >>> 3]!;
  const sq = heap[(stats + STATS_SUM_Q) >>> 3]!;
  const inputs: [Resolved, boolean, number][] = [[p, (mode & LOG_P) !== 0, sp]];
  if (q) inputs.push([q, (mode & LOG_Q) !== 0, sq]);
  // The kernel flags most bad elements; NaN or Infinity where p = 0 shows only in a row sum.
  if (flags || !Number.isFinite(sp) || !Number.isFinite(sq)) {
    for (const [r, isLog] of inputs) {
      for (let i = row * cols; i < (row + 1) * cols; i++) {
        const v = elementAt(core, r, i);
        if (isLog ? !(v < Infinity) : !(v >= 0 && v < Infinity)) {
          return isLog ? badLogElement(r.name, i, v, row) : badElement(r.name, i, v, row);
        }
      }
    }
  }
  for (const [r, , sum] of inputs) {
    if (sumCheck === SUMS_ONE && !(Math.abs(sum - 1) <= tol)) return rowSumOff(r.name, row, sum, tol);
    if (sumCheck === SUMS_POSITIVE && !(sum > 0 && sum < Infinity))
      return rowNotNormalizable(r.name, row, sum);
  }
  // Unreachable while check_rows and this function agree; keep a message rather than crash.
  return rowSumOff(p.name, row, sp, tol);
}

/** Elementwise rel_entr(p, q) into `out` (same precision as the inputs), SciPy's value everywhere. */
export function relEntr(
  core: Core,
  scratch: Scratch,
  pIn: NumericInput,
  qIn: NumericInput,
  out?: FloatArray,
): FloatArray {
  const p = resolve(core, "p", pIn);
  const q = resolve(core, "q", qIn);
  checkPair(p, q);
  const n = p.length;
  const f32 = p.dtype === "float32";
  const target = outputArray("out", p.dtype, n, out);
  if (n === 0) return target;
  const size = bytesPer(p.dtype);
  const chunk = Math.min(n, CHUNK);
  const inPlace = target.buffer === core.memoryBuffer;
  const targetPtr = target.byteOffset;
  const targetLength = target.length;
  const layout = new Layout();
  const pAt = layout.add(p.ptr ? 0 : chunk * size);
  const qAt = layout.add(q.ptr ? 0 : chunk * size);
  const outAt = layout.add(inPlace ? 0 : chunk * size);
  const base = scratch.take(layout.bytes);
  const kernel = f32 ? core.k.rel_entr_f32 : core.k.rel_entr_f64;
  for (let from = 0; from < n; from += chunk) {
    const len = Math.min(chunk, n - from);
    const pp = place(core, p, from, len, base + pAt);
    const qp = place(core, q, from, len, base + qAt);
    const op = inPlace ? targetPtr + from * size : base + outAt;
    kernel(pp, qp, op, len);
    if (!inPlace) {
      const heap = f32 ? core.f32() : core.f64();
      const at = op / size;
      target.set(heap.subarray(at, at + len), from);
    }
  }
  // A view into wasm memory may have been detached by growth: hand back a live one.
  return inPlace && target.buffer !== core.memoryBuffer
    ? liveView(core, p.dtype, targetPtr, targetLength)
    : target;
}
