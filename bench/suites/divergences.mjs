// The divergence suite: kl, entropy and jsDivergence on float32 and float64 inputs of n = 1e3, 1e5
// and 1e6 elements. Contenders, side by side in one process: the JavaScript loop (the baseline),
// klcore SIMD, klcore scalar, klcore SIMD on WasmArray inputs (zero-copy), TF.js on its cpu and wasm
// backends (tf ops with a `where` mask for p = 0 terms), TF.js's built-in KL (kl only: it clips p and q
// to [1e-7, 1] inside the log) and ml-distance (kl and jsDivergence: NaN when p or q has a zero, as
// the inputs here do). kl also runs klcore with { validate: false }, for the validation overhead,
// and PyTorch CPU (F.kl_div, sum) when a PyTorch child was started (options.torch).
//
// Before timing, every contender's value is checked against a float64 reference (bench/reference/
// kernels.mjs) within the tolerance of its kind (suites/common.mjs); a contender that computes
// something else stops the run. The known-wrong ones are not checked, only reported (and ml-distance
// must give its NaN).

import { createInstanceSync } from "../../dist/index.js";
import { mlJs, mlKl } from "../contenders/mldistance.mjs";
import { loadTf, tfEntropy, tfJsDivergence, tfKl, tfKlBuiltin, useBackend } from "../contenders/tfjs.mjs";
import { pairedRatio, runWorkload } from "../harness.mjs";
import { distribution, js, mulberry32, reference } from "../reference/kernels.mjs";
import {
  JS_NAME,
  TF_CPU,
  TF_WASM,
  agree,
  disposeAll,
  extra,
  find,
  rowsOf,
  torchVerdict,
  verdict,
} from "./common.mjs";

export const KERNELS = ["kl", "entropy", "jsDivergence"];
export const SIZES = [1e3, 1e5, 1e6];
export const DTYPES = ["float32", "float64"];
export const SEED = 0x5eed1234;
export const ZERO_FRACTION = 0.1;

export const SIMD = "klcore SIMD";
export const SCALAR = "klcore scalar";
export const ZERO_COPY = "klcore SIMD, zero-copy";
export const SIMD_NOVALIDATE = "klcore SIMD, validate: false";
export const ZERO_COPY_NOVALIDATE = "klcore SIMD, zero-copy, validate: false";
export const TF_BUILTIN = "TF.js wasm, built-in KL";
export const ML = "ml-distance";

const NO_VALIDATE = { validate: false };
const TF_FACTORIES = { kl: tfKl, entropy: tfEntropy, jsDivergence: tfJsDivergence };
const ML_FACTORIES = { kl: mlKl, jsDivergence: mlJs };

/** The targets this suite checks (issue and earlier spec). */
export const TARGETS = {
  klF32VsJs: 9,
  klF32VsTfWasm: 10,
  klF64VsJs: 2.5,
  validationOverhead: 1.1,
};

/** One workload's contenders, in the order the harness rotates through them. */
async function contendersFor(tf, torch, { kernel, dtype, p, q, wp, wq, simd, scalar }) {
  const pair = kernel !== "entropy";
  const jsFn = js[kernel][dtype];
  const call = (inst, a, b, o) => (pair ? () => inst[kernel](a, b, o) : () => inst[kernel](a, o));
  const list = [
    { name: JS_NAME, kind: "js", fn: pair ? () => jsFn(p, q) : () => jsFn(p) },
    { name: SIMD, kind: "klcore", fn: call(simd, p, q) },
    { name: SCALAR, kind: "klcore", fn: call(scalar, p, q) },
    { name: ZERO_COPY, kind: "klcore", fn: call(simd, wp, wq) },
  ];
  if (kernel === "kl") {
    list.push(
      { name: SIMD_NOVALIDATE, kind: "klcore", fn: call(simd, p, q, NO_VALIDATE) },
      { name: ZERO_COPY_NOVALIDATE, kind: "klcore", fn: call(simd, wp, wq, NO_VALIDATE) },
    );
  }
  for (const [name, backend] of [
    [TF_CPU, "cpu"],
    [TF_WASM, "wasm"],
  ]) {
    await useBackend(tf, backend);
    const fn = TF_FACTORIES[kernel](tf, p, q);
    list.push({ name, kind: "tfjs", fn, before: () => useBackend(tf, backend), dispose: fn.dispose });
  }
  if (kernel === "kl") {
    await useBackend(tf, "wasm");
    const fn = tfKlBuiltin(tf, p, q);
    list.push({
      name: TF_BUILTIN,
      kind: "tfjs",
      known: "clips",
      note: "clips p and q to [1e-7, 1] inside the log",
      fn,
      before: () => useBackend(tf, "wasm"),
      dispose: fn.dispose,
    });
  }
  if (kernel === "kl" && torch) list.push(await torch.kl(p, q));
  if (ML_FACTORIES[kernel]) {
    const zeros = p.some((v) => v === 0) || (kernel === "jsDivergence" && q.some((v) => v === 0));
    list.push({
      name: ML,
      kind: "ml-distance",
      fn: ML_FACTORIES[kernel](p, q),
      ...(zeros ? { known: "nan", note: "NaN: a zero in p gives 0 * ln 0" } : {}),
    });
  }
  return list;
}

/**
 * Runs the suite. Options: the harness's { samples, targetMs, warmupMs }; optionally kernels, sizes,
 * dtypes (subsets), tf (a loaded TF.js), torch (PyTorch's contenders, suiteContenders() of
 * contenders/torch.mjs; absent, none), log (progress lines), extraContenders(context) (more contenders for a
 * workload, or a promise of them: the tests add a broken one). Returns { suite, workloads, targets }.
 */
export async function divergences(options) {
  const { samples, targetMs, warmupMs, log = () => {}, extraContenders, torch = null } = options;
  const kernels = options.kernels ?? KERNELS;
  const sizes = options.sizes ?? SIZES;
  const dtypes = options.dtypes ?? DTYPES;
  const tf = options.tf ?? (await loadTf("cpu"));
  const simd = createInstanceSync({ simd: true });
  const scalar = createInstanceSync({ simd: false });
  if (!simd.backend().simd || scalar.backend().simd)
    throw new Error("expected one SIMD and one scalar instance");

  const rand = mulberry32(SEED);
  const workloads = [];
  for (const dtype of dtypes) {
    for (const n of sizes) {
      const Arr = dtype === "float32" ? Float32Array : Float64Array;
      const p = Arr.from(distribution(rand, n, ZERO_FRACTION));
      const q = Arr.from(distribution(rand, n, 0));
      // Zero-copy inputs: allocated and filled once (the instance re-derives views after growth).
      const wp = simd.alloc(dtype, n);
      const wq = simd.alloc(dtype, n);
      wp.array.set(p);
      wq.array.set(q);
      const zeros = p.filter((v) => v === 0).length;
      for (const kernel of kernels) {
        const t0 = performance.now();
        const name = `${kernel} ${dtype} n=${n}`;
        const contenders = await contendersFor(tf, torch, { kernel, dtype, p, q, wp, wq, simd, scalar });
        contenders.push(...(await extra(extraContenders, { suite: "divergences", kernel, dtype, n, p, q })));
        const ref = kernel === "entropy" ? reference.entropy(p) : reference[kernel](p, q);
        const values = [];
        for (const c of contenders) {
          if (c.before) await c.before();
          values.push(await c.fn());
        }
        const check = agree(name, dtype, contenders, values, ref);
        const result = await runWorkload({
          name,
          contenders,
          baseline: JS_NAME,
          elements: n,
          reference: ref,
          samples,
          targetMs,
          warmupMs,
        });
        const workload = {
          kernel,
          dtype,
          n,
          zerosInP: zeros,
          reference: ref,
          check,
          contenders: rowsOf(result, contenders),
        };
        if (kernel === "kl") {
          workload.validationOverhead = {
            simd: pairedRatio(result, SIMD, SIMD_NOVALIDATE),
            zeroCopy: pairedRatio(result, ZERO_COPY, ZERO_COPY_NOVALIDATE),
          };
          workload.zeroCopyGain = {
            validated: pairedRatio(result, SIMD, ZERO_COPY),
            unvalidated: pairedRatio(result, SIMD_NOVALIDATE, ZERO_COPY_NOVALIDATE),
          };
        }
        workload.rounds = result.rounds;
        workloads.push(workload);
        await disposeAll(contenders);
        log(`  ${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      }
      wp.free();
      wq.free();
    }
  }
  return {
    suite: "divergences",
    settings: { seed: SEED, zeroFraction: ZERO_FRACTION, kernels, sizes, dtypes },
    workloads,
    targets: targets(workloads),
  };
}

function targets(workloads) {
  const out = [];
  const at = (kernel, dtype, n) =>
    workloads.find((w) => w.kernel === kernel && w.dtype === dtype && w.n === n);
  const f32 = at("kl", "float32", 1e6);
  if (f32) {
    const simd = find(f32.contenders, SIMD);
    const zc = find(f32.contenders, ZERO_COPY);
    out.push(
      verdict({
        id: "kl-f32-1e6-vs-js",
        description: "kl float32 n=1e6: klcore SIMD at least 9x the JS loop",
        workload: "kl float32 n=1e6",
        contender: SIMD,
        versus: JS_NAME,
        value: simd.speedupVsJs.median,
        threshold: TARGETS.klF32VsJs,
        zeroCopyValue: zc.speedupVsJs.median,
      }),
      verdict({
        id: "kl-f32-1e6-vs-tfwasm",
        description: "kl float32 n=1e6: klcore SIMD at least 10x TF.js wasm",
        workload: "kl float32 n=1e6",
        contender: SIMD,
        versus: TF_WASM,
        value: simd.speedupVsTfWasm.median,
        threshold: TARGETS.klF32VsTfWasm,
        zeroCopyValue: zc.speedupVsTfWasm.median,
      }),
      ...torchVerdict(f32.contenders, {
        id: "kl-f32-1e6-vs-torch",
        workload: "kl float32 n=1e6",
        contender: SIMD,
      }),
    );
  }
  const f64 = at("kl", "float64", 1e6);
  if (f64) {
    out.push(
      verdict({
        id: "kl-f64-1e6-vs-js",
        description: "kl float64 n=1e6: klcore SIMD at least 2.5x the JS loop",
        workload: "kl float64 n=1e6",
        contender: SIMD,
        versus: JS_NAME,
        value: find(f64.contenders, SIMD).speedupVsJs.median,
        threshold: TARGETS.klF64VsJs,
        zeroCopyValue: find(f64.contenders, ZERO_COPY).speedupVsJs.median,
      }),
      ...torchVerdict(f64.contenders, {
        id: "kl-f64-1e6-vs-torch",
        workload: "kl float64 n=1e6",
        contender: SIMD,
      }),
    );
  }
  const kl = workloads.filter((w) => w.kernel === "kl");
  if (kl.length > 0) {
    const worst = kl.reduce((a, b) =>
      b.validationOverhead.simd.median > a.validationOverhead.simd.median ? b : a,
    );
    out.push(
      verdict({
        id: "kl-validation-overhead",
        description: "kl: validation overhead of klcore SIMD at most 10% at every size",
        workload: `kl ${worst.dtype} n=${worst.n}`,
        contender: SIMD,
        versus: SIMD_NOVALIDATE,
        value: worst.validationOverhead.simd.median,
        threshold: TARGETS.validationOverhead,
        atMost: true,
        failing: kl
          .filter((w) => !(w.validationOverhead.simd.median <= TARGETS.validationOverhead))
          .map((w) => `${w.dtype} n=${w.n}`),
      }),
    );
  }
  return out;
}
