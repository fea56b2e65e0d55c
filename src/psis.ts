// Pareto-smoothed importance sampling (assembly/psis.ts): the generalized Pareto fit to the
// largest importance weights, whose shape k says whether the weights' variance is finite. The
// weights are checked and sorted here (an exact comparison sort, the same in every engine); the
// fit and the smoothing run in wasm. docs/variational-inference.md has the algorithm and the
// reading of k; test/psis.test.ts checks it against test/fixtures/generate_psis.py.

import type { Core } from "./wasm/loader.js";
import { allocate } from "./wasm/memory.js";
import { badOption, tooFewWeights } from "./errors.js";

export interface PsisResult {
  /** The generalized Pareto shape of the weights' tail (Infinity when the tail is too short to fit). */
  k: number;
  /** The smoothed log-weights, normalised so that their exponentials sum to 1. */
  logWeights: Float64Array;
}

/**
 * Pareto-smoothed importance sampling of log-weights (ln p(x, z) - ln q(z) over draws of q): the
 * smoothed, normalised log-weights and the Pareto shape k. k < 0.5: the importance weights have
 * finite variance and q is close to the posterior; 0.5 to 0.7: usable; above 0.7: do not trust
 * q (nor importance sampling with it).
 */
export function psis(core: Core, logWeights: ArrayLike<number>): PsisResult {
  if (
    typeof logWeights !== "object" ||
    logWeights === null ||
    typeof (logWeights as { length?: unknown }).length !== "number"
  ) {
    throw badOption("logWeights", "an array of numbers", logWeights);
  }
  const n = logWeights.length;
  const x = new Float64Array(n);
  let finite = 0;
  for (let i = 0; i < n; i++) {
    const v = logWeights[i];
    if (typeof v !== "number" || Number.isNaN(v) || v === Infinity) {
      throw badOption(`logWeights[${i}]`, "a number < Infinity", v);
    }
    x[i] = v;
    if (v > -Infinity) finite++;
  }
  if (n < 5 || finite === 0) throw tooFewWeights(n);
  // Ascending order, ties by index: the same permutation in every engine.
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a]! - x[b]! || a - b);
  const m = 30 + Math.floor(Math.sqrt(n));
  const work = n + 3 * m + 1;
  // x, the order (i32, in n / 2 float64 slots rounded up), then the kernel's work.
  const orderSlots = (n + 1) >> 1;
  const ptr = allocate(core, (n + orderSlots + work) * 8);
  try {
    const at = ptr >> 3;
    core.f64().set(x, at);
    core.i32().set(order, (at + n) * 2);
    const k = core.k.psis_smooth(ptr, n, ptr + n * 8, ptr + (n + orderSlots) * 8);
    return { k, logWeights: core.f64().slice(at, at + n) };
  } finally {
    core.k.dealloc(ptr);
  }
}
