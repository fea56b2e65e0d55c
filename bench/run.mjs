// The benchmark runner: every suite in one process (divergences, crossEntropyWithLogits with its
// gradient, one training epoch, fit's cost over the loop by hand, variational inference, fit in worker
// threads), klcore against the JavaScript loops, TF.js
// (cpu and wasm), ml-distance and, when `python3 -c "import torch"` works, PyTorch CPU in a child
// process whose samples take their turn in the same round-robin. Prints a markdown report and, on
// full runs, writes bench/results/latest.md and latest.json (every number, every sample, the
// machine and the target verdicts).
//
// Usage: npm run bench                        (builds first)
//        node bench/run.mjs [--quick] [--suite divergences,xent,train,fit,vi,workers]
// --quick (or BENCH_QUICK=1): a smoke run, few short samples and a small training set, writes nothing.
// BENCH_SAMPLES, BENCH_TARGET_MS, BENCH_WARMUP_MS, BENCH_TRAIN_SAMPLES override the settings;
// BENCH_TORCH=0 leaves PyTorch out, BENCH_TORCH_THREADS sets its thread count (default 1).

import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadTf, wasmBinary, useBackend } from "./contenders/tfjs.mjs";
import { startTorch, suiteContenders, torchAvailable } from "./contenders/torch.mjs";
import { runSettings, sink, sinkNonFinite, suiteOptions } from "./harness.mjs";
import { machine, mlDistanceVersion } from "./machine.mjs";
import { markdown } from "./report.mjs";
import { divergences } from "./suites/divergences.mjs";
import { fitOverhead } from "./suites/fit.mjs";
import { train } from "./suites/train.mjs";
import { vi } from "./suites/vi.mjs";
import { workers } from "./suites/workers.mjs";
import { xent } from "./suites/xent.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const SUITES = { divergences, xent, train, fit: fitOverhead, vi, workers };

const settings = runSettings(process.argv.slice(2), process.env);
const { trainSamples, suites: selected, torch: withTorch, torchThreads, ...opts } = settings;
const info = machine();
const started = performance.now();
const log = (line) => console.error(line);

const tf = await loadTf("wasm");
const binary = await wasmBinary(tf);
await useBackend(tf, "cpu");

// PyTorch is optional: without it its rows are skipped, with the reason in the report.
const available = withTorch ? torchAvailable() : { ok: false, reason: "BENCH_TORCH=0" };
const child = available.ok ? await startTorch({ threads: torchThreads }) : null;
const torch = child ? suiteContenders(child) : null;
if (!child) log(`PyTorch contenders skipped: ${available.reason}`);
else log(`PyTorch ${child.info.torch}, torch.get_num_threads() = ${child.info.threads}`);

const peers = {
  tfjs: tf.version.tfjs,
  tfjsWasmBinary: binary.file,
  tfjsWasmSimd: binary.simd,
  tfjsWasmThreads: binary.threads,
  mlDistance: mlDistanceVersion(),
  klcoreThreads: 1,
  torch: child
    ? {
        version: child.info.torch,
        threads: child.info.threads,
        interopThreads: child.info.interopThreads,
        threadsAsked: torchThreads,
        python: child.info.python,
        numpy: child.info.numpy,
        parallel: child.info.parallel,
        blas: child.info.blas,
      }
    : { skipped: available.reason },
};

const suites = {};
try {
  for (const name of selected) {
    const t0 = performance.now();
    log(`${name}:`);
    suites[name] = await SUITES[name]({ ...suiteOptions(name, settings), tf, torch, log });
    suites[name].durationSeconds = (performance.now() - t0) / 1000;
  }
} finally {
  if (child) await child.close();
}
const total = sink();
if (!Number.isFinite(total)) throw new Error(`the result sink is not finite: ${total}`);
info.loadAverageAtEnd = os.loadavg();

const run = {
  machine: info,
  settings: { ...opts, trainSamples, suites: selected, torch: withTorch, torchThreads },
  peers,
  durationSeconds: (performance.now() - started) / 1000,
  targets: selected.flatMap((name) => suites[name].targets),
  suites,
  sink: { sum: total, nonFinite: sinkNonFinite() },
};
const md = markdown(run);
process.stdout.write(md);
console.log(
  `\n(sink ${total.toPrecision(6)}, ${sinkNonFinite()} NaN values left out; ${run.durationSeconds.toFixed(1)} s)`,
);

if (opts.quick) {
  console.log("Quick run: bench/results/ left unchanged.");
} else {
  const out = join(here, "results");
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "latest.md"), md);
  writeFileSync(join(out, "latest.json"), JSON.stringify(run, null, 1) + "\n");
  console.log("Wrote bench/results/latest.md and bench/results/latest.json.");
}
