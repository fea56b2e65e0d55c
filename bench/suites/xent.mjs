// The cross-entropy suite: crossEntropyWithLogits with its gradient (class indices, mean over the
// rows, gradient into a preallocated buffer), batches 256x10 and 64x1000, float32 and float64.
// Contenders: the fused JavaScript loop (the baseline), klcore SIMD, klcore scalar, klcore SIMD with
// logits and gradient in wasm memory (zero-copy), and TF.js cpu and wasm (tf.valueAndGrad of
// tf.losses.softmaxCrossEntropy, loss and gradient read back with dataSync), and PyTorch CPU
// (F.cross_entropy and torch.autograd.grad) when a PyTorch child was started (options.torch).
//
// Before timing, each contender's loss and gradient are checked against a float64 reference.

import { createInstanceSync } from "../../dist/index.js";
import { loadTf, tfXentWithGrad, useBackend } from "../contenders/tfjs.mjs";
import { runWorkload } from "../harness.mjs";
import { arrayError, js, logitsAndLabels, mulberry32, reference } from "../reference/kernels.mjs";
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

export const SHAPES = [
  [256, 10],
  [64, 1000],
];
export const DTYPES = ["float32", "float64"];
export const SEED = 0x0c0ffee;
export const SIMD = "klcore SIMD";
export const SCALAR = "klcore scalar";
export const ZERO_COPY = "klcore SIMD, zero-copy";
export const TARGETS = { bigF32VsJs: 9, bigF32VsTfWasm: 10, smallF32VsJs: 3.5 };

/**
 * The gradient's tolerance per contender kind (max |g - ref| / max |ref|): float32 storage rounds
 * each entry, float64 keeps it.
 */
export const GRADIENT_TOLERANCE = {
  js: { float32: 1e-6, float64: 1e-12 },
  klcore: { float32: 1e-5, float64: 1e-10 },
  tfjs: { float32: 1e-4, float64: 1e-4 },
  torch: { float32: 1e-5, float64: 1e-10 },
};

/**
 * Runs the suite. Options: the harness's { samples, targetMs, warmupMs }; optionally shapes, dtypes,
 * tf, torch (PyTorch's contenders, suiteContenders()), log, extraContenders(context) (each { name, kind, fn,
 * gradient?() }, gradient's array or a promise of it; or a promise of the list). Returns { suite,
 * workloads, targets }.
 */
export async function xent(options) {
  const { samples, targetMs, warmupMs, log = () => {}, extraContenders, torch = null } = options;
  const shapes = options.shapes ?? SHAPES;
  const dtypes = options.dtypes ?? DTYPES;
  const tf = options.tf ?? (await loadTf("cpu"));
  const simd = createInstanceSync({ simd: true });
  const scalar = createInstanceSync({ simd: false });
  const rand = mulberry32(SEED);
  const workloads = [];

  for (const dtype of dtypes) {
    for (const [rows, c] of shapes) {
      const t0 = performance.now();
      const name = `crossEntropyWithLogits ${dtype} ${rows}x${c}`;
      const Arr = dtype === "float32" ? Float32Array : Float64Array;
      const n = rows * c;
      const { z, y } = logitsAndLabels(rand, rows, c, Arr);
      const jsGrad = new Arr(n);
      const kGrad = new Arr(n);
      const sGrad = new Arr(n);
      const jsFn = js.xent[dtype];
      // Options built once, as a training loop would: building them per call with a spread
      // ({ ...o, grad }) is measurable next to a small batch, and would be charged to klcore.
      const oSimd = { classes: c, grad: kGrad };
      const oScalar = { classes: c, grad: sGrad };
      // One copying call first: it grows the instance's scratch, which would detach a view taken before.
      simd.crossEntropyWithLogits(y, z, oSimd);
      const wz = simd.alloc(dtype, n);
      wz.array.set(z);
      const wg = simd.alloc(dtype, n);
      const oZero = { classes: c, grad: wg.array };
      const contenders = [
        { name: JS_NAME, kind: "js", fn: () => jsFn(z, y, rows, c, jsGrad), gradient: () => jsGrad },
        {
          name: SIMD,
          kind: "klcore",
          fn: () => simd.crossEntropyWithLogits(y, z, oSimd).loss,
          gradient: () => kGrad,
        },
        {
          name: SCALAR,
          kind: "klcore",
          fn: () => scalar.crossEntropyWithLogits(y, z, oScalar).loss,
          gradient: () => sGrad,
        },
        {
          name: ZERO_COPY,
          kind: "klcore",
          fn: () => simd.crossEntropyWithLogits(y, wz, oZero).loss,
          gradient: () => wg.array,
        },
      ];
      for (const [label, backend] of [
        [TF_CPU, "cpu"],
        [TF_WASM, "wasm"],
      ]) {
        await useBackend(tf, backend);
        const fn = tfXentWithGrad(tf, z, y, rows, c);
        contenders.push({
          name: label,
          kind: "tfjs",
          fn,
          gradient: fn.gradient,
          before: () => useBackend(tf, backend),
          dispose: fn.dispose,
        });
      }
      if (torch) contenders.push(await torch.xent(z, y, rows, c));
      contenders.push(...(await extra(extraContenders, { suite: "xent", dtype, rows, classes: c, z, y })));

      const ref = reference.xent(z, y, rows, c);
      const values = [];
      const gradientError = {};
      for (const k of contenders) {
        if (k.before) await k.before();
        values.push(await k.fn());
        if (k.gradient) {
          const err = arrayError(await k.gradient(), ref.grad);
          const tol = GRADIENT_TOLERANCE[k.kind]?.[dtype];
          if (tol !== undefined && !(err <= tol)) {
            throw new Error(`${name}: ${k.name}'s gradient is off by ${err} of its scale (tolerance ${tol})`);
          }
          gradientError[k.name] = err;
        }
      }
      const check = agree(name, dtype, contenders, values, ref.loss);
      const result = await runWorkload({
        name,
        contenders,
        baseline: JS_NAME,
        elements: n,
        reference: ref.loss,
        samples,
        targetMs,
        warmupMs,
      });
      const rowsOut = rowsOf(result, contenders).map((r) => ({
        ...r,
        gradientError: gradientError[r.contender] ?? null,
      }));
      workloads.push({
        dtype,
        rows,
        classes: c,
        reference: ref.loss,
        check,
        contenders: rowsOut,
        rounds: result.rounds,
      });
      await disposeAll(contenders);
      wz.free();
      wg.free();
      log(`  ${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
  }
  return { suite: "xent", settings: { seed: SEED, shapes, dtypes }, workloads, targets: targets(workloads) };
}

function targets(workloads) {
  const out = [];
  const at = (dtype, rows, c) =>
    workloads.find((w) => w.dtype === dtype && w.rows === rows && w.classes === c);
  const big = at("float32", 64, 1000);
  if (big) {
    const k = find(big.contenders, SIMD);
    const zc = find(big.contenders, ZERO_COPY);
    out.push(
      verdict({
        id: "xent-f32-64x1000-vs-js",
        description: "crossEntropyWithLogits + gradient float32 64x1000: klcore SIMD at least 9x the JS loop",
        workload: "crossEntropyWithLogits float32 64x1000",
        contender: SIMD,
        versus: JS_NAME,
        value: k.speedupVsJs.median,
        threshold: TARGETS.bigF32VsJs,
        zeroCopyValue: zc.speedupVsJs.median,
      }),
      verdict({
        id: "xent-f32-64x1000-vs-tfwasm",
        description: "crossEntropyWithLogits + gradient float32 64x1000: klcore SIMD at least 10x TF.js wasm",
        workload: "crossEntropyWithLogits float32 64x1000",
        contender: SIMD,
        versus: TF_WASM,
        value: k.speedupVsTfWasm.median,
        threshold: TARGETS.bigF32VsTfWasm,
        zeroCopyValue: zc.speedupVsTfWasm.median,
      }),
    );
  }
  for (const w of workloads) {
    const workload = `crossEntropyWithLogits ${w.dtype} ${w.rows}x${w.classes}`;
    out.push(
      ...torchVerdict(w.contenders, {
        id: `xent-${w.dtype === "float32" ? "f32" : "f64"}-${w.rows}x${w.classes}-vs-torch`,
        workload,
        contender: SIMD,
      }),
    );
  }
  const small = at("float32", 256, 10);
  if (small) {
    out.push(
      verdict({
        id: "xent-f32-256x10-vs-js",
        description:
          "crossEntropyWithLogits + gradient float32 256x10: klcore SIMD at least 3.5x the JS loop",
        workload: "crossEntropyWithLogits float32 256x10",
        contender: SIMD,
        versus: JS_NAME,
        value: find(small.contenders, SIMD).speedupVsJs.median,
        threshold: TARGETS.smallF32VsJs,
        zeroCopyValue: find(small.contenders, ZERO_COPY).speedupVsJs.median,
      }),
    );
  }
  return out;
}
