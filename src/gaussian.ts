// gaussianKL: mirrors assembly/gaussian.ts. Checks shapes and options once, runs the fused kernel
// through the elementwise chunk loop, and names the first bad element it flagged.

import type { Core } from "./wasm/loader.js";
import type { FloatArray, Scratch } from "./wasm/memory.js";
import { checkPair, elementAt, outputArray, resolve, type NumericInput, type Resolved } from "./input.js";
import { flag, optionsOf, reductionOf, rowLength, type LossResult, type Reduction } from "./options.js";
import { runElementwise } from "./elementwise.js";
import { badOption, emptyInput, notFiniteAt, notGaussian } from "./errors.js";

/** A diagonal Gaussian: per-dimension means and natural logs of the variances. */
export interface Gaussian {
  mean: NumericInput;
  logVar: NumericInput;
}

/** Derivatives w.r.t. one Gaussian's parameters, each of the inputs' precision. */
export interface GaussianGrad<A extends FloatArray = FloatArray> {
  mean: A;
  logVar: A;
}

/** The gradient of gaussianKL: p's part, and q's when q was given. */
export interface GaussianKLGrad<A extends FloatArray = FloatArray> {
  p: GaussianGrad<A>;
  q?: GaussianGrad<A>;
}

export interface GaussianKLOptions {
  /** Row length: a row's KL is the sum over its dimensions. Default: the whole length (one row). */
  dims?: number;
  /** 'mean' over rows (default), 'sum', 'none' (one value per row), 'batchmean' (= 'mean'). */
  reduction?: Reduction;
  /**
   * true, or output buffers of the inputs' precision `{ p: { mean, logVar }, q: { mean, logVar } }`
   * (q's only when q is given): also return the gradient.
   */
  grad?: boolean | GaussianKLGrad;
  /** Check that every mean and log-variance is finite (default true). */
  validate?: boolean;
}

const OPTIONS = ["dims", "reduction", "grad", "validate"] as const;

const isRecord = (x: unknown): x is Record<string, unknown> =>
  typeof x === "object" && x !== null && !Array.isArray(x) && !ArrayBuffer.isView(x);

/** The two arrays of a Gaussian argument, resolved and checked against each other. */
function gaussianOf(core: Core, name: string, g: unknown): [Resolved, Resolved] {
  if (!isRecord(g) || g.mean === undefined || g.logVar === undefined) throw notGaussian(name, g);
  const mean = resolve(core, `${name}.mean`, g.mean);
  const logVar = resolve(core, `${name}.logVar`, g.logVar);
  checkPair(mean, logVar);
  return [mean, logVar];
}

/** The gradient outputs in kernel order (p.mean, p.logVar[, q.mean, q.logVar]), checked or new. */
function gradOutputsOf(given: unknown, p: Resolved, withQ: boolean): FloatArray[] {
  const { dtype, length: n } = p;
  if (given === true) {
    return Array.from({ length: withQ ? 4 : 2 }, () => outputArray("grad", dtype, n, true));
  }
  const shape = withQ
    ? "true, false, or { p: { mean, logVar }, q: { mean, logVar } } of output arrays"
    : "true, false, or { p: { mean, logVar } } of output arrays (q is the standard normal)";
  if (!isRecord(given) || !isRecord(given.p) || (withQ ? !isRecord(given.q) : given.q !== undefined)) {
    throw badOption("grad", shape, given);
  }
  const parts: [string, Record<string, unknown>][] = [["p", given.p]];
  if (withQ) parts.push(["q", given.q as Record<string, unknown>]);
  return parts.flatMap(([name, part]) =>
    (["mean", "logVar"] as const).map((key) =>
      outputArray(`grad.${name}.${key}`, dtype, n, part[key] ?? null),
    ),
  );
}

/** KL(N(p) || N(q)) of diagonal Gaussians per row of `dims`; q absent: the standard normal. */
export function gaussianKL(
  core: Core,
  scratch: Scratch,
  pIn: Gaussian,
  qIn: Gaussian | null | undefined,
  options: unknown,
): LossResult<number | Float64Array, GaussianKLGrad> {
  const o = optionsOf("gaussianKL", options, OPTIONS);
  const reduction = reductionOf(o.reduction);
  const validate = flag("validate", o.validate, true);
  const [mp, lvp] = gaussianOf(core, "p", pIn);
  const q = qIn === null || qIn === undefined ? null : gaussianOf(core, "q", qIn);
  if (q) checkPair(mp, q[0]);
  const n = mp.length;
  if (n === 0) throw emptyInput("p.mean");
  const cols = rowLength("dims", o.dims, n);
  const wantGrad = o.grad ?? false;
  const grads = wantGrad === false ? [] : gradOutputsOf(wantGrad, mp, q !== null);
  const kernel = mp.dtype === "float32" ? core.k.gaussian_kl_f32 : core.k.gaussian_kl_f64;
  const inputs = [mp, lvp, q?.[0] ?? null, q?.[1] ?? null];
  const names = ["p.mean", "p.logVar", "q.mean", "q.logVar"];

  const result = runElementwise(core, scratch, {
    dtype: mp.dtype,
    length: n,
    cols,
    reduction,
    validate,
    inputs,
    grads,
    kernel: ([a, la, b, lb], g, terms, count, gscale, st) =>
      kernel(a!, la!, b!, lb!, g[0] ?? 0, g[1] ?? 0, g[2] ?? 0, g[3] ?? 0, terms, count, gscale, st),
    describe: (from, count) => {
      for (let i = from; i < from + count; i++) {
        for (let j = 0; j < inputs.length; j++) {
          const r = inputs[j];
          if (!r) continue;
          const v = elementAt(core, r, i);
          if (!Number.isFinite(v)) return notFiniteAt(names[j]!, i, Math.floor(i / cols), v);
        }
      }
      // Unreachable while the kernel and this check agree; keep a message rather than crash.
      return notFiniteAt("p.mean", from, Math.floor(from / cols), elementAt(core, mp, from));
    },
  });
  if (wantGrad === false) return { loss: result.loss };
  const [gmp, glvp, gmq, glvq] = result.grads;
  const grad: GaussianKLGrad = { p: { mean: gmp!, logVar: glvp! } };
  if (q) grad.q = { mean: gmq!, logVar: glvq! };
  return { loss: result.loss, grad };
}
