// What the suites share: contender tolerances, the agreement check, the speed-up figures of a
// harness result, and the target verdicts.

import { pairedRatio } from "../harness.mjs";
import { relativeError } from "../reference/kernels.mjs";

export const JS_NAME = "JS loop";
export const TF_CPU = "TF.js cpu";
export const TF_WASM = "TF.js wasm";

/**
 * How far each kind of contender may be from the float64 reference before the suite refuses to time
 * it (relative error of the value). "js": float64 arithmetic on the workload's inputs, plain sums;
 * "klcore": float32 workloads in float32 SIMD with float64 sums, float64 in float64; "ml-distance":
 * float64 arithmetic; "tfjs": float32 throughout (inputs rounded to float32, float32 sums);
 * "torch": PyTorch CPU on the workload's dtype, float32 workloads summed in float32 by its
 * reductions (cascaded and vectorised, no float64 accumulator: 1e-5 leaves room for n = 1e6), float64
 * in float64.
 */
export const TOLERANCE = {
  js: { float32: 1e-9, float64: 1e-9 },
  klcore: { float32: 1e-6, float64: 1e-10 },
  "ml-distance": { float32: 1e-9, float64: 1e-9 },
  tfjs: { float32: 1e-3, float64: 1e-3 },
  torch: { float32: 1e-5, float64: 1e-10 },
};

/**
 * Checks every contender's value against the reference, within the tolerance of its kind. Known-wrong
 * contenders are not checked but must show their failure: known "nan" must give NaN. Throws on the
 * first mismatch, naming the contender. Returns { [name]: { value, relativeError, tolerance } }.
 */
export function agree(workload, dtype, contenders, values, reference, tolerance = TOLERANCE) {
  const out = {};
  contenders.forEach((c, i) => {
    const value = values[i];
    const rel = relativeError(value, reference);
    if (c.known === "nan") {
      if (!Number.isNaN(value))
        throw new Error(`${workload}: ${c.name} was expected to give NaN, gave ${value}`);
      out[c.name] = { value, relativeError: rel, tolerance: null };
      return;
    }
    if (c.known) {
      out[c.name] = { value, relativeError: rel, tolerance: null };
      return;
    }
    const tol = tolerance[c.kind]?.[dtype];
    if (tol === undefined) throw new Error(`${workload}: ${c.name} has no tolerance for kind ${c.kind}`);
    if (!(rel <= tol)) {
      throw new Error(
        `${workload}: ${c.name} gave ${value}, the float64 reference ${reference} ` +
          `(relative error ${rel}, tolerance ${tol}): refusing to time a contender that computes something else`,
      );
    }
    out[c.name] = { value, relativeError: rel, tolerance: tol };
  });
  return out;
}

/**
 * The per-contender rows of a harness result: times, speed-up over the JS baseline, and over TF.js
 * wasm when it ran (time(TF.js wasm) / time(contender), the median of same-round ratios).
 */
export function rowsOf(result, contenders) {
  const hasTf = result.contenders.some((c) => c.name === TF_WASM);
  const torch = contenders.find((c) => c.kind === "torch")?.name;
  return result.contenders.map((r, i) => {
    const c = contenders[i];
    return {
      contender: r.name,
      kind: c.kind,
      known: c.known ?? null,
      note: c.note ?? null,
      repsPerSample: r.reps,
      value: r.value,
      relativeError: r.relativeError,
      nsPerCall: r.nsPerCall,
      nsPerElement: r.nsPerElement,
      speedupVsJs: r.speedup,
      speedupVsJsOfMinimums: r.speedupOfMinimums,
      speedupVsTfWasm: hasTf ? pairedRatio(result, TF_WASM, r.name) : null,
      // time(PyTorch) / time(contender), same rounds: > 1 = the contender is ahead of PyTorch CPU.
      speedupVsTorch: torch ? pairedRatio(result, torch, r.name) : null,
      samplesNs: r.samplesNs,
    };
  });
}

/**
 * A verdict on one target. kind "speedup": value >= threshold is met, and a miss gives the shortfall
 * (1 - value / threshold, e.g. 0.12 = 12% short); kind "at most": value <= threshold.
 */
export function verdict({ id, description, value, threshold, atMost = false, ...extra }) {
  const met = atMost ? value <= threshold : value >= threshold;
  const shortfall = met ? 0 : atMost ? value / threshold - 1 : 1 - value / threshold;
  return { id, description, value, threshold, atMost, met, shortfall, ...extra };
}

/** A contender row by name in a list of workload rows. */
export const find = (rows, name) => rows.find((r) => r.contender === name);

/** Disposes what a contender holds (TF.js tensors, WasmArrays, a workload in the PyTorch child). */
export async function disposeAll(contenders) {
  for (const c of contenders) await c.dispose?.();
}

/**
 * The contenders extraContenders(context) adds to a workload: it may be asynchronous (a PyTorch
 * workload is set up in its child process before it can be timed).
 */
export async function extra(extraContenders, context) {
  return extraContenders ? await extraContenders(context) : [];
}

/**
 * The verdict "klcore ahead of PyTorch CPU" on one workload (time(PyTorch) / time(klcore) >= 1),
 * or nothing when PyTorch did not run there.
 */
export function torchVerdict(rows, { id, workload, contender }) {
  const k = find(rows, contender);
  const t = rows.find((r) => r.kind === "torch");
  if (!k || !t) return [];
  return [
    verdict({
      id,
      description: `${workload}: ${contender} ahead of ${t.contender}`,
      workload,
      contender,
      versus: t.contender,
      value: k.speedupVsTorch.median,
      threshold: 1,
    }),
  ];
}
